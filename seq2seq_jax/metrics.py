"""Segmentation and clustering metrics (one module, the protocols of docs/BENCHMARKS in ../shared/docs).

- accuracy after first-appearance relabelling (the reference's ``order_labels``): harsh, one early merge
  shifts every later label;
- accuracy after the optimal one-to-one matching of predicted to true classes (Hungarian, SciPy);
- ARI, AMI, NMI, homogeneity, completeness, V-measure (scikit-learn);
- number of predicted segments;
- boundary precision, recall, F1: a predicted boundary (a frame where the predicted label changes) is a
  hit when it lies inside a true transition's tolerance window [lo, hi]; each window is matched at most
  once (an optimal one-to-one matching); the end of the sequence is no boundary.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn import metrics as skm
from sklearn.metrics.cluster import contingency_matrix


def _as_labels(x) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 1:
        raise ValueError(f"labels must be 1-D, got shape {x.shape}")
    return x


def _pair(true, pred):
    true, pred = _as_labels(true), _as_labels(pred)
    if len(true) != len(pred):
        raise ValueError(f"{len(true)} true labels but {len(pred)} predicted")
    if len(true) == 0:
        raise ValueError("no labels to score")
    return true, pred


def order_labels(labels) -> np.ndarray:
    """Relabels by order of first appearance: the first label seen becomes 0, the next new one 1, ..."""
    labels = _as_labels(labels)
    _, first = np.unique(labels, return_index=True)
    order = labels[np.sort(first)]
    rank = {v: i for i, v in enumerate(order)}
    return np.array([rank[v] for v in labels], dtype=np.int64)


def accuracy_first_appearance(true, pred) -> float:
    true, pred = _pair(true, pred)
    return float(np.mean(order_labels(true) == order_labels(pred)))


def hungarian_mapping(true, pred) -> dict:
    """The one-to-one map predicted class -> true class that maximises the frames matched."""
    true, pred = _pair(true, pred)
    t_cls, t_idx = np.unique(true, return_inverse=True)
    p_cls, p_idx = np.unique(pred, return_inverse=True)
    c = np.zeros((len(p_cls), len(t_cls)), np.int64)
    np.add.at(c, (p_idx, t_idx), 1)
    rows, cols = linear_sum_assignment(c, maximize=True)
    return {p_cls[r]: t_cls[q] for r, q in zip(rows, cols)}


def accuracy_hungarian(true, pred) -> float:
    true, pred = _pair(true, pred)
    c = contingency_matrix(true, pred)
    rows, cols = linear_sum_assignment(c, maximize=True)
    return float(c[rows, cols].sum() / len(true))


def boundaries(labels) -> np.ndarray:
    """Frames where the label changes (the first frame of each new segment)."""
    labels = _as_labels(labels)
    return np.flatnonzero(labels[1:] != labels[:-1]) + 1


def n_segments(labels) -> int:
    return int(len(boundaries(labels)) + 1)


def boundary_scores(pred_boundaries, windows) -> dict:
    """Precision, recall and F1 of predicted boundaries against true tolerance windows [lo, hi].

    Each window is matched at most once, and each predicted boundary at most once (optimal matching), so
    two predicted boundaries inside one window count once.
    """
    b = np.asarray(pred_boundaries, dtype=np.int64).reshape(-1)
    w = np.asarray(windows, dtype=np.int64).reshape(-1, 2)
    n_pred, n_true = len(b), len(w)
    if n_pred and n_true:
        hit = (b[:, None] >= w[None, :, 0]) & (b[:, None] <= w[None, :, 1])
        rows, cols = linear_sum_assignment(hit.astype(np.int64), maximize=True)
        matched = int(hit[rows, cols].sum())
    else:
        matched = 0
    precision = matched / n_pred if n_pred else float(n_true == 0)
    recall = matched / n_true if n_true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "boundary_precision": precision,
        "boundary_recall": recall,
        "boundary_f1": f1,
        "boundaries_matched": matched,
    }


def windows_around(cuts, tolerance: int) -> list[tuple[int, int]]:
    """Tolerance windows [cut - tolerance, cut + tolerance] (case i: 120 frames, 1 s at 120 fps)."""
    return [(int(c) - tolerance, int(c) + tolerance) for c in cuts]


def all_metrics(true, pred, windows=None) -> dict:
    """Every metric of this module as a dict of floats (boundary scores when ``windows`` are given)."""
    true, pred = _pair(true, pred)
    h, c, v = skm.homogeneity_completeness_v_measure(true, pred)
    out = {
        "acc_hungarian": accuracy_hungarian(true, pred),
        "acc_first": accuracy_first_appearance(true, pred),
        "ari": float(skm.adjusted_rand_score(true, pred)),
        "ami": float(skm.adjusted_mutual_info_score(true, pred)),
        "nmi": float(skm.normalized_mutual_info_score(true, pred)),
        "homogeneity": float(h),
        "completeness": float(c),
        "v_measure": float(v),
        "n_segments": n_segments(pred),
        "n_segments_true": n_segments(true),
    }
    if windows is not None:
        out.update(boundary_scores(boundaries(pred), windows))
    return out
