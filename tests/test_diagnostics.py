"""The decomposition of a segmentation's error into its change points and its clustering."""

import dataclasses

import numpy as np
import pytest

from seq2seq_jax import diagnostics, metrics
from seq2seq_jax.segmentation.config import SegmentConfig


def test_majority_labels_give_each_piece_its_most_frequent_class():
    true = np.array([0, 0, 0, 1, 1, 1, 1, 2, 2])
    pieces = np.array([0, 0, 1, 1, 1, 1, 2, 2, 2])
    np.testing.assert_array_equal(diagnostics.majority_labels(true, pieces), [0, 0, 1, 1, 1, 1, 2, 2, 2])


def test_decompose_separates_cut_errors_from_clustering_errors():
    """Three regimes: A (still near 0), B (still at 3) and C (oscillating around A's mean): the change points
    find every boundary; clustering the true segments by their means confuses A and C, by their spread A and B,
    by both none."""
    rng = np.random.default_rng(0)
    fps, n = 30.0, 300
    t = np.arange(n)

    def a():
        return rng.uniform(-0.2, 0.2, size=2) + 0.05 * rng.normal(size=(n, 2))

    def b():
        return 3.0 + 0.05 * rng.normal(size=(n, 2))

    def c():
        ph = rng.uniform(0, 2 * np.pi)
        wave = np.stack([np.sin(2 * np.pi * t / 15 + ph), np.cos(2 * np.pi * t / 15 + ph)], 1)
        return rng.uniform(-0.2, 0.2, size=2) + 2.0 * wave

    x = np.concatenate([a(), b(), c(), a(), b(), c()])
    y = np.repeat([0, 1, 2, 0, 1, 2], n)
    cuts = [n * i for i in range(1, 6)]
    windows = metrics.windows_around(cuts, int(fps))
    cfg = SegmentConfig(frames_weight=0.0, pca_var=2, linkage="ward")
    d = diagnostics.decompose(x, x, y, 3, fps, windows, cfg)
    assert d["true_cuts"] == 5 and d["cuts"] >= 5
    assert d["cuts_true_labels"]["ari"] > 0.95  # every true boundary among the change points
    clustered = {s: d["true_cuts_clustered"][s]["ari"] for s in ("mean", "std", "mean_std")}
    assert clustered["mean_std"] == 1.0  # where it sits and how it moves: the three regimes
    assert clustered["mean"] < 0.7 and clustered["std"] < 0.7  # A and C share a mean, A and B a spread
    assert d["cuts_clustered"]["mean"]["ari"] == d["pipeline"]["ari"]  # cfg's descriptor on our cuts: the pipeline
    from seq2seq_jax import segmentation

    alone = segmentation.segment_embedding(x, 3, fps, cfg, frames_TxD=x)  # ... as the pipeline segments it alone
    assert d["pipeline"]["ari"] == metrics.all_metrics(y, alone, windows)["ari"]
    assert d["cuts_clustered"]["mean_std"]["ari"] > 0.95
    assert set(d["cuts_clustered"]) == set(clustered) | {"motion", "spectrum"}  # every descriptor, the input's too
    frames_view = diagnostics.decompose(None, x, y, 3, fps, windows, cfg)
    assert frames_view["cuts_true_labels"]["ari"] > 0.95
    with_embedding = {"frames_cuts", "frames_cuts_true_labels", "frames_cuts_clustered", "spurious_also_in_frames"}
    assert set(frames_view) == set(d) - with_embedding


def _crossed(seed):
    """Four segments of 150 frames at 30 fps: the states change at every boundary and tell classes 0 1 0 1 apart,
    the frames change only at the middle one (0 0 1 1). (states, frames, classes, boundary windows, fps)"""
    rng = np.random.default_rng(seed)
    lens, fps = [150] * 4, 30.0
    states = np.concatenate([np.r_[3.0 * c, 0, 0] + rng.normal(0, 0.3, (n, 3)) for c, n in zip([0, 1, 0, 1], lens)])
    frames = np.concatenate([np.r_[0, 3.0 * c, 0] + rng.normal(0, 0.3, (n, 3)) for c, n in zip([0, 0, 1, 1], lens)])
    y = np.repeat([0, 1, 0, 1], lens)
    windows = metrics.windows_around([150, 300, 450], int(fps))
    return states, frames, y, windows, fps


def test_true_cuts_are_clustered_by_the_features_the_pipeline_clusters_by():
    """With frames_in_clustering False the pipeline clusters by the embedding alone; the clustering's ceiling must
    too: states that tell the classes apart, frames (weighted 3x) that group the segments the other way."""
    import dataclasses

    states, frames, y, windows, fps = _crossed(1)
    both = SegmentConfig(linkage="ward_whitened", frames_weight=3.0, min_segments_over_k=0)
    only = dataclasses.replace(both, frames_in_clustering=False)
    d = diagnostics.decompose(states, frames, y, 2, fps, windows, only)
    assert d["true_cuts_clustered"]["mean"]["ari"] == 1.0 and d["pipeline"]["ari"] > 0.95
    assert diagnostics.decompose(states, frames, y, 2, fps, windows, both)["true_cuts_clustered"]["mean"]["ari"] < 0.5
    # a pipeline that clusters the samples themselves (chamfer) is compared with the spread descriptors under average
    # linkage, as whitened Ward is, instead of failing on a linkage that takes no descriptor
    d = diagnostics.decompose(states, frames, y, 2, fps, windows, dataclasses.replace(only, linkage="chamfer"))
    assert set(d["true_cuts_clustered"]) == set(d["cuts_clustered"]) and d["true_cuts_clustered"]["mean"]["ari"] == 1.0


def test_frames_cuts_are_the_frames_own_change_points_clustered_by_the_embedding():
    """States that change at 150, 300 and 450 frames, frames that change only at 300: the frames' own change points
    miss two boundaries, which our (joined) change points find; the pieces are still clustered by the states."""
    states, frames, y, windows, fps = _crossed(2)
    cfg = SegmentConfig(linkage="ward_whitened", frames_weight=0.3, min_segments_over_k=0, frames_in_clustering=False)
    d = diagnostics.decompose(states, frames, y, 2, fps, windows, cfg)
    assert d["cuts_true_labels"]["ari"] > 0.95 and d["frames_cuts_true_labels"]["ari"] < 0.5
    assert d["frames_cuts"] >= 1 and d["frames_cuts_true_labels"]["boundary_f1"] < d["cuts_true_labels"]["boundary_f1"]
    assert set(d["frames_cuts_clustered"]) == set(d["cuts_clustered"])
    assert d["frames_cuts_clustered"]["mean"]["ari"] < 0.5 < d["cuts_clustered"]["mean"]["ari"]
    assert "frames_cuts" not in diagnostics.decompose(None, frames, y, 2, fps, windows, cfg)


def test_ensemble_views_measure_how_much_the_models_agree_in_each_view():
    """Three "models" of one recording: twelve segments at three distinct means (classes 0 1 2 0 1 2 ...), white noise
    around its mean, of a spread each model draws for each segment. Where a segment sits is the same in every
    model, how it moves is each model's own: the models agree in the mean view and not in the motion view, which the
    agreement (no labels used) says, and the pipeline's consensus is the one reported."""
    import dataclasses

    from seq2seq_jax import embed, segmentation

    fps, n = 30.0, 120
    y = np.repeat([0, 1, 2] * 4, n)
    means = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 3.0]])[y]

    def model(seed):
        rng = np.random.default_rng(seed)
        x = means + np.repeat(rng.uniform(0.05, 0.5, 12), n)[:, None] * rng.normal(size=means.shape)
        return embed.Embedding(x.astype(np.float32), np.zeros(len(x)), np.ones(len(x), bool), None, None, None)

    embs = [model(s) for s in range(3)]
    windows = metrics.windows_around([n * i for i in range(1, 12)], int(fps))
    cfg = SegmentConfig(frames_weight=0.0, pca_var=2, linkage="ward_whitened", motion_votes=True)
    d = diagnostics.ensemble_views(embs, means, y, 3, fps, windows, cfg)
    assert set(d["views"]) == {"mean", "motion"}
    assert d["views"]["mean"]["agreement"] > 0.95 and d["views"]["mean"]["consensus"]["ari"] > 0.95
    assert d["views"]["motion"]["agreement"] < 0.6 and np.mean(d["views"]["motion"]["models"]) < 0.6
    assert d["by_agreement"] == "mean"
    # a third view (chamfer_votes) is reported under its own name, with the three models' labels of that view alone
    third = diagnostics.ensemble_views(embs, means, y, 3, fps, windows, dataclasses.replace(cfg, chamfer_votes=True))
    assert set(third["views"]) == {"mean", "motion", "chamfer"} and len(third["views"]["chamfer"]["models"]) == 3
    pipeline = segmentation.segment_ensemble(embs, 3, fps, cfg, frames_TxD=means)
    assert d["consensus"]["ari"] == metrics.all_metrics(y, pipeline, windows)["ari"]
    # per true piece (the runs of the truth), the class each voter gives it: the mean view puts the pieces of one
    # class together; the pipeline's shares are its labels'
    pieces = d["pieces"]
    assert pieces["cuts"] == [n * i for i in range(1, 12)] and pieces["true"] == [0, 1, 2] * 4
    mean0 = [int(np.argmax(sh)) for sh in pieces["shares"]["model0_mean"]]
    assert len(set(mean0[:3])) == 3 and mean0 == mean0[:3] * 4
    assert pieces["shares"]["pipeline"] == diagnostics.piece_shares(pipeline, pieces["cuts"], 3)
    halves = diagnostics.ensemble_views(embs, means, y, 3, fps, windows, cfg, pieces_T=[6 * n])["pieces"]
    assert halves["cuts"] == [6 * n] and halves["true"] == [0, 0]  # pieces where the caller says, not the runs
    assert all(np.allclose(sorted(sh), [1 / 3] * 3, atol=0.05) for sh in halves["shares"]["model0_mean"])
    assert diagnostics.piece_shares([0, 0, 1, 1, 1, 2], [2, 5], 3) == [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
    assert diagnostics.piece_shares([0, 1, 1, 0], [1], 2) == [[1, 0], [1 / 3, 2 / 3]]
    # every voter of the median consensus, the frames' two among them, scored alone; which one it took
    cfg_m = dataclasses.replace(cfg, frames_votes=True, consensus="median")
    frames = means + 0.2 * np.random.default_rng(9).normal(size=means.shape)
    d = diagnostics.ensemble_views(embs, frames, y, 3, fps, windows, cfg_m)
    members = ("model0", "model1", "model2", "frames")
    assert list(d["voters"]) == [f"{m}_{v}" for v in ("mean", "motion") for m in members]
    assert d["best_voter"] == max(d["voters"], key=d["voters"].get) and d["voters"][d["best_voter"]] > 0.95
    assert d["median_voter"].endswith("_mean") and d["voters"]["model1_motion"] < 0.6
    pipeline = segmentation.segment_ensemble(embs, 3, fps, cfg_m, frames_TxD=frames)
    assert d["consensus"]["ari"] == metrics.all_metrics(y, pipeline, windows)["ari"]
    with pytest.raises(ValueError, match="at least 2 models"):
        diagnostics.ensemble_views(embs[:1], means, y, 3, fps, windows, cfg)


def _two_near_classes():
    """(fps, frames per segment, truth, centres, three "models"): ten segments of three classes, two of them near each
    other (0.5 apart in noise of 0.3) and far from the third."""
    from seq2seq_jax import embed

    fps, n = 30.0, 120
    y = np.repeat([0, 2, 1, 2, 0, 1, 0, 2, 1, 2], n)
    centers = np.array([[0.0, 0.0], [6.0, 0.0], [0.0, 0.5]])[y]

    def model(seed):
        x = centers + 0.3 * np.random.default_rng(seed).normal(size=centers.shape)
        return embed.Embedding(x.astype(np.float32), np.zeros(len(x)), np.ones(len(x), bool), None, None, None)

    embs = [model(s) for s in range(3)]
    return fps, n, y, centers, embs


def test_true_count_searches_at_least_as_many_change_points_as_the_truth_has():
    """Ten segments of three classes, two of them near each other (0.5 apart in noise of 0.3) and far from the third:
    the elbow alone sees only the changes to and from the far class (7 segments), and with at least 9 change points
    the search finds every boundary. With the preset's own floor above the truth's count, the oracle is the pipeline."""
    from seq2seq_jax import segmentation

    fps, n, y, centers, embs = _two_near_classes()
    windows = metrics.windows_around([n * i for i in range(1, 10)], int(fps))
    cfg = SegmentConfig(frames_weight=0.0, pca_var=2, linkage="ward_whitened", min_segments_over_k=0)
    d = diagnostics.ensemble_views(embs, centers, y, 3, fps, windows, cfg)
    lab = segmentation.segment_ensemble(embs, 3, fps, cfg)
    assert np.count_nonzero(np.diff(lab)) < 9 and d["consensus"]["ari"] < 0.7 and d["true_count"]["ari"] > 0.95
    many = dataclasses.replace(cfg, min_segments_over_k=12)  # a floor of 14 change points, above the truth's 9
    d = diagnostics.ensemble_views(embs, centers, y, 3, fps, windows, many)
    assert d["true_count"] == d["consensus"]


def test_count_oracle_scores_the_pipeline_at_each_fixed_number_of_change_points():
    """The recording of the test above: the elbow alone places too few change points, held to 9 (the truth's) the
    search finds every boundary, and the oracle's best number scores as the pipeline does at that number."""
    from seq2seq_jax import segmentation
    from seq2seq_jax.segmentation.segment import search_cuts

    fps, n, y, centers, embs = _two_near_classes()
    cfg = SegmentConfig(frames_weight=0.0, pca_var=2, linkage="ward_whitened", min_segments_over_k=0)
    held = diagnostics.fixed_count(cfg, 9, 3)
    f = segmentation.features(embs[0].states, held)
    assert (
        len(search_cuts(f, 3, fps, held)) == 9
        and len(search_cuts(f, 3, fps, diagnostics.fixed_count(cfg, 12, 3))) == 12
    )
    d = diagnostics.count_oracle(embs, centers, y, 3, fps, cfg)
    assert d["counts"] == list(range(2, diagnostics.COUNT_ORACLE_MOST + 1)) and len(d["pipeline"]) == len(d["counts"])
    at9 = segmentation.segment_ensemble(embs, 3, fps, held)
    assert d["pipeline"][d["counts"].index(9)] == metrics.all_metrics(y, at9)["ari"] > 0.95
    assert d["pipeline"][d["counts"].index(2)] < 0.7  # two change points cannot hold ten segments
    assert d["best"] == max(d["pipeline"]) == d["pipeline"][d["counts"].index(d["best_count"])]
    assert d["best_voter"]["ari"] >= d["best"] - 0.05 and d["best_voter"]["name"].startswith("model")
    assert diagnostics.count_oracle(embs, centers, y, 3, fps, cfg, counts=[9])["best_count"] == 9
    with pytest.raises(ValueError, match="at least k - 1 = 2"):
        diagnostics.fixed_count(cfg, 1, 3)
    with pytest.raises(ValueError, match="at least one number"):
        diagnostics.count_oracle(embs, centers, y, 3, fps, cfg, counts=[])


def test_spurious_change_points_are_counted_dropped_and_checked_against_the_frames():
    """Truth 0 0 1 1 (one boundary, at 300), states that change at every 150 frames: the search in the states cuts
    at 150 and 450 too. Those two are spurious; dropped, the two pieces left are the two classes. The frames that
    change only at 300 place neither of them; frames that change where the states do place both."""
    states, frames, _, _, fps = _crossed(3)
    y = np.repeat([0, 1], 300)
    windows = metrics.windows_around([300], int(fps))
    assert diagnostics.spurious([100, 290, 500], y) == [100, 500] and diagnostics.spurious([320], y) == []
    assert diagnostics.spurious([100, 250, 400], y) == [100, 400]  # not 250: the piece 250-400 is mostly class 1
    assert diagnostics.missed([100, 500], windows) == 1 and diagnostics.missed([310], windows) == 0
    assert diagnostics.missed([320], [(250, 350), (300, 400)]) == 1  # one change point serves one of two boundaries
    # how late: the nearest change point inside each window, from the boundary at its middle; none inside: left out
    assert diagnostics.offsets([100, 290, 312, 500], windows) == [-10]
    assert diagnostics.offsets([312, 900], [(200, 400), (700, 800)]) == [12]
    cfg = SegmentConfig(linkage="ward_whitened", frames_weight=0.3, min_segments_over_k=0, frames_in_clustering=False)
    d = diagnostics.decompose(states, frames, y, 2, fps, windows, cfg)
    assert d["cuts"] == 3 and d["spurious_cuts"] == 2 and d["missed_cuts"] == 0
    assert len(d["cut_offsets_s"]) == 1 and abs(d["cut_offsets_s"][0]) < 0.5  # the one boundary, found near 300
    assert d["pipeline"]["ari"] < 0.1 and d["cuts_without_spurious"]["ari"] == 1.0
    assert d["spurious_also_in_frames"] == 0
    assert diagnostics.decompose(states, states, y, 2, fps, windows, cfg)["spurious_also_in_frames"] == 2
