import dataclasses

import jax
import numpy as np
import pytest

from seq2seq_jax import embed, metrics, model, segmentation
from seq2seq_jax.config import ModelConfig
from seq2seq_jax.data import windows

CFG = ModelConfig(dim=3, hidden=6, source=5, target=4)


@pytest.fixture(scope="module")
def params():
    return model.init_params(jax.random.PRNGKey(0), CFG)


def test_collect_assigns_each_decoder_state_to_its_frame(params):
    z = np.random.default_rng(0).normal(size=(30, 3)).astype(np.float32)
    e = embed.collect(params, CFG, z, chunk=2)  # chunks of 2 windows, the last one padded
    np.testing.assert_array_equal(e.starts, [0, 4, 8, 12, 16, 20])
    assert e.states.shape == (30, 6) and e.error.shape == (30,)
    np.testing.assert_array_equal(np.flatnonzero(e.covered), np.arange(5, 29))
    win, _ = windows.sliding_windows(z, 5, 4)
    enc, dec, tgt = windows.split(win, 5)
    out = model.forward(params, CFG, enc, dec)
    np.testing.assert_allclose(e.states[5 + 4 * 2 + 1], out["dec_states"][2, 1], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(e.error[5 + 3], np.mean((out["pred"][0, 3] - tgt[0, 3]) ** 2), rtol=1e-5)
    # Uncovered frames take the nearest covered frame's values.
    np.testing.assert_array_equal(e.states[:5], np.repeat(e.states[5:6], 5, 0))
    np.testing.assert_array_equal(e.states[29], e.states[28])


def test_overlapping_windows_average(params):
    z = np.random.default_rng(1).normal(size=(20, 3)).astype(np.float32)
    e = embed.collect(params, CFG, z, stride=1)
    win, _ = windows.sliding_windows(z, 5, 4, 1)
    enc, dec, _ = windows.split(win, 5)
    st = np.asarray(model.forward(params, CFG, enc, dec)["dec_states"])
    # frame 10 is decoded by windows starting at 2 (step 3), 3 (2), 4 (1), 5 (0)
    want = np.mean([st[2, 3], st[3, 2], st[4, 1], st[5, 0]], axis=0)
    np.testing.assert_allclose(e.states[10], want, rtol=1e-5, atol=1e-6)


def _regimes(seed=0, fps=30.0):
    rng = np.random.default_rng(seed)
    lens = [300, 200, 250, 200, 300]
    cls = [0, 1, 2, 1, 0]
    centers = rng.normal(scale=3.0, size=(3, 8))
    x = np.concatenate([centers[c] + rng.normal(size=(n, 8)) for c, n in zip(cls, lens)])
    return x, np.repeat(cls, lens), np.cumsum(lens)[:-1]


def test_cpd_segmentation_recovers_regimes():
    x, true, cuts = _regimes()
    lab = segmentation.segment_embedding(x, 3, fps=30.0)
    m = metrics.all_metrics(true, lab, metrics.windows_around(cuts, 15))
    assert m["acc_hungarian"] > 0.97 and m["boundary_f1"] == pytest.approx(1.0)
    assert m["n_segments"] == 5


def test_frame_methods_and_majority_filter():
    x, true, _ = _regimes(1)
    for method in ("kmeans", "agglomerative"):
        lab = segmentation.segment_embedding(x, 3, 30.0, segmentation.SegmentConfig(method=method))
        assert metrics.accuracy_hungarian(true, lab) > 0.95
    np.testing.assert_array_equal(segmentation.majority_filter([0, 0, 1, 0, 0, 2, 2, 2], 3), [0, 0, 0, 0, 0, 2, 2, 2])
    with pytest.raises(ValueError, match="unknown method"):
        segmentation.segment_embedding(x, 3, 30.0, segmentation.SegmentConfig(method="hmm"))


def test_elbow():
    assert segmentation.elbow([100, 40, 10, 9, 8.5, 8]) == 2
    assert segmentation.elbow([5.0]) == 0


def test_reference_protocols_run_and_label_every_frame(params):
    z = np.random.default_rng(2).normal(size=(60, 3)).astype(np.float32)
    lab = segmentation.reference_oracle(params, CFG, z, [(0, 30), (30, 60)], k=2)
    assert lab.shape == (60,) and set(np.unique(lab)) <= {0, 1}
    lab, cuts = segmentation.reference_cut_rule(params, CFG, z, k=2, threshold=0.0)  # every window is cut
    assert lab.shape == (60,) and len(cuts) > 0 and all(0 < c < 60 for c in cuts)
    lab, cuts = segmentation.reference_cut_rule(params, CFG, z, k=2, threshold=1e9)  # none is
    assert cuts == []


def test_collect_does_not_recompile_for_the_same_chunking(params):
    z = np.random.default_rng(3).normal(size=(40, 3)).astype(np.float32)
    embed.collect(params, CFG, z)
    n = embed._run._cache_size()
    embed.collect(params, CFG, z + 1.0)
    embed.collect(params, CFG, z[:39])  # same number of windows: same shapes
    assert embed._run._cache_size() == n


def _clip(rng, n, fps=120.0, channels=20, freq=None):
    """A smooth multichannel motion: sines of random phase (and frequency, unless given)."""
    t = np.arange(n)[:, None] / fps
    f = rng.uniform(0.5, 2.0, channels) if freq is None else freq
    return np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi, channels))


def test_splices_found_at_joins_not_at_glitches_or_dropped_frames():
    rng = np.random.default_rng(0)
    pose = lambda: rng.choice([-1.5, 1.5], 20)  # another recording starts in another pose
    x = np.concatenate([_clip(rng, 600), pose() + _clip(rng, 500)])
    x[300, :3] += 5.0  # a glitch in 3 of 20 channels (a marker swap)
    x[800:805] = x[799]  # 5 dropped frames, then the motion catches up
    np.testing.assert_array_equal(segmentation.splices(x, 120.0), [600])
    assert len(segmentation.splices(x, 120.0, share=0)) == 0  # switched off
    assert len(segmentation.splices(x[:600], 120.0)) == 0
    # a second join closer than the minimum gap to the stronger one is dropped
    y = np.concatenate([_clip(rng, 600), pose() + _clip(rng, 50), pose() + _clip(rng, 500)])
    assert len(segmentation.splices(y, 120.0, min_gap=120)) == 1
    with pytest.raises(ValueError, match="frames must be"):
        segmentation.splices(x[:, 0], 120.0)


def test_within_recordings_none_keeps_each_spliced_clip_whole():
    rng = np.random.default_rng(1)
    freqs = [rng.uniform(0.5, 1.0, 20), rng.uniform(1.5, 3.0, 20)]
    poses = [rng.choice([-1.5, 1.5], 20) for _ in range(2)]
    cls, lens = [0, 1, 0, 1, 0], [900, 400, 700, 500, 800]
    # half-way through each clip the pose drifts smoothly by 3 (a sub-gesture), which change points do cut
    drift = lambda n: 3 * np.clip((np.arange(n) - n // 2) / 60, 0, 1)[:, None]
    x = np.concatenate([_clip(rng, n, freq=freqs[c]) + drift(n) + poses[c] for c, n in zip(cls, lens)])
    true, joins = np.repeat(cls, lens), np.cumsum(lens)[:-1]
    cfg = segmentation.SegmentConfig(within_recordings="none")
    lab = segmentation.segment_embedding(x, 2, 120.0, cfg, frames_TxD=x)
    b = metrics.boundaries(lab)
    assert len(b) == len(joins) and np.all(np.abs(b - joins) <= 4)  # cut only at the joins, at 30 fps resolution
    assert metrics.accuracy_hungarian(true, lab) > 0.99
    lab = segmentation.segment_embedding(x, 2, 120.0, segmentation.SegmentConfig(), frames_TxD=x)
    assert metrics.n_segments(lab) > len(lens) and metrics.accuracy_hungarian(true, lab) < 0.9  # "cpd" cuts inside
    # fewer pieces than classes: change points inside the pieces as well
    lab = segmentation.segment_embedding(x[:1300], 3, 120.0, cfg, frames_TxD=x[:1300])
    assert metrics.n_segments(lab) >= 3
    with pytest.raises(ValueError, match="within_recordings"):
        segmentation.segment_embedding(x, 2, 120.0, segmentation.SegmentConfig(within_recordings="all"), frames_TxD=x)


def _recordings_of_three_actions(seed):
    """Three actions: two move different channels, the third the same channels as the first but a third as much
    (walking and running); every recording sits in its own posture (a random offset per channel, as large as the
    movement), as recordings of different people do. (frames, true class per frame, recording lengths)."""
    rng = np.random.default_rng(seed)
    a0 = np.r_[np.full(10, 1.0), np.full(10, 0.1)]
    amp = [a0, a0[::-1], a0 / 3]
    cls, lens = [0, 1, 2, 0, 1, 2, 1], [700, 500, 600, 800, 400, 500, 600]
    x = np.concatenate([amp[c] * _clip(rng, n) + rng.normal(0, 1.0, 20) for c, n in zip(cls, lens)])
    return x, np.repeat(cls, lens), lens


def test_segment_stats_std_groups_recordings_by_movement_not_posture():
    x, true, lens = _recordings_of_three_actions(2)
    seg = np.repeat(np.arange(len(lens)), lens)
    d = segmentation.segment_descriptors(x, seg, "std")
    assert d.shape == (len(lens), 20)
    np.testing.assert_allclose(d, segmentation.segment_descriptors(x + 5.0, seg, "std"), atol=1e-9)  # offset-free
    assert segmentation.segment_descriptors(x, seg, "mean_std").shape == (len(lens), 40)
    lab = {s: segmentation.cluster_segments(x, seg, 3, "average", s) for s in ("mean", "std", "mean_std")}
    assert metrics.accuracy_hungarian(true, lab["std"]) == 1.0  # Euclidean: the amplitude tells 0 from 2
    assert metrics.accuracy_hungarian(true, lab["mean"]) < 0.9  # the posture of each recording wins over the action
    cfg = segmentation.SegmentConfig(within_recordings="none", segment_stats="std")
    assert metrics.accuracy_hungarian(true, segmentation.segment_embedding(x, 3, 120.0, cfg, frames_TxD=x)) > 0.99
    with pytest.raises(ValueError, match="segment_stats"):
        segmentation.cluster_segments(x, seg, 2, "average", "median")


def test_segment_stats_motion_is_not_fooled_by_a_cut_that_lands_late(monkeypatch):
    """The recordings of ``_recordings_of_three_actions``, every cut 0.3 s late:
    each piece then ends in the next recording's posture, a jump that inflates its standard deviation ("std"
    fails) but not the local spread within 0.5 s that "motion" averages (each piece still takes its class)."""
    from seq2seq_jax import diagnostics
    from seq2seq_jax.segmentation.changepoints import labels_from_cuts

    x, true, lens = _recordings_of_three_actions(3)
    seg = labels_from_cuts(len(x), np.cumsum(lens)[:-1] + 36)
    ceiling = metrics.accuracy_hungarian(true, diagnostics.majority_labels(true, seg))
    lab = {s: segmentation.cluster_segments(x, seg, 3, "average", s, motion_sigma=60.0) for s in ("std", "motion")}
    assert metrics.accuracy_hungarian(true, lab["motion"]) == ceiling < 1.0
    assert metrics.accuracy_hungarian(true, lab["std"]) < ceiling - 0.2
    # a still pose has no local spread: the constant part of a signal is gone
    spread = segmentation.clustering.local_spread(np.c_[np.full(500, 4.0), 2.0 * np.sin(np.arange(500) / 3)], 60.0)
    np.testing.assert_allclose(spread[100:400, 0], 0.0, atol=1e-6)
    np.testing.assert_allclose(spread[100:400, 1], np.sqrt(2.0), rtol=0.05)
    with pytest.raises(ValueError, match="motion_sigma"):
        segmentation.segment_descriptors(x, seg, "motion")
    seen = {}
    real = segmentation.segment.cluster_segments

    def spy(*a, **k):
        seen["sigma"] = a[5]
        return real(*a, **k)

    monkeypatch.setattr(segmentation.segment, "cluster_segments", spy)
    segmentation.segment_embedding(x, 3, 120.0, segmentation.SegmentConfig(segment_stats="motion"))
    assert seen["sigma"] == 0.5 * 30.0  # MOTION_S on the change points' grid: 120 fps sub-sampled to 30


def test_change_points_see_features_smoothed_in_time_and_clustering_the_raw_ones(monkeypatch):
    x, true, cuts = _regimes()
    fps, seen = 30.0, {}
    real_cp, real_cluster = segmentation.change_points, segmentation.cluster_segments

    def spy_cp(f, *a, **k):
        seen["cpd"] = np.array(f)
        return real_cp(f, *a, **k)

    def spy_cluster(f, *a, **k):
        seen["cluster"] = np.array(f)
        return real_cluster(f, *a, **k)

    from seq2seq_jax.segmentation import segment as segment_module

    monkeypatch.setattr(segment_module, "change_points", spy_cp)
    monkeypatch.setattr(segment_module, "cluster_segments", spy_cluster)
    rough = lambda f: np.mean(np.square(np.diff(f, axis=0)))  # noqa: E731
    lab0 = segmentation.segment_embedding(x, 3, fps, segmentation.SegmentConfig(cpd_smooth_s=0.0))
    raw = seen["cpd"]
    np.testing.assert_allclose(seen["cluster"], raw)
    lab = segmentation.segment_embedding(x, 3, fps, segmentation.SegmentConfig(cpd_smooth_s=0.25))
    assert rough(seen["cpd"]) < 0.5 * rough(raw)  # frame-to-frame jitter damped for the change points...
    np.testing.assert_allclose(seen["cluster"], raw)  # ...while the segments are described by unsmoothed features
    np.testing.assert_allclose(segmentation.smooth_in_time(raw, 0.25 * fps), seen["cpd"])
    for lb in (lab0, lab):
        assert metrics.boundary_scores(metrics.boundaries(lb), metrics.windows_around(cuts, 15))["boundary_f1"] == 1.0
    with pytest.raises(ValueError, match="cpd_smooth_s"):
        segmentation.segment_embedding(x, 3, fps, segmentation.SegmentConfig(cpd_smooth_s=-1.0))
    from seq2seq_jax import protocols

    assert protocols.BASELINE.cpd_smooth_s == 0.0  # the off-the-shelf baseline of BENCHMARKS: no smoothing of ours


def test_more_segments_than_classes_lets_a_repeated_action_share_its_class():
    """A short action (2 s) close to its neighbour: the elbow stops one change point short, so with k segments
    each segment was its own class and the repeated action got two (subject-86 trial 12); with at least k change
    points the short action is cut out and the clustering joins the repeats."""
    rng = np.random.default_rng(0)
    lens, cls = [300, 300, 300, 60, 300], [0, 1, 2, 3, 0]
    centers = rng.normal(scale=3.0, size=(4, 8))
    centers[3] = centers[2] + rng.normal(size=8)
    x = np.concatenate([centers[c] + rng.normal(size=(n, 8)) for c, n in zip(cls, lens)])
    true = np.repeat(cls, lens)
    elbow_only = segmentation.segment_embedding(x, 4, 30.0, segmentation.SegmentConfig(min_segments_over_k=0))
    assert metrics.n_segments(elbow_only) == 4 and metrics.accuracy_hungarian(true, elbow_only) < 0.75
    lab = segmentation.segment_embedding(x, 4, 30.0, segmentation.SegmentConfig())  # the default: 1
    assert metrics.n_segments(lab) == 5 and metrics.accuracy_hungarian(true, lab) > 0.98
    assert len(set(lab[:300]) | set(lab[-300:])) == 1  # the two repeats of action 0 share one class
    # the minimum is honoured, and capped where segments of min_size leave no room
    noise = rng.normal(size=(120, 3))
    assert len(segmentation.change_points(noise, 25, 10, min_bkps=6)) >= 6
    assert len(segmentation.change_points(noise, 25, 10, min_bkps=50)) <= 11
    with pytest.raises(ValueError, match="min_segments_over_k"):
        segmentation.segment_embedding(x, 4, 30.0, segmentation.SegmentConfig(min_segments_over_k=-1))
    from seq2seq_jax import protocols

    assert protocols.BASELINE.min_segments_over_k == 0  # the off-the-shelf baseline: the elbow alone


def _recurring_classes_with_wobble(seed: int):
    """Sixteen segments of 2-4 s of three recurring classes at 30 fps, every 0.67 s of each shifted by a random
    offset as large as the noise between classes (a motion that changes within an action): (frames, classes)."""
    rng = np.random.default_rng(seed)
    y = [0]
    while len(y) < 16:
        c = int(rng.integers(3))
        if c != y[-1]:
            y.append(c)
    lens = rng.integers(60, 120, size=16)
    centers = rng.normal(size=(3, 4)) * 2.0
    true = np.repeat(y, lens)
    wobble = rng.normal(size=(-(-len(true) // 20), 4)).repeat(20, 0)[: len(true)]
    return centers[true] + wobble + 0.3 * rng.normal(size=(len(true), 4)), true


def test_class_elbow_goes_on_where_a_motion_that_changes_within_actions_bends_the_kernel_cost_early():
    """Short segments of recurring classes whose motion changes within each: every wobble lowers the kernel cost,
    which so falls nearly straight and its elbow stops two change points short of the 15; three classes explain
    the samples much better for each cut between classes and no better for one inside a segment, so the elbow of
    their cost (count_rule "class_elbow") finds all 15. It never places fewer change points than the elbow."""
    cfg = segmentation.SegmentConfig(frames_weight=0.0, pca_var=4, linkage="ward_whitened", min_segments_over_k=2)
    x, true = _recurring_classes_with_wobble(13)
    elbow = segmentation.segment_embedding(x, 3, 30.0, cfg)
    classes = segmentation.segment_embedding(x, 3, 30.0, dataclasses.replace(cfg, count_rule="class_elbow"))
    assert np.count_nonzero(np.diff(true)) == 15
    assert np.count_nonzero(np.diff(elbow)) == 13 and metrics.all_metrics(true, elbow)["ari"] < 0.9
    assert np.count_nonzero(np.diff(classes)) == 15 and metrics.all_metrics(true, classes)["ari"] > 0.99
    for seed in range(6):  # a floor, never fewer: the same search with the class elbow beside the kernel one
        x, _ = _recurring_classes_with_wobble(seed)
        f = segmentation.features(x, cfg)
        kernel, both = (segmentation.change_points(f, 25, 30, min_bkps=4, classes=c) for c in (None, 3))
        assert len(both) >= len(kernel) >= 4
    # one class: every cut explains nothing more, and the rule adds none
    f = segmentation.features(_recurring_classes_with_wobble(0)[0], cfg)
    assert segmentation.change_points(f, 25, 30, classes=1) == segmentation.change_points(f, 25, 30)
    assert segmentation.class_cost(f, [], 1) == pytest.approx(((f - f.mean(0)) ** 2).sum())
    with pytest.raises(ValueError, match="unknown count_rule 'penalty'"):
        segmentation.SegmentConfig(count_rule="penalty")


def test_max_mean_segment_s_places_at_least_one_change_point_per_that_many_seconds():
    """Two regimes of 30 s each at 30 fps: the elbow alone cuts once; a floor of mean segments of at most 10 s asks
    for ceil(60 / 10) - 1 = 5 change points, 25 s for 2, and one longer than the recording adds nothing."""
    from seq2seq_jax.segmentation.segment import search_cuts

    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(size=(900, 4)), 4.0 + rng.normal(size=(900, 4))])
    base = segmentation.SegmentConfig(min_segments_over_k=0)
    assert search_cuts(x, 2, 30.0, base) == [900]  # at 30 fps the search takes every frame
    for seconds, n in ((10.0, 5), (25.0, 2), (100.0, 1)):
        cuts = search_cuts(x, 2, 30.0, dataclasses.replace(base, max_mean_segment_s=seconds))
        assert len(cuts) == n and 900 in cuts  # the elbow's change point stays among them
    with pytest.raises(ValueError, match="max_mean_segment_s"):
        segmentation.SegmentConfig(max_mean_segment_s=-1.0)


def test_long_recordings_are_searched_at_a_bounded_number_of_samples(monkeypatch):
    """The kernel change-point search is quadratic in its samples: past max_cpd_samples the sub-sampling
    coarsens, so an hour-long embedding is searched at the same cost as a few minutes, boundaries still found."""
    from seq2seq_jax.segmentation import segment as segment_module

    cfg = segmentation.SegmentConfig(frames_weight=0.0)
    assert segment_module.cpd_step(3000, 120.0, cfg) == 4  # 120 fps -> 30 fps, as before
    assert segment_module.cpd_step(200_000, 50.0, cfg) == 50  # capped at max_cpd_samples = 4000
    rng = np.random.default_rng(0)
    n, cuts = 120_000, [40_000, 80_000]
    x = np.concatenate([rng.normal(m, 0.3, size=(40_000, 3)) for m in ([0, 0, 0], [2, 0, -1], [0, 2, 1])])
    seen = {}
    real = segment_module.change_points

    def spy(f, *a, **k):
        seen["n"] = len(f)
        return real(f, *a, **k)

    monkeypatch.setattr(segment_module, "change_points", spy)
    lab = segmentation.segment_embedding(x, 3, 50.0, cfg)
    assert seen["n"] <= cfg.max_cpd_samples
    got = metrics.boundaries(lab)
    assert len(got) == 2 and all(abs(g - c) <= 2 * segment_module.cpd_step(n, 50.0, cfg) for g, c in zip(got, cuts))
    with pytest.raises(ValueError, match="max_cpd_samples must be >= 100"):
        segmentation.SegmentConfig(max_cpd_samples=10)


def _dominant_and_two_minor(rng, noise=0.3):
    """One action holding 6 of 8 segments, alternating between two sub-movements (+-0.5 on channel 0), and two
    short actions in the same direction from it (channel 1 at 2 and at 6): class per segment and lengths."""
    means = [(0.5, 0), (-0.5, 0)] * 3 + [(0, 2.0), (0, 6.0)]
    cls, lens = [0] * 6 + [1, 2], [100] * 8
    x = np.concatenate([np.r_[m, np.zeros(4)] + rng.normal(0, noise, (n, 6)) for m, n in zip(means, lens)])
    return x, np.repeat(cls, lens), np.repeat(np.arange(8), lens)


def test_whitened_ward_keeps_a_dominant_action_whole_where_cosine_splits_it():
    """Cosine distance measures directions from the recording's mean, which a dominant action makes its own: its
    sub-movements point opposite ways and the two other actions the same way, so average linkage joins the two
    others and splits the dominant one. Whitened Ward has no origin and weighs each segment by its length."""
    rng = np.random.default_rng(0)
    x, true, seg = _dominant_and_two_minor(rng)
    cos = segmentation.cluster_segments(x - x.mean(0), seg, 3, "average", "mean")
    ww = segmentation.cluster_segments(x, seg, 3, "ward_whitened", "mean")
    assert metrics.accuracy_hungarian(true, cos) < 0.8
    assert metrics.accuracy_hungarian(true, ww) == 1.0
    # any invertible linear map of the features (scale, rotation, a block's weight) gives the same partition
    a = rng.normal(size=(6, 6)) + 3 * np.eye(6)
    assert metrics.accuracy_hungarian(ww, segmentation.cluster_segments(x @ a + 7.0, seg, 3, "ward_whitened")) == 1.0
    # a segment counts by its length: a 10-sample sliver of action 0, far off (channel 1 at -4), joins it; counted
    # as one point like the others, it would have kept a class of its own and forced actions 1 and 2 together
    x2 = np.concatenate([x, np.r_[0, -4.0, np.zeros(4)] + rng.normal(0, 0.3, (10, 6))])
    seg2, true2 = np.r_[seg, np.full(10, 8)], np.r_[true, np.full(10, 0)]
    assert metrics.accuracy_hungarian(true2, segmentation.cluster_segments(x2, seg2, 3, "ward_whitened")) == 1.0
    # as many segments as classes or fewer: each its own class
    assert len(set(segmentation.cluster_segments(x[:200], seg[:200], 3, "ward_whitened"))) == 2
    with pytest.raises(ValueError, match="segment means"):
        segmentation.cluster_segments(x, seg, 3, "ward_whitened", "std")
    with pytest.raises(ValueError, match="segment_stats 'mean'"):
        segmentation.SegmentConfig(linkage="ward_whitened", segment_stats="std")


def test_whiten_shrink_keeps_an_action_done_in_two_places_whole(monkeypatch):
    """A channel that hardly moves within a segment (where the body is) but differs between the two places one
    action is done: fully whitened it weighs most, and whitened Ward splits that action and joins the two others.
    Whitened half of the way (whiten_shrink 0.5) the actions' own channels weigh most again; 1 is plain Ward."""
    rng = np.random.default_rng(0)
    means = [(0.0, 0, 0), (0.5, 3, 0), (1.0, 0, 0), (0.5, 0, 3)]  # place, then two channels that tell actions apart
    cls, lens = [0, 1, 0, 2], [300, 150, 300, 150]
    x = np.concatenate(
        [np.r_[m, np.zeros(3)] + rng.normal(0, 1, (n, 6)) * np.r_[0.01, np.ones(5)] for m, n in zip(means, lens)]
    )
    true, seg = np.repeat(cls, lens), np.repeat(np.arange(4), lens)
    ward = lambda shrink: segmentation.cluster_segments(x, seg, 3, "ward_whitened", whiten_shrink=shrink)  # noqa: E731
    assert metrics.accuracy_hungarian(true, ward(0.0)) < 0.8  # the place splits action 0
    for shrink in (0.5, 1.0):
        assert metrics.accuracy_hungarian(true, ward(shrink)) == 1.0
    # 1: no whitening; a rotation of plain features changes nothing, unlike under full whitening's shrinkage
    q = np.linalg.qr(rng.normal(size=(6, 6)))[0]
    np.testing.assert_array_equal(ward(1.0), segmentation.clustering.whitened_ward(x @ q, seg, 3, 1.0))
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match="whiten_shrink must lie in"):
            segmentation.SegmentConfig(whiten_shrink=bad)
        with pytest.raises(ValueError, match="whiten_shrink must lie in"):
            ward(bad)
    # the setting reaches the clustering of the pipeline's pieces
    seen = []
    real = segmentation.segment.cluster_segments
    monkeypatch.setattr(segmentation.segment, "cluster_segments", lambda *a, **kw: seen.append(a[6]) or real(*a, **kw))
    cfg = segmentation.SegmentConfig(linkage="ward_whitened", whiten_shrink=0.5)
    segmentation.segment_embedding(x, 3, 30.0, cfg)
    assert seen == [0.5]


def test_frames_in_clustering_false_clusters_by_the_embedding_alone():
    """The frames join the change-point search either way; with frames_in_clustering False only the embedding
    decides which segments share a class."""
    rng = np.random.default_rng(1)
    lens = [150] * 4
    states = np.concatenate([np.r_[3.0 * c, 0, 0] + rng.normal(0, 0.3, (n, 3)) for c, n in zip([0, 1, 0, 1], lens)])
    frames = np.concatenate([np.r_[0, 3.0 * c, 0] + rng.normal(0, 0.3, (n, 3)) for c, n in zip([0, 0, 1, 1], lens)])
    base = segmentation.SegmentConfig(linkage="ward_whitened", frames_weight=3.0, min_segments_over_k=0)
    import dataclasses

    only = segmentation.segment_embedding(
        states, 2, 30.0, dataclasses.replace(base, frames_in_clustering=False), frames_TxD=frames
    )
    both = segmentation.segment_embedding(states, 2, 30.0, base, frames_TxD=frames)
    true = np.repeat([0, 1, 0, 1], lens)
    assert metrics.n_segments(only) == 4 and metrics.accuracy_hungarian(true, only) > 0.98
    assert metrics.accuracy_hungarian(true, both) < 0.9  # the frames, weighted 3x, would have grouped 0-1 / 2-3


def test_motion_features_frames_describes_how_the_frames_move_not_the_states():
    """With motion_features "frames" the "motion" descriptor is taken of the input frames' PCA, whatever the
    states do; the mean view still clusters the states. Here the states jitter alike in every segment and the
    frames oscillate strongly in the last two only."""
    import dataclasses

    from seq2seq_jax.segmentation.consensus import views
    from seq2seq_jax.segmentation.segment import clustering_of

    rng = np.random.default_rng(2)
    lens = [150] * 4
    t = np.arange(150) / 30.0
    states = np.concatenate([np.r_[3.0 * c, 0, 0] + rng.normal(0, 0.3, (n, 3)) for c, n in zip([0, 1, 0, 1], lens)])
    frames = np.concatenate(
        [
            a * np.stack([np.sin(2 * np.pi * t), np.cos(2 * np.pi * t), 0 * t], 1) + rng.normal(0, 0.05, (150, 3))
            for a in (0.1, 0.1, 2.0, 2.0)
        ]
    )
    cfg = segmentation.SegmentConfig(linkage="average", segment_stats="motion", frames_in_clustering=False)
    own = segmentation.segment_embedding(states, 2, 30.0, cfg, frames_TxD=frames)
    by_frames = segmentation.segment_embedding(
        states, 2, 30.0, dataclasses.replace(cfg, motion_features="frames"), frames_TxD=frames
    )
    assert metrics.accuracy_hungarian(np.repeat([0, 0, 1, 1], lens), by_frames) > 0.95
    assert metrics.accuracy_hungarian(np.repeat([0, 0, 1, 1], lens), own) < 0.9  # the states' jitter: no such split
    # in the consensus the motion view takes them too; the mean view is untouched
    both = views(segmentation.SegmentConfig(linkage="ward_whitened", motion_votes=True, motion_features="frames"))
    assert [clustering_of(v) for v in both] == [
        ("ward_whitened", "mean", "clustering"),
        ("average", "motion", "frames"),
    ]
    with pytest.raises(ValueError, match="needs the input frames"):
        segmentation.segment_embedding(states, 2, 30.0, dataclasses.replace(cfg, motion_features="frames"))
    with pytest.raises(ValueError, match="unknown motion_features"):
        segmentation.SegmentConfig(motion_features="states")


def _fake_embedding(states, covered=None):
    from seq2seq_jax import embed

    covered = np.ones(len(states), bool) if covered is None else covered
    n = len(states)
    return embed.Embedding(
        states.astype(np.float32), np.ones(n, np.float32), covered, np.arange(1), np.ones((1, 3)), np.ones((1, 2))
    )


def test_combine_gives_every_model_the_same_weight_whatever_its_scale():
    from seq2seq_jax import embed

    rng = np.random.default_rng(0)
    a = rng.normal(size=(300, 8)) @ rng.normal(size=(8, 8))
    b = rng.normal(size=(300, 5)) * 100.0 + 7.0  # another model: other size, scale and offset
    j = embed.combine([_fake_embedding(a), _fake_embedding(b)], pca_var=0.999)
    assert j.states.shape[0] == 300 and j.states.shape[1] <= 13
    n_a = embed.pca(a, 0.999)[1].n_components_
    for block in (j.states[:, :n_a], j.states[:, n_a:]):
        assert abs(np.sqrt(np.mean(np.sum(block.astype(np.float64) ** 2, 1))) - 1) < 1e-4  # unit RMS each
    j2 = embed.combine([_fake_embedding(a * 1e-3), _fake_embedding(b)], pca_var=0.999)
    np.testing.assert_allclose(np.abs(j2.states), np.abs(j.states), atol=1e-4)  # a model's scale does not matter
    one = _fake_embedding(a)
    assert embed.combine([one]) is one
    with pytest.raises(ValueError, match="covers other frames"):
        embed.combine([_fake_embedding(a), _fake_embedding(a[:200])])
    with pytest.raises(ValueError, match="at least one"):
        embed.combine([])


def test_consensus_outvotes_one_model_and_ignores_how_each_names_its_classes():
    from seq2seq_jax.segmentation import consensus

    fps, k = 30.0, 3
    truth = np.repeat([0, 1, 2, 0, 1], [300, 240, 300, 270, 300])
    wrong_cut = truth.copy()
    wrong_cut[600:700] = 0  # one model moves a boundary by 100 frames
    merged = truth.copy()
    merged[merged == 2] = 1  # another merges two classes ...
    merged[1110:1200] = 2  # ... and puts part of the last segment in a class of its own
    perm = np.array([2, 0, 1])  # the models' label ids are arbitrary
    cfg = segmentation.SegmentConfig(min_segments_over_k=1)
    lab = consensus([truth, perm[wrong_cut], perm[perm][merged]], k, fps, cfg)
    assert metrics.accuracy_hungarian(truth, lab) > 0.97
    for alone in (perm[wrong_cut], perm[perm][merged]):
        assert metrics.accuracy_hungarian(truth, alone) < 0.95  # each wrong model alone is worse
    same = consensus([perm[truth], wrong_cut, merged], k, fps, cfg)  # renaming a model's classes changes nothing
    np.testing.assert_array_equal(metrics.order_labels(lab), metrics.order_labels(same))
    # a splice is a cut: all models change class 20 frames after it; the consensus changes at the splice
    late = np.repeat([0, 1], [470, 940])
    cfg0 = segmentation.SegmentConfig(min_segments_over_k=0)
    assert list(metrics.boundaries(consensus([late] * 3, 2, fps, cfg0))) == [470]
    assert list(metrics.boundaries(consensus([late] * 3, 2, fps, cfg0, splices_T=[450]))) == [450]
    with pytest.raises(ValueError, match="one label per frame"):
        consensus([truth, truth[:-1]], k, fps)
    with pytest.raises(ValueError, match="0 .. k - 1"):
        consensus([truth, truth + 1], k, fps)


def test_median_consensus_takes_the_classes_of_the_labelling_that_agrees_most_with_the_others():
    """Two voters split the recording one way (one of them names its classes otherwise), a third another way:
    the median labelling is one of the two, and each consensus segment takes its class; co-association instead
    blends the three. Where the voters cut, the boundaries are still everyone's."""
    import sys

    consensus = sys.modules["seq2seq_jax.segmentation.consensus"]  # the package exports its function of that name
    fps, k = 30.0, 2
    a = np.repeat([0, 1, 0, 1], 300)  # classes by posture, say
    b = np.repeat([0, 0, 1, 1], 300)  # by movement
    perm = np.array([1, 0])
    np.testing.assert_array_equal(consensus.median_labelling([b, a, perm[a]]), a)  # the first of the two equals
    np.testing.assert_array_equal(consensus.median_labelling([b, perm[b], a]), b)
    assert consensus.median_index([b, a, perm[a]]) == 1 and consensus.median_index([b, perm[b], a]) == 0
    med = segmentation.SegmentConfig(consensus="median", min_segments_over_k=0)
    lab = consensus.consensus([a, perm[a], b], k, fps, med)
    assert metrics.accuracy_hungarian(a, lab) > 0.97  # a's classes, on the cuts of all three
    co = consensus.consensus([a, perm[a], b], k, fps, dataclasses.replace(med, consensus="coassociation"))
    assert metrics.accuracy_hungarian(a, co) < 0.97 or metrics.accuracy_hungarian(b, co) < 0.97
    with pytest.raises(ValueError, match="one label per frame"):
        consensus.median_labelling([a, a[:-1]])
    with pytest.raises(ValueError, match="unknown consensus"):
        segmentation.SegmentConfig(consensus="mean")


def test_frames_votes_make_the_frames_one_more_voter():
    """Three models whose states are noise, and frames in two classes that differ in where they sit and in how
    they move (one still, one oscillating): with frames_votes the frames' two views agree with each other and with
    no model, so the median labelling is theirs; without, one of the noise's."""
    from seq2seq_jax import embed

    rng = np.random.default_rng(0)
    fps, lens = 30.0, [200, 200, 200, 200]
    y = np.repeat([0, 1, 0, 1], lens)
    wave = np.stack([np.sin(2 * np.pi * np.arange(len(y)) / 15.0), np.cos(2 * np.pi * np.arange(len(y)) / 15.0)], 1)
    frames = np.array([[0.0, 0.0], [3.0, 1.0]])[y] + y[:, None] * wave + 0.1 * rng.normal(size=(len(y), 2))
    embs = [
        embed.Embedding(rng.normal(size=(len(y), 4)), np.zeros(len(y)), np.ones(len(y), bool), None, None, None)
        for _ in range(3)
    ]
    cfg = segmentation.SegmentConfig(
        linkage="ward_whitened", motion_votes=True, consensus="median", frames_weight=0.0, frames_in_clustering=False
    )
    voted = segmentation.segment_ensemble(embs, 2, fps, dataclasses.replace(cfg, frames_votes=True), frames_TxD=frames)
    assert metrics.accuracy_hungarian(y, voted) > 0.95
    alone = segmentation.segment_ensemble(embs, 2, fps, cfg, frames_TxD=frames)
    assert metrics.accuracy_hungarian(y, alone) < 0.9
    with pytest.raises(ValueError, match="frames_votes needs the input frames"):
        segmentation.segment_ensemble(embs, 2, fps, dataclasses.replace(cfg, frames_votes=True))


def test_motion_votes_add_each_models_motion_clustering_to_the_consensus(monkeypatch):
    import sys

    from seq2seq_jax import embed

    consensus = sys.modules["seq2seq_jax.segmentation.consensus"]  # the package exports its function of that name

    cfg = segmentation.SegmentConfig(linkage="ward_whitened", motion_votes=True)
    plain, motion = consensus.views(cfg)
    assert plain == cfg and (motion.segment_stats, motion.linkage, motion.motion_votes) == ("motion", "average", False)
    assert consensus.views(segmentation.SegmentConfig()) == [segmentation.SegmentConfig()]
    seen, voters = [], {}
    real = consensus.consensus

    def spy_states(emb, k, fps, c, *a, clusterings=None):  # one change-point search per model, every view on it
        seen.append((id(emb), tuple(clusterings or [(c.linkage, c.segment_stats, "clustering")])))
        lab = np.repeat([0, 1], [60, 60])
        return [lab] * len(clusterings) if clusterings else lab

    def spy_consensus(labels, *a, **kw):
        voters["n"] = len(labels)
        return real(labels, *a, **kw)

    monkeypatch.setattr(consensus, "segment_states", spy_states)
    monkeypatch.setattr(consensus, "consensus", spy_consensus)
    embs = [embed.Embedding(np.zeros((120, 4)), np.zeros(120), np.ones(120, bool), None, None, None) for _ in range(3)]
    consensus.segment_ensemble(embs, 2, 30.0, cfg)
    both = (("ward_whitened", "mean", "clustering"), ("average", "motion", "clustering"))
    assert sorted(seen) == sorted((id(e), both) for e in embs) and voters["n"] == 6
    seen.clear()
    consensus.segment_ensemble(embs[:1], 2, 30.0, cfg)  # one model: its two views still vote
    assert len(seen) == 1 and voters["n"] == 2
    # the views share the change points: each view's labels are those of a segmentation with that clustering alone
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(m, 0.3, (150, 3)) for m in (0.0, 2.0, 0.0, 2.0)])
    monkeypatch.undo()
    many = segmentation.segment_embedding(
        x, 2, 30.0, plain, clusterings=[("ward_whitened", "mean"), ("average", "motion")]
    )
    np.testing.assert_array_equal(many[0], segmentation.segment_embedding(x, 2, 30.0, plain))
    np.testing.assert_array_equal(many[1], segmentation.segment_embedding(x, 2, 30.0, motion))
    with pytest.raises(ValueError, match="need method 'cpd'"):
        segmentation.segment_embedding(
            x, 2, 30.0, segmentation.SegmentConfig(method="kmeans"), clusterings=[("ward", "mean")]
        )
    assert consensus.views(segmentation.SegmentConfig(method="kmeans", motion_votes=True))[0].method == "kmeans"


def test_chamfer_votes_add_a_third_view_on_the_same_change_points():
    """With chamfer_votes each model's pieces are also clustered by linkage "chamfer" (named "chamfer" among the
    voters): three views of three models and the frames make twelve voters, every view on the one search of its model.
    The view's labels are a segmentation with that clustering alone. A segmentation that is already chamfer gets no
    second chamfer view."""
    import sys

    from seq2seq_jax import embed

    consensus = sys.modules["seq2seq_jax.segmentation.consensus"]
    cfg = segmentation.SegmentConfig(linkage="ward_whitened", motion_votes=True, chamfer_votes=True, frames_votes=True)
    plain, motion, chamfer = consensus.views(cfg)
    assert (motion.segment_stats, chamfer.linkage, chamfer.segment_stats) == ("motion", "chamfer", "mean")
    assert not (motion.chamfer_votes or chamfer.chamfer_votes or chamfer.motion_votes)
    assert len(consensus.views(dataclasses.replace(cfg, motion_votes=False))) == 2
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(m, 0.3, (150, 3)) for m in (0.0, 2.0, 0.0, 2.0)])
    embs = [
        embed.Embedding(x + rng.normal(0, 0.05, x.shape), np.zeros(600), np.ones(600, bool), None, None, None)
        for _ in range(3)
    ]
    names, labels, _ = consensus.voters(embs, 2, 30.0, cfg, frames_TxD=x)
    assert len(labels) == 12 and len(set(names)) == 12
    assert {d for _, d in names} == {"mean", "motion", "chamfer"} and ("frames", "chamfer") in names
    one = dataclasses.replace(cfg, motion_votes=False, chamfer_votes=False, frames_votes=False, linkage="chamfer")
    np.testing.assert_array_equal(
        labels[names.index(("model0", "chamfer"))], segmentation.segment_states(embs[0], 2, 30.0, one)
    )
    assert [v.linkage for v in consensus.views(dataclasses.replace(cfg, linkage="chamfer"))] == ["chamfer", "average"]


@pytest.mark.parametrize("n, min_size", [(400, 8), (120, 10), (40, 1)])
def test_change_points_search_every_number_in_one_dynamic_programme(n, min_size, monkeypatch):
    # the elbow's curve needs the best segmentation for each number of change points: one call for the most
    # gives all the others (ruptures keeps them); the same change points as asking for each number alone. With
    # min_size 1 (ruptures' least is 2) the most does not fit and each number is asked in turn
    import ruptures as rpt

    from seq2seq_jax.segmentation import changepoints

    rng = np.random.default_rng(n)
    x = np.repeat(rng.normal(scale=2.0, size=(6, 4)), n // 6 + 1, axis=0)[:n] + rng.normal(size=(n, 4))
    costs, calls = [], []
    real_elbow, real_predict = changepoints.elbow, rpt.KernelCPD.predict

    def spy_elbow(c):
        costs.append(list(c))
        return real_elbow(c)

    def spy_predict(self, n_bkps=None, pen=None):
        if n_bkps not in self.segmentations_dict:
            calls.append(n_bkps)
        return real_predict(self, n_bkps=n_bkps, pen=pen)

    monkeypatch.setattr(changepoints, "elbow", spy_elbow)
    monkeypatch.setattr(rpt.KernelCPD, "predict", spy_predict)
    found = changepoints.change_points(x, 25, min_size)
    algo = rpt.KernelCPD(kernel="rbf", min_size=max(min_size, 2)).fit(x)
    each = [
        real_predict(rpt.KernelCPD(kernel="rbf", min_size=max(min_size, 2)).fit(x), n_bkps=m)
        for m in range(1, len(costs[0]))
    ]
    expected = [algo.cost.sum_of_costs([n])] + [algo.cost.sum_of_costs(b) for b in each]
    np.testing.assert_allclose(costs[0], expected)
    m = real_elbow(expected)
    assert found == ([n] if m == 0 else each[m - 1])[:-1]
    if min_size > 1:
        assert len(costs[0]) > 10 and calls == [len(costs[0]) - 1]  # one dynamic programme for them all
    else:
        # 25 refused, then 1, 2, ... up to the first refused, which ends the curve
        assert calls[0] == 25 and calls[1:] == list(range(1, len(costs[0]) + 1)) and len(costs[0]) < 26


def _recurring_and_two_others(rng, noise=0.2):
    """Two pieces of one recording that alternates between two postures (0, 0) and (6, 0), one mostly in the first,
    the other mostly in the second, and one piece each of two other actions at (3, 1.2) and (3, -6): the pieces'
    means put the first piece nearer the second action than the second piece."""
    a, b = np.array([0.0, 0.0]), np.array([6.0, 0.0])
    piece1 = np.concatenate([np.tile(a, (80, 1)), np.tile(b, (20, 1))])
    piece2 = np.concatenate([np.tile(a, (20, 1)), np.tile(b, (80, 1))])
    other1, other2 = np.tile([3.0, 1.2], (100, 1)), np.tile([3.0, -6.0], (100, 1))
    x = np.concatenate([piece1, other1, piece2, other2]) + rng.normal(0, noise, (400, 2))
    return x, np.repeat([0, 1, 0, 2], 100), np.repeat(np.arange(4), 100)


def test_chamfer_keeps_a_recording_of_recurring_motions_whole_where_its_pieces_means_differ():
    """Ward compares the pieces' means, and the two pieces of the alternating recording lie further apart in mean
    than one of them from another action, so it joins those two, whitened half of the way (the presets') or not at
    all. The chamfer distance compares the samples: each sample of one piece has its like in the other, so the two
    pieces are near and stay one class."""
    rng = np.random.default_rng(0)
    x, true, seg = _recurring_and_two_others(rng)
    ch = segmentation.cluster_segments(x, seg, 3, "chamfer", "mean")
    for shrink in (0.5, 1.0):
        ww = segmentation.cluster_segments(x, seg, 3, "ward_whitened", "mean", whiten_shrink=shrink)
        assert metrics.accuracy_hungarian(true, ww) < 0.8
    assert metrics.accuracy_hungarian(true, ch) == 1.0
    # the distances taken a few samples at a time give the same classes as all at once
    assert (segmentation.chamfer_linkage(x, seg, 3, chunk=7) == segmentation.chamfer_linkage(x, seg, 3)).all()
    # two groups merge by the distance of all their samples: with k = 2 the other two actions do not join (they are
    # 7.2 apart, and each lies 3.2 or more from the recording's nearest posture)
    two = segmentation.chamfer_linkage(x, seg, 2)
    assert len(set(two[seg == 1]) | set(two[seg == 3])) == 2
    # as many segments as classes or fewer: each its own class
    assert len(set(segmentation.chamfer_linkage(x[:200], seg[:200], 3))) == 2
    with pytest.raises(ValueError, match="samples"):
        segmentation.cluster_segments(x, seg, 3, "chamfer", "motion", motion_sigma=2.0)
    with pytest.raises(ValueError, match="segment_stats 'mean'"):
        segmentation.SegmentConfig(linkage="chamfer", segment_stats="std")


def _rhythms(rng, fps=30.0):
    """Five pieces of 3 s, all swinging two channels about the same posture with the same spread, at 1 Hz (pieces 0,
    2, 4) or at 2.5 Hz (pieces 1, 3), the second channel of piece 2 three times larger (one action done bigger)."""
    t = np.arange(int(3 * fps)) / fps
    pieces = []
    for i, hz in enumerate((1.0, 2.5, 1.0, 2.5, 1.0)):
        x = np.stack([np.sin(2 * np.pi * hz * t + i), np.cos(2 * np.pi * hz * t + i)], 1)
        if i == 2:
            x[:, 1] *= 3.0
        pieces.append(x + rng.normal(0, 0.05, x.shape))
    return np.concatenate(pieces), np.repeat([0, 1, 0, 1, 0], len(t)), np.repeat(np.arange(5), len(t))


def test_spectrum_tells_motions_apart_by_their_rhythm_where_their_spread_is_alike():
    """Swings at 1 Hz and at 2.5 Hz about one posture with one spread: the pieces' spread ("std", "motion") cannot
    tell them apart, each channel's log band power can, also where one piece of the slow swing moves bigger."""
    from seq2seq_jax.segmentation import clustering

    rng = np.random.default_rng(0)
    x, true, seg = _rhythms(rng)
    spec = segmentation.cluster_segments(x, seg, 2, "average", "spectrum", rate=30.0)
    assert metrics.accuracy_hungarian(true, spec) == 1.0
    assert metrics.accuracy_hungarian(true, segmentation.cluster_segments(x, seg, 2, "average", "std")) < 1.0
    # band-major rows: the 1 Hz swing's power lies in the 0.7-1.4 Hz band, the 2.5 Hz swing's in 1.4-2.8 Hz
    slow, fast = clustering.band_power(x[seg == 0], 30.0), clustering.band_power(x[seg == 1], 30.0)
    assert slow.shape == (2 * len(segmentation.config.SPECTRUM_BANDS_HZ),)
    assert slow[2:4].min() > slow[4:6].max() and fast[4:6].min() > fast[2:4].max()
    # a piece shorter than the Welch window is taken whole
    assert np.isfinite(clustering.band_power(x[:20], 30.0)).all()
    with pytest.raises(ValueError, match="sampling rate"):
        segmentation.segment_descriptors(x, seg, "spectrum")
    # a segment of one sample (as a splice next to a recording's last frame leaves) is described with its neighbours
    one = np.r_[seg[:-1], 5]
    d = segmentation.segment_descriptors(x, one, "spectrum", rate=30.0)
    assert d.shape == (6, 8) and np.isfinite(d).all()
    np.testing.assert_allclose(d[5], clustering.band_power(x[-2:], 30.0))


def test_spectrum_votes_add_a_view_of_the_input_frames_on_the_same_change_points():
    """With spectrum_votes each model's pieces are also clustered by the band power of the input frames in them
    (named "spectrum" among the voters): with the motion and chamfer views, four views of three models and the
    frames make sixteen voters. The view describes the input frames, whatever the embedding: its labels are a
    segmentation with segment_stats "spectrum" alone, and that needs the frames."""
    import sys

    from seq2seq_jax import embed

    consensus = sys.modules["seq2seq_jax.segmentation.consensus"]
    cfg = segmentation.SegmentConfig(
        linkage="ward_whitened", motion_votes=True, chamfer_votes=True, spectrum_votes=True, frames_votes=True
    )
    vs = consensus.views(cfg)
    assert [consensus.view_name(v) for v in vs] == ["mean", "motion", "chamfer", "spectrum"]
    assert not any(v.spectrum_votes for v in vs[1:]) and vs[3].linkage == "average"
    assert len(consensus.views(dataclasses.replace(cfg, segment_stats="spectrum", linkage="average"))) == 3
    rng = np.random.default_rng(1)
    x, _, _ = _rhythms(rng)
    embs = [
        embed.Embedding(rng.normal(0, 1, (len(x), 4)), np.zeros(len(x)), np.ones(len(x), bool), None, None, None)
        for _ in range(3)
    ]
    names, labels, _ = consensus.voters(embs, 2, 30.0, cfg, frames_TxD=x)
    assert len(labels) == 16 and len(set(names)) == 16 and ("frames", "spectrum") in names
    one = dataclasses.replace(
        cfg,
        motion_votes=False,
        chamfer_votes=False,
        spectrum_votes=False,
        frames_votes=False,
        linkage="average",
        segment_stats="spectrum",
    )
    np.testing.assert_array_equal(
        labels[names.index(("model0", "spectrum"))], segmentation.segment_states(embs[0], 2, 30.0, one, frames_TxD=x)
    )
    with pytest.raises(ValueError, match="needs the input frames"):
        segmentation.segment_states(embs[0], 2, 30.0, one)


def test_spectrum_of_a_long_recording_is_taken_on_a_grid_fine_enough_for_its_bands():
    """A recording long enough that the change-point grid samples it at 3.3 per second (max_cpd_samples): the 2.5 Hz
    swing would alias onto the 1 Hz one there, so the spectrum takes the input frames at 15 per second instead, and
    tells the two apart still."""
    from seq2seq_jax.segmentation import segment

    fps, piece = 120.0, 1200  # 10-s pieces
    t = np.arange(piece) / fps
    x = np.concatenate(
        [
            np.stack([np.sin(2 * np.pi * hz * t + i), np.cos(2 * np.pi * hz * t + i)], 1)
            for i, hz in enumerate((1.0, 2.5) * 3)
        ]
    )
    cfg = segmentation.SegmentConfig(segment_stats="spectrum", max_cpd_samples=100, frames_weight=0.0)
    step, _ = segment.cpd_grid(len(x), fps, cfg)
    assert step == 72 and segment.spectrum_step(fps, step) == 8 and segment.spectrum_step(fps, 4) == 4
    cuts = [c // step for c in range(piece, len(x), piece)]
    lab = segment.cluster_pieces(x, cuts, 2, fps, step, [("average", "spectrum", "input")], f_input_TxD=x)[0]
    middles = lab[piece // 2 :: piece]  # each piece's class (its ends lie on the coarse grid)
    assert len(set(middles[0::2])) == len(set(middles[1::2])) == 1 and middles[0] != middles[1]
