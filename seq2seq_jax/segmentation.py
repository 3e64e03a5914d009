"""Segmentation protocols: ours (honest, only k is given) and the reference's two, named as such.

Ours, ``segment_embedding`` (method "cpd", the default): the per-frame embedding is reduced by PCA,
sub-sampled to about 30 frames per second, cut by kernel change-point detection (ruptures ``KernelCPD``, RBF
kernel, number of change points at the elbow of the cost curve but at least k: more segments than classes,
``min_segments_over_k``), optionally on features smoothed in time by a Gaussian of ``cpd_smooth_s`` seconds
(subject 86 uses 0.25 s: the jitter of the decoder states no longer moves the change points; the clustering
uses the unsmoothed features), and the segments' mean embeddings are
clustered into k classes (agglomerative, average linkage on cosine distance; Ward by option). When the
normalized input frames are given, their PCA features are appended at half weight (``frames_weight``), and
*splices* are found in them: frames where most channels jump at once, as where separate recordings were
joined (``splices``); every splice is a cut, and with ``within_recordings="none"`` the pieces between splices
are not cut further (case i, where every clip is one action). Segments are described by their mean (default)
or, with ``segment_stats="std"``, by the spread of each feature, compared by Euclidean distance: how a segment
moves rather than where it sits, which groups whole recordings of different people (case i) better and the
segments of one continuous recording (subject 86) worse. Labels therefore form segments, and two
segments of the same action get the same label. Alternatives kept by flag: "kmeans" (KMeans on frames, then a majority filter of
``smooth_s`` seconds), "agglomerative" (Ward on frames, then the same filter).

The reference's protocols, reproduced for comparison:
- ``reference_cut_rule`` (case i): non-overlapping windows; a window whose MSE exceeds a threshold (1.0) is
  cut at the decoder step of largest error and windowing restarts from the cut; the decoder states are
  clustered by agglomerative clustering, cosine affinity, single linkage.
- ``reference_oracle`` (subject 86): windows taken *inside the ground-truth segments*, their decoder states
  clustered the same way. It uses the ground-truth boundaries; every result from it says so.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from seq2seq_jax import embed
from seq2seq_jax.config import ModelConfig
from seq2seq_jax.data import windows

METHODS = ("cpd", "kmeans", "agglomerative")
RECORDING_MODES = ("cpd", "none")  # SegmentConfig.within_recordings
SEGMENT_STATS = ("mean", "std", "mean_std")  # SegmentConfig.segment_stats


@dataclasses.dataclass(frozen=True)
class SegmentConfig:
    """Our segmentation of a per-frame embedding (chosen by measurement; see docs/)."""

    method: str = "cpd"  # "cpd" (change points + segment clustering), "kmeans" or "agglomerative" on frames
    pca_var: float = 0.95  # PCA keeps this fraction of the variance (or an int: that many components)
    l2_normalize: bool = False  # L2-normalise each frame's state before PCA
    target_fps: float = 30.0  # sub-sample to about this rate before change-point detection
    max_bkps: int = 25  # the elbow is searched over 0 .. max_bkps change points
    min_seg_s: float = 1.0  # shortest segment, seconds
    smooth_s: float = 1.0  # majority filter for the frame methods, seconds
    linkage: str = "average"  # clustering of segments: "average" (cosine distance, Euclidean for "std"; chosen by the study in
    # docs/study.md: Hungarian accuracy 0.905 vs 0.852 for Ward over 6 trials x 3 seeds) or "ward" (Euclidean)
    segment_stats: str = "mean"  # segment descriptor: "mean", "std" (per-feature standard deviation: how the
    # segment moves, not where it sits) or "mean_std" (both); see segment_descriptors and cluster_segments
    frames_weight: float = 0.5  # weight of the input frames' PCA features appended to the states' (0: states only);
    # each block is scaled to unit RMS norm first. 0.5 was chosen among {0, 0.5, 1} in docs/study.md
    splice_share: float = 0.6  # a splice: a frame-to-frame change over 10x its channel's typical change in at
    # least this share of the channels (0: no splice detection). Measured on the dev data: every clip join of
    # case (i) 0.73-1.0; every other frame at most 0.51 (glitches, dropped frames inside subject-86 trials)
    within_recordings: str = "cpd"  # "cpd": change points inside the pieces between splices as well; "none":
    # each piece between splices is one segment (falls back to "cpd" when there are fewer pieces than k)
    cpd_smooth_s: float = 0.0  # standard deviation (seconds) of the Gaussian that smooths the features in time
    # before change-point detection only (0: none). experiments/subject86.py uses 0.25, chosen in docs/study.md among
    # {0, 0.25, 0.5} on the subject-86 dev trials: boundary F1 0.744 -> 0.834 for the default model (3 seeds). Not the
    # library default: on abrupt synthetic switches (tests/test_api_cli.py) it delays a boundary by about 1 s
    min_segments_over_k: int = 1  # the change-point search returns at least k - 1 + this many change points (when
    # segments of min_seg_s leave room), so that there are more segments than classes and the clustering decides
    # which segments share a class; with k segments or fewer each segment is its own class whatever the embedding
    # says. 0: the elbow alone (the off-the-shelf baseline). Chosen in docs/study.md: on subject-86 trial 12 the elbow
    # stopped one change point short and the two walking segments (cosine distance 0.06) became two classes;
    # Hungarian accuracy +0.009..0.014 and ARI +0.006..0.012 over 3 models x 3 seeds, nothing else changed on the dev
    # data (the 80 case-(i) draws of docs/ cut at splices only, the own-data example is unchanged)


def _pca_features(x, cfg: SegmentConfig):
    n = cfg.pca_var if cfg.pca_var < 1 else int(cfg.pca_var)
    n = min(n, x.shape[1], len(x)) if isinstance(n, int) else n
    f, _ = embed.pca(x, n)
    return f


def _features(x_TxH, cfg: SegmentConfig, frames_TxD=None):
    """PCA features of the embedding, with the input frames' PCA features appended when given and
    ``cfg.frames_weight`` > 0 (each block scaled to unit RMS norm, the frames then weighted)."""
    x = np.asarray(x_TxH, np.float64)
    if cfg.l2_normalize:
        x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    f = _pca_features(x, cfg)
    if frames_TxD is None or cfg.frames_weight <= 0:
        return f
    fr = _pca_features(np.asarray(frames_TxD, np.float64), cfg)
    rms = lambda a: np.sqrt(np.mean(np.sum(a * a, axis=1))) + 1e-12  # noqa: E731
    return np.concatenate([f / rms(f), cfg.frames_weight * fr / rms(fr)], axis=1)


def splices(frames_TxD, fps: float, share: float = 0.6, factor: float = 10.0, min_gap: int | None = None) -> np.ndarray:
    """Frames that start a new recording: where the change from the previous frame exceeds ``factor`` times the
    channel's typical change (its median over about 1 s) in at least ``share`` of the channels.

    A joint of separate recordings moves every channel at once; a glitch inside a recording (a marker swap,
    an exponential-map angle wrap) moves a few, and the catch-up after a few dropped frames moves many channels
    but by a few typical changes only. Candidates closer than ``min_gap`` frames (default 1 s) to a
    stronger one, or to either end, are dropped. Returns the frame indices, ascending.
    """
    z = np.asarray(frames_TxD, np.float64)
    if z.ndim != 2:
        raise ValueError(f"frames must be (frames, channels), got shape {z.shape}")
    min_gap = int(round(fps)) if min_gap is None else int(min_gap)
    if len(z) < 3 or share <= 0:
        return np.zeros(0, np.int64)
    from scipy.ndimage import median_filter

    dz = np.abs(np.diff(z, axis=0))
    typical = median_filter(dz, size=(max(3, int(round(fps))), 1), mode="nearest")
    frac = np.mean(dz > factor * (typical + 1e-3), axis=1)
    cand = np.flatnonzero(frac >= share)
    kept: list[int] = []
    for i in cand[np.argsort(-frac[cand], kind="stable")]:
        t = int(i) + 1
        if min(t, len(z) - t) >= min_gap and all(abs(t - u) >= min_gap for u in kept):
            kept.append(t)
    return np.array(sorted(kept), np.int64)


def config_splices(frames_TxD, fps: float, cfg: SegmentConfig) -> np.ndarray:
    """The splices ``segment_embedding`` cuts at under ``cfg`` (at least one shortest segment apart)."""
    return splices(frames_TxD, fps, cfg.splice_share, min_gap=int(round(cfg.min_seg_s * fps)))


def elbow(costs) -> int:
    """Index of the elbow of a decreasing curve: the point farthest below the chord from first to last."""
    c = np.asarray(costs, np.float64)
    if len(c) < 3:
        return len(c) - 1
    x = np.linspace(0, 1, len(c))
    y = (c - c.min()) / max(c.max() - c.min(), 1e-12)
    chord = y[0] + (y[-1] - y[0]) * x
    return int(np.argmax(chord - y))


def change_points(f_NxC, max_bkps: int, min_size: int, min_bkps: int = 0) -> list[int]:
    """Change points (sample indices, ascending, the end excluded) by kernel CPD with the elbow rule; at least
    ``min_bkps`` of them when segments of ``min_size`` leave room for that many."""
    import ruptures as rpt

    n = len(f_NxC)
    max_bkps = max(0, min(max_bkps, n // max(min_size, 1) - 1))
    algo = rpt.KernelCPD(kernel="rbf", min_size=max(min_size, 2)).fit(f_NxC)
    bkps = {0: [n]}
    costs = [algo.cost.sum_of_costs([n])]
    for m in range(1, max_bkps + 1):
        try:
            b = algo.predict(n_bkps=m)
        except Exception:  # ruptures refuses when m segments of min_size do not fit
            break
        bkps[m] = b
        costs.append(algo.cost.sum_of_costs(b))
    m = min(max(elbow(costs), min_bkps), max(bkps))
    return bkps[m][:-1]


def smooth_in_time(f_NxC, sigma: float) -> np.ndarray:
    """Each feature smoothed along time by a Gaussian of standard deviation ``sigma`` samples (edges: nearest)."""
    from scipy.ndimage import gaussian_filter1d

    return gaussian_filter1d(np.asarray(f_NxC, np.float64), sigma, axis=0, mode="nearest") if sigma > 0 else np.asarray(f_NxC)


def labels_from_cuts(n: int, cuts) -> np.ndarray:
    """Segment index of each of n samples for the given cut positions."""
    seg = np.zeros(n, np.int64)
    for c in cuts:
        seg[int(c) :] += 1
    return seg


def segment_descriptors(f_NxC, seg_N, stats: str = "mean") -> np.ndarray:
    """One row per segment (in the order of ``np.unique(seg_N)``): its mean ("mean"), its per-feature
    standard deviation ("std"), or both side by side ("mean_std")."""
    if stats not in SEGMENT_STATS:
        raise ValueError(f"unknown segment_stats {stats!r}; use one of {SEGMENT_STATS}")
    parts = [f_NxC[seg_N == i] for i in np.unique(seg_N)]
    rows = []
    if stats in ("mean", "mean_std"):
        rows.append(np.stack([p.mean(0) for p in parts]))
    if stats in ("std", "mean_std"):  # a still pose and a periodic motion can share a mean, not a spread
        rows.append(np.stack([p.std(0) for p in parts]))
    return np.concatenate(rows, 1)


def cluster_segments(f_NxC, seg_N, k: int, linkage: str = "ward", stats: str = "mean") -> np.ndarray:
    """Agglomerative clustering of segment descriptors (``segment_descriptors``) into k classes; returns a class
    per sample. Ward, or average linkage: on cosine distance for descriptors with the mean (a posture is a
    direction in feature space), on Euclidean distance for "std" (how much a segment moves matters, not only
    which features move: walking and running move the same joints, running more)."""
    from sklearn.cluster import AgglomerativeClustering

    if linkage not in ("ward", "average"):
        raise ValueError(f"unknown linkage {linkage!r}; use 'ward' or 'average'")
    ids = np.unique(seg_N)
    desc = segment_descriptors(f_NxC, seg_N, stats)
    if len(ids) <= k:
        return seg_N.copy()
    if linkage == "ward":
        model = AgglomerativeClustering(n_clusters=k, linkage="ward")
    else:
        model = AgglomerativeClustering(n_clusters=k, linkage="average", metric="euclidean" if stats == "std" else "cosine")
    lab = model.fit_predict(desc)
    return lab[np.searchsorted(ids, seg_N)]


def majority_filter(labels, width: int) -> np.ndarray:
    """Each frame takes the most common label within ``width`` frames centred on it."""
    labels = np.asarray(labels)
    if width <= 1:
        return labels.copy()
    classes, idx = np.unique(labels, return_inverse=True)
    one_hot = np.eye(len(classes))[idx]
    kernel = np.ones(width)
    counts = np.stack([np.convolve(one_hot[:, c], kernel, mode="same") for c in range(len(classes))], 1)
    return classes[np.argmax(counts, 1)]


def segment_embedding(x_TxH, k: int, fps: float, cfg: SegmentConfig = SegmentConfig(), seed: int = 0,
                      frames_TxD=None, splices_N=None) -> np.ndarray:
    """Our segmentation: a label per frame from a per-frame embedding and the number of classes k.

    ``frames_TxD`` (the normalized input frames) are appended to the features with weight
    ``cfg.frames_weight`` and searched for splices (method "cpd"; ``splices_N``, from ``config_splices``, saves
    the search when the caller has them already); without them only the embedding is used."""
    x = np.asarray(x_TxH)
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f"embedding must be (frames, features) with at least 2 frames, got {x.shape}")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if cfg.method not in METHODS:
        raise ValueError(f"unknown segmentation method {cfg.method!r}; choose one of {METHODS}")
    if cfg.within_recordings not in RECORDING_MODES:
        raise ValueError(f"unknown within_recordings {cfg.within_recordings!r}; choose one of {RECORDING_MODES}")
    if frames_TxD is not None and len(frames_TxD) != len(x):
        raise ValueError(f"{len(frames_TxD)} frames for an embedding of {len(x)}")
    if cfg.min_segments_over_k < 0:
        raise ValueError(f"min_segments_over_k must be >= 0, got {cfg.min_segments_over_k}")
    if cfg.cpd_smooth_s < 0:
        raise ValueError(f"cpd_smooth_s must be >= 0 seconds, got {cfg.cpd_smooth_s}")
    f = _features(x, cfg, frames_TxD)
    if cfg.method == "cpd":
        step = max(1, int(round(fps / cfg.target_fps)))
        fs = f[::step]
        min_size = max(2, int(round(cfg.min_seg_s * fps / step)))
        if splices_N is None:
            splices_N = [] if frames_TxD is None else config_splices(frames_TxD, fps, cfg)
        sp = sorted({int(round(t / step)) for t in splices_N} - {0, len(fs)})
        if cfg.within_recordings == "none" and len(sp) + 1 >= k:
            cuts = sp
        else:
            fc = smooth_in_time(f, cfg.cpd_smooth_s * fps)[::step]  # fs itself when cpd_smooth_s is 0
            min_bkps = k - 1 + cfg.min_segments_over_k if cfg.min_segments_over_k > 0 else 0
            cuts = [c for c in change_points(fc, cfg.max_bkps, min_size, min_bkps) if all(abs(c - t) >= min_size for t in sp)]
            cuts = sorted(set(cuts) | set(sp))
        lab = cluster_segments(fs, labels_from_cuts(len(fs), cuts), k, cfg.linkage, cfg.segment_stats)
        return np.repeat(lab, step)[: len(x)]
    if cfg.method == "kmeans":
        from sklearn.cluster import KMeans

        lab = KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(f)
    else:
        from sklearn.cluster import AgglomerativeClustering

        lab = AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(f)
    return majority_filter(lab, int(round(cfg.smooth_s * fps)))


def states_splices(emb, frames_TxD, fps: float, cfg: SegmentConfig = SegmentConfig()) -> np.ndarray:
    """The splices ``segment_states`` cuts at, as frames of the whole sequence (searched among the predicted
    frames, as ``segment_states`` does)."""
    cov = np.asarray(emb.covered)
    return np.flatnonzero(cov)[config_splices(np.asarray(frames_TxD)[cov], fps, cfg)]


def segment_states(emb, k: int, fps: float, cfg: SegmentConfig = SegmentConfig(), seed: int = 0,
                   frames_TxD=None, splices_T=None) -> np.ndarray:
    """Our segmentation of an ``embed.Embedding``: only the frames a decoder predicted are segmented (the
    copies filled in at the start and the tail would form an artificial constant segment), then the others
    take the label of the nearest predicted frame. ``splices_T`` (from ``states_splices``) saves searching the
    frames for splices again when the caller has them."""
    cov = np.asarray(emb.covered)
    lab = np.zeros(len(cov), np.int64)
    fr = None if frames_TxD is None else np.asarray(frames_TxD)[cov]
    sp = None if splices_T is None else np.searchsorted(np.flatnonzero(cov), np.asarray(splices_T, np.int64))
    lab[cov] = segment_embedding(emb.states[cov], k, fps, cfg, seed, fr, sp)
    return embed.fill_nearest(lab, cov)


def _single_linkage_cosine(x_NxH, k: int) -> np.ndarray:
    from sklearn.cluster import AgglomerativeClustering

    return AgglomerativeClustering(n_clusters=min(k, len(x_NxH)), metric="cosine", linkage="single").fit_predict(x_NxH)


def _fill(labels_T, covered_T):
    idx = np.flatnonzero(covered_T)
    return labels_T[idx[np.clip(np.searchsorted(idx, np.arange(len(labels_T)), side="right") - 1, 0, len(idx) - 1)]] \
        if len(idx) else labels_T


def _cluster_and_fill(states_NxH, frames_N, n_frames: int, k: int) -> np.ndarray:
    """The reference's labelling: decoder states clustered (cosine, single linkage), each frame without a
    state taking the label of the previous labelled frame."""
    lab = np.zeros(n_frames, np.int64)
    covered = np.zeros(n_frames, bool)
    lab[frames_N] = _single_linkage_cosine(states_NxH, k)
    covered[frames_N] = True
    return _fill(lab, covered)


def reference_cut_rule(params, cfg: ModelConfig, z_TxD, k: int, threshold: float = 1.0):
    """The reference's case-(i) protocol: returns (labels_T, cuts).

    Windows advance by T frames (the reference: by S, the same in case i); a window whose MSE exceeds ``threshold`` is cut at the decoder step of
    largest mean absolute error, its states after the cut are dropped, and the next window starts at the
    cut. Frames without a decoder state (the first S, those after a cut and a short tail) take the label of
    the previous labelled frame (the reference inserts copies of neighbouring labels).
    """
    z = np.asarray(z_TxD, np.float32)
    S, T = cfg.source, cfg.target
    windows._check(z, S, T)
    states, frames, cuts, start = [], [], [], 0
    while start + S + T <= len(z):
        out = embed.run_windows(params, cfg, z[None, start : start + S + T], chunk=1)
        keep = np.arange(T)
        win_start = start
        if out["sq_err"][0].mean() > threshold:
            i = int(np.argmax(out["abs_err"][0]))
            keep = keep[:i]
            start = win_start + S + i
            cuts.append(start)
        else:
            start = win_start + T  # decoders tile the sequence (the reference advances by S; S = T in case i)
        states.append(out["states"][0][keep])
        frames.append(win_start + S + keep)
    return _cluster_and_fill(np.concatenate(states), np.concatenate(frames), len(z), k), cuts


def reference_oracle(params, cfg: ModelConfig, z_TxD, segments, k: int):
    """The reference's subject-86 protocol (USES THE GROUND-TRUTH BOUNDARIES): returns labels_T.

    Each ground-truth segment (start, end) is windowed separately with stride T, the decoder states of all
    windows are clustered (cosine, single linkage, k clusters), and frames without a state take the label of
    the previous labelled frame.
    """
    z = np.asarray(z_TxD, np.float32)
    all_states, all_frames = [], []
    for a, b in segments:
        if b - a < cfg.source + cfg.target:
            continue
        win, starts = windows.sliding_windows(z[a:b], cfg.source, cfg.target, cfg.target)
        st = embed.run_windows(params, cfg, win)["states"]
        all_states.append(st.reshape(-1, st.shape[-1]))
        all_frames.append((a + starts[:, None] + cfg.source + np.arange(cfg.target)[None]).reshape(-1))
    return _cluster_and_fill(np.concatenate(all_states), np.concatenate(all_frames), len(z), k)
