"""Change points: kernel change-point detection (ruptures ``KernelCPD``) with the elbow rule."""

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


def change_points(f_NxC, max_bkps: int, min_size: int, min_bkps: int = 0) -> list[int]:
    """Change points (sample indices, ascending, the end excluded) by kernel CPD with the elbow rule; at least
    ``min_bkps`` of them when segments of ``min_size`` leave room for that many."""
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
    m = min(max(elbow(costs), min_bkps), max(bkps))
    return bkps[m][:-1]


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
