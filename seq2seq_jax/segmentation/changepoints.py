"""Change points: kernel change-point detection (ruptures ``KernelCPD``) with the elbow rule, and optionally the
elbow of the k-class cost (``class_cost``) beside it."""

from __future__ import annotations

import numpy as np


def elbow(costs) -> int:
    """Index of the elbow of a decreasing curve: the point farthest below the chord from first to last."""
    c = np.asarray(costs, np.float64)
    if len(c) < 3:
        return len(c) - 1
    x = np.linspace(0, 1, len(c))
    y = (c - c.min()) / max(c.max() - c.min(), 1e-12)
    chord = y[0] + (y[-1] - y[0]) * x
    return int(np.argmax(chord - y))


def class_cost(f_NxC, cuts, k: int) -> float:
    """The within-class sum of squares of the samples when the pieces between ``cuts`` are grouped into k classes
    by Ward's criterion, each piece whole and counted by its length (``clustering.whitened_ward`` not whitening):
    how well k classes explain the samples given these change points."""
    from seq2seq_jax.segmentation.clustering import whitened_ward

    f = np.asarray(f_NxC, np.float64)
    lab = whitened_ward(f, labels_from_cuts(len(f), cuts), k, shrink=1.0)
    return float(sum(((f[lab == c] - f[lab == c].mean(0)) ** 2).sum() for c in np.unique(lab)))


def cost_path(f_NxC, max_bkps: int, min_size: int) -> tuple[dict[int, list[int]], list[float]]:
    """Kernel CPD (RBF) on the samples: for every number m of change points from 0 to ``max_bkps`` that segments of
    ``min_size`` leave room for, the best change points ({m: their sample indices with the end appended}, as
    ruptures gives them) and the cost of each (a list indexed by m)."""
    import ruptures as rpt

    n = len(f_NxC)
    max_bkps = max(0, min(max_bkps, n // max(min_size, 1) - 1))
    algo = rpt.KernelCPD(kernel="rbf", min_size=max(min_size, 2)).fit(f_NxC)
    if max_bkps > 0:
        try:  # one dynamic programme gives every smaller number of change points too (ruptures keeps them)
            algo.predict(n_bkps=max_bkps)
        except Exception:  # they do not fit: each number in turn, up to the last that fits
            pass
    bkps = {0: [n]}
    costs = [algo.cost.sum_of_costs([n])]
    for m in range(1, max_bkps + 1):
        try:
            b = algo.predict(n_bkps=m)
        except Exception:  # ruptures refuses when m segments of min_size do not fit
            break
        bkps[m] = b
        costs.append(algo.cost.sum_of_costs(b))
    return bkps, costs


def class_costs(f_NxC, bkps: dict[int, list[int]], k: int) -> list[float]:
    """``class_cost`` of the change points of ``cost_path`` for every number from k - 1 to the largest (a list
    indexed by the number minus k - 1; empty when there are fewer than k - 1)."""
    return [class_cost(f_NxC, bkps[m][:-1], k) for m in range(max(k - 1, 0), max(bkps) + 1)]


def class_elbow(class_costs_, k: int) -> int:
    """The number of change points at the elbow of ``class_costs``'s curve (k - 1 first), each point taken as the
    least cost at that number or fewer (Ward's grouping is greedy, so more change points can cost a little more)."""
    return max(k - 1, 0) + elbow(np.minimum.accumulate(class_costs_))


def change_points(f_NxC, max_bkps: int, min_size: int, min_bkps: int = 0, classes: int | None = None) -> list[int]:
    """Change points (sample indices, ascending, the end excluded) by kernel CPD with the elbow rule; at least
    ``min_bkps`` of them when segments of ``min_size`` leave room for that many. With ``classes`` = k (count rule
    "class_elbow"), at least as many as the elbow of ``class_cost`` over k - 1 .. ``max_bkps`` change points: the
    kernel cost falls with every cut, wherever it lands, and on a recording of many short segments of recurring
    classes it bends before the true count; k classes explain the samples little better for a cut inside one
    segment and much better for a cut that parts two classes, so that curve bends at the cuts that change a class
    (docs/results/class_elbow.md)."""
    bkps, costs = cost_path(f_NxC, max_bkps, min_size)
    by_class = None if classes is None else class_costs(f_NxC, bkps, classes)
    return bkps[chosen_count(bkps, costs, min_bkps, by_class, classes)][:-1]


def chosen_count(bkps, costs, min_bkps: int = 0, class_costs_=None, k: int | None = None) -> int:
    """The number of change points ``change_points`` keeps from ``cost_path``'s result: the elbow of the kernel
    ``costs``, at least ``min_bkps`` as far as the path goes, and with ``class_costs_`` (``class_costs`` of k classes)
    at least their elbow where the path goes beyond k - 1 change points."""
    m = min(max(elbow(costs), min_bkps), max(bkps))
    if class_costs_ is not None and len(class_costs_) > 1:  # the path goes beyond k - 1
        m = max(m, class_elbow(class_costs_, k))
    return m


def smooth_in_time(f_NxC, sigma: float) -> np.ndarray:
    """Each feature smoothed along time by a Gaussian of standard deviation ``sigma`` samples (edges: nearest)."""
    from scipy.ndimage import gaussian_filter1d

    return (
        gaussian_filter1d(np.asarray(f_NxC, np.float64), sigma, axis=0, mode="nearest")
        if sigma > 0
        else np.asarray(f_NxC)
    )


def labels_from_cuts(n: int, cuts) -> np.ndarray:
    """Segment index of each of n samples for the given cut positions."""
    seg = np.zeros(n, np.int64)
    for c in cuts:
        seg[int(c) :] += 1
    return seg
