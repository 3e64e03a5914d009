"""Clustering of segments (by their descriptors) and of frames (majority filter)."""

from __future__ import annotations

import numpy as np

from seq2seq_jax.segmentation.config import LINKAGES, SEGMENT_STATS


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

    if linkage not in LINKAGES:
        raise ValueError(f"unknown linkage {linkage!r}; choose one of {LINKAGES}")
    ids = np.unique(seg_N)
    desc = segment_descriptors(f_NxC, seg_N, stats)
    if len(ids) <= k:
        return seg_N.copy()
    if linkage == "ward":
        model = AgglomerativeClustering(n_clusters=k, linkage="ward")
    else:
        model = AgglomerativeClustering(
            n_clusters=k, linkage="average", metric="euclidean" if stats == "std" else "cosine"
        )
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
