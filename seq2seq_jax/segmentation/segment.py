"""Our segmentation (only k is given): features, splices, change points, clustering of segments."""

from __future__ import annotations

import math

import numpy as np

from seq2seq_jax import embed
from seq2seq_jax.segmentation.changepoints import change_points, labels_from_cuts, smooth_in_time
from seq2seq_jax.segmentation.clustering import cluster_segments, majority_filter
from seq2seq_jax.segmentation.config import MOTION_S, SPECTRUM_MIN_RATE, SegmentConfig
from seq2seq_jax.segmentation.splices import config_splices


def _pca_features(x, cfg: SegmentConfig):
    n = cfg.pca_var if cfg.pca_var < 1 else int(cfg.pca_var)
    n = min(n, x.shape[1], len(x)) if isinstance(n, int) else n
    f, _ = embed.pca(x, n)
    return f


def _pca_blocks(x_TxH, cfg: SegmentConfig, frames_TxD=None):
    """(PCA features of the embedding, PCA features of the frames or None when not given or not weighted)."""
    x = np.asarray(x_TxH, np.float64)
    if cfg.l2_normalize:
        x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    f = _pca_features(x, cfg)
    if frames_TxD is None or cfg.frames_weight <= 0:
        return f, None
    return f, _pca_features(np.asarray(frames_TxD, np.float64), cfg)


def _joined(f, fr, cfg: SegmentConfig):
    if fr is None:
        return f
    rms = lambda a: np.sqrt(np.mean(np.sum(a * a, axis=1))) + 1e-12  # noqa: E731
    return np.concatenate([f / rms(f), cfg.frames_weight * fr / rms(fr)], axis=1)


def features(x_TxH, cfg: SegmentConfig, frames_TxD=None):
    """PCA features of the embedding, with the input frames' PCA features appended when given and
    ``cfg.frames_weight`` > 0 (each block scaled to unit RMS norm, the frames then weighted)."""
    return _joined(*_pca_blocks(x_TxH, cfg, frames_TxD), cfg)


def feature_sets(x_TxH, cfg: SegmentConfig, frames_TxD=None):
    """(the features the change points are searched in, ``features``; those the segments are clustered by: the
    same, or the embedding's PCA features alone when ``cfg.frames_in_clustering`` is False), each PCA done once."""
    f, fr = _pca_blocks(x_TxH, cfg, frames_TxD)
    joined = _joined(f, fr, cfg)
    return joined, joined if cfg.frames_in_clustering else f


def max_segments(n_frames: int, fps: float, cfg: SegmentConfig = SegmentConfig()) -> int:
    """How many segments of at least ``cfg.min_seg_s`` seconds the change-point search can place in ``n_frames``
    frames at ``fps`` (the most classes method "cpd" can form; the frame methods are not limited)."""
    if cfg.method != "cpd":
        return max(1, n_frames)
    step, min_size = cpd_grid(n_frames, fps, cfg)
    return max(1, -(-n_frames // step) // min_size)


def cpd_step(n_frames: int, fps: float, cfg: SegmentConfig = SegmentConfig()) -> int:
    """The sub-sampling of the change-point search: about ``cfg.target_fps``, coarser where the recording is
    longer than ``cfg.max_cpd_samples`` samples at that rate (the kernel search's memory and time grow with the
    square of the samples)."""
    return max(1, int(round(fps / cfg.target_fps)), -(-n_frames // cfg.max_cpd_samples))


def cpd_grid(n_frames: int, fps: float, cfg: SegmentConfig = SegmentConfig()) -> tuple[int, int]:
    """(sub-sampling step, shortest segment in sub-sampled samples) of the change-point search."""
    step = cpd_step(n_frames, fps, cfg)
    return step, max(2, int(round(cfg.min_seg_s * fps / step)))


def motion_sigma(fps: float, step: int) -> float:
    """``MOTION_S`` in samples of the change-point grid (frames at ``fps`` sub-sampled by ``step``)."""
    return MOTION_S * fps / step


def search_samples(f_TxF, fps: float, cfg: SegmentConfig = SegmentConfig()) -> tuple[np.ndarray, int]:
    """(the samples the change points are searched in: the features smoothed by ``cfg.cpd_smooth_s`` and
    sub-sampled on ``cpd_grid``, the shortest segment in those samples)."""
    step, min_size = cpd_grid(len(f_TxF), fps, cfg)
    return smooth_in_time(f_TxF, cfg.cpd_smooth_s * fps)[::step], min_size  # f itself, sub-sampled, when not smoothed


def search_cuts(f_TxF, k: int, fps: float, cfg: SegmentConfig = SegmentConfig()) -> list[int]:
    """The kernel change points of the features (in sub-sampled samples, ``cpd_grid``), smoothed by
    ``cfg.cpd_smooth_s`` first, at least k - 1 + ``cfg.min_segments_over_k`` of them and, with
    ``cfg.max_mean_segment_s``, at least ceil(seconds / it) - 1 (splices aside); with ``cfg.count_rule``
    "class_elbow" also at least the elbow of k classes' cost (``change_points``)."""
    fc, min_size = search_samples(f_TxF, fps, cfg)
    return change_points(fc, cfg.max_bkps, min_size, least_cuts(len(f_TxF), k, fps, cfg), count_classes(k, cfg))


def least_cuts(n_frames: int, k: int, fps: float, cfg: SegmentConfig = SegmentConfig()) -> int:
    """``search_cuts``'s floor on the number of change points in ``n_frames`` frames: k - 1 +
    ``cfg.min_segments_over_k`` (none when that is 0) and, with ``cfg.max_mean_segment_s``, ceil(seconds / it) - 1."""
    least = k - 1 + cfg.min_segments_over_k if cfg.min_segments_over_k > 0 else 0
    if cfg.max_mean_segment_s > 0:
        least = max(least, math.ceil(n_frames / fps / cfg.max_mean_segment_s) - 1)
    return least


def count_classes(k: int, cfg: SegmentConfig = SegmentConfig()) -> int | None:
    """The ``classes`` argument of ``change_points`` under ``cfg.count_rule``: k for "class_elbow", else None."""
    return k if cfg.count_rule == "class_elbow" else None


def cluster_pieces(
    f_cluster_TxF,
    cuts,
    k: int,
    fps: float,
    step: int,
    clusterings,
    f_frames_TxF=None,
    whiten_shrink: float = 0.0,
    f_input_TxD=None,
) -> list:
    """The pieces between ``cuts`` (sub-sampled samples, ``cpd_grid``'s ``step``) clustered into k classes by the
    sub-sampled features, once for each (linkage, segment_stats[, source]) of ``clusterings``: a label per frame
    for each. Source "clustering" (the default) clusters ``f_cluster_TxF``, "frames" ``f_frames_TxF`` (the input
    frames' PCA features), "input" ``f_input_TxD`` (the input frames as they are: segment_stats "spectrum");
    ``whiten_shrink``: ``SegmentConfig.whiten_shrink`` of linkage "ward_whitened"."""
    n = len(f_cluster_TxF)
    seg = labels_from_cuts(-(-n // step), cuts)
    given = {"clustering": f_cluster_TxF, "frames": f_frames_TxF, "input": f_input_TxD}
    out = []
    for link, stats, *source in clusterings:
        src = source[0] if source else "clustering"
        f = given[src]
        if f is None:
            raise ValueError(
                f"segment_stats {stats!r} of the {src!r} features needs the input frames (frames_TxD); pass them, or "
                "use another segment_stats (or motion_features 'clustering')"
            )
        at = spectrum_step(fps, step) if stats == "spectrum" else step  # the grid this clustering samples
        pieces = seg[np.arange(-(-n // at)) * at // step]  # the pieces on it (seg itself where at is step)
        lab = cluster_segments(f[::at], pieces, k, link, stats, motion_sigma(fps, at), whiten_shrink, rate=fps / at)
        out.append(np.repeat(lab, at)[:n])
    return out


def spectrum_step(fps: float, step: int) -> int:
    """The sub-sampling of the input frames that segment_stats "spectrum" describes: the change-point grid's ``step``,
    or a finer one where that grid samples slower than ``SPECTRUM_MIN_RATE`` per second (recordings longer than
    ``max_cpd_samples`` samples at ``target_fps``), so that every band of ``SPECTRUM_BANDS_HZ`` stays below half the
    rate."""
    return max(1, min(step, int(fps // SPECTRUM_MIN_RATE)))


def clustering_of(cfg: SegmentConfig) -> tuple[str, str, str]:
    """(linkage, segment_stats, source of the features) of ``cfg``'s clustering of segments (``cluster_pieces``)."""
    if cfg.segment_stats == "spectrum":
        return cfg.linkage, cfg.segment_stats, "input"
    source = cfg.motion_features if cfg.segment_stats == "motion" else "clustering"
    return cfg.linkage, cfg.segment_stats, source


def splice_samples(splices_N, step: int, n_sub: int) -> list[int]:
    """The splices (frames) as sub-sampled samples of the change-point search, the ends left out."""
    return sorted({int(round(t / step)) for t in splices_N} - {0, n_sub})


def with_splices(cuts, sp, min_size: int) -> list[int]:
    """The change points with every splice added; a change point nearer than ``min_size`` to a splice is dropped."""
    return sorted({c for c in cuts if all(abs(c - t) >= min_size for t in sp)} | set(sp))


def segment_embedding(
    x_TxH,
    k: int,
    fps: float,
    cfg: SegmentConfig = SegmentConfig(),
    seed: int = 0,
    frames_TxD=None,
    splices_N=None,
    clusterings=None,
):
    """Our segmentation: a label per frame from a per-frame embedding and the number of classes k.

    ``frames_TxD`` (the normalized input frames) are appended to the features with weight
    ``cfg.frames_weight`` and searched for splices (method "cpd"; ``splices_N``, from ``config_splices``, saves
    the search when the caller has them already); without them only the embedding is used. ``clusterings``, a
    list of (linkage, segment_stats[, source]) (method "cpd", ``cluster_pieces``): the same change points' segments
    clustered by each, a list of labels returned (the change points are searched once)."""
    x = np.asarray(x_TxH)
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f"embedding must be (frames, features) with at least 2 frames, got {x.shape}")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if frames_TxD is not None and len(frames_TxD) != len(x):
        raise ValueError(f"{len(frames_TxD)} frames for an embedding of {len(x)}")
    f, f_cluster = feature_sets(x, cfg, frames_TxD)
    if cfg.method == "cpd":
        step, min_size = cpd_grid(len(f), fps, cfg)
        n_sub = -(-len(f) // step)  # samples after sub-sampling
        if splices_N is None:
            splices_N = [] if frames_TxD is None else config_splices(frames_TxD, fps, cfg)
        sp = splice_samples(splices_N, step, n_sub)
        if cfg.within_recordings == "none" and len(sp) + 1 >= k:
            cuts = sp
        else:
            cuts = with_splices(search_cuts(f, k, fps, cfg), sp, min_size)
        todo = clusterings or [clustering_of(cfg)]
        f_frames = None
        if frames_TxD is not None and any(c[2:] == ("frames",) for c in todo):
            f_frames = _pca_features(np.asarray(frames_TxD, np.float64), cfg)
        labs = cluster_pieces(f_cluster, cuts, k, fps, step, todo, f_frames, cfg.whiten_shrink, frames_TxD)
        return labs if clusterings else labs[0]
    if clusterings:
        raise ValueError(f"clusterings of segments need method 'cpd', not {cfg.method!r}")
    if cfg.method == "kmeans":
        from sklearn.cluster import KMeans

        lab = KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(f)
    else:
        from sklearn.cluster import AgglomerativeClustering

        lab = AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(f)
    return majority_filter(lab, int(round(cfg.smooth_s * fps)))


def segment_states(
    emb,
    k: int,
    fps: float,
    cfg: SegmentConfig = SegmentConfig(),
    seed: int = 0,
    frames_TxD=None,
    splices_T=None,
    clusterings=None,
):
    """Our segmentation of an ``embed.Embedding``: only the frames a decoder predicted are segmented (the
    copies filled in at the start and the tail would form an artificial constant segment), then the others
    take the label of the nearest predicted frame. ``splices_T`` (from ``states_splices``) saves searching the
    frames for splices again when the caller has them; ``clusterings``: as for ``segment_embedding``."""
    cov = np.asarray(emb.covered)
    fr = None if frames_TxD is None else np.asarray(frames_TxD)[cov]
    sp = None if splices_T is None else np.searchsorted(np.flatnonzero(cov), np.asarray(splices_T, np.int64))
    got = segment_embedding(emb.states[cov], k, fps, cfg, seed, fr, sp, clusterings)
    out = []
    for part in got if clusterings else [got]:
        lab = np.zeros(len(cov), np.int64)
        lab[cov] = part
        out.append(embed.fill_nearest(lab, cov))
    return out if clusterings else out[0]
