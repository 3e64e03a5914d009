"""Clustering of segments (by their descriptors) and of frames (majority filter)."""

from __future__ import annotations

import numpy as np

from seq2seq_jax.segmentation.config import LINKAGES, SEGMENT_STATS, SPECTRUM_BANDS_HZ, SPECTRUM_S


def local_spread(f_NxC, sigma: float) -> np.ndarray:
    """Each feature's standard deviation within a Gaussian window of ``sigma`` samples around every sample."""
    from scipy.ndimage import gaussian_filter1d

    f = np.asarray(f_NxC, np.float64)
    m = gaussian_filter1d(f, sigma, axis=0, mode="nearest")
    return np.sqrt(np.maximum(gaussian_filter1d(f * f, sigma, axis=0, mode="nearest") - m * m, 0.0))


def band_power(x_NxC, rate: float) -> np.ndarray:
    """log(power + 1e-6) of every feature in each band of ``SPECTRUM_BANDS_HZ`` (band-major: the first band's C
    values, then the next's), by Welch's method over windows of ``SPECTRUM_S`` seconds (the whole of x where it
    is shorter; x sampled at ``rate`` per second). A band that falls between the frequencies a short x resolves
    takes the nearest one. The log makes every channel count by how its power compares, not by its variance,
    so that a small joint's rhythm weighs as much as the root's."""
    from scipy.signal import welch

    x = np.asarray(x_NxC, np.float64)
    if len(x) < 2:
        raise ValueError(f"a band power needs at least 2 samples, got {len(x)}")
    freq, power = welch(x, rate, nperseg=min(len(x), max(2, int(round(SPECTRUM_S * rate)))), axis=0)
    rows = []
    for lo, hi in SPECTRUM_BANDS_HZ:
        inside = (freq >= lo) & (freq < hi)
        rows.append(power[inside].mean(0) if inside.any() else power[np.argmin(np.abs(freq - (lo + hi) / 2))])
    return np.log(np.concatenate(rows) + 1e-6)


def segment_descriptors(f_NxC, seg_N, stats: str = "mean", motion_sigma: float = 0.0, rate: float = 0.0) -> np.ndarray:
    """One row per segment (in the order of ``np.unique(seg_N)``): its mean ("mean"), its per-feature
    standard deviation ("std"), both side by side ("mean_std"), the mean of each feature's ``local_spread``
    over ``motion_sigma`` samples ("motion"), or each feature's ``band_power`` (``rate``: samples per second;
    "spectrum"; a segment of one sample is taken with its neighbours)."""
    if stats not in SEGMENT_STATS:
        raise ValueError(f"unknown segment_stats {stats!r}; use one of {SEGMENT_STATS}")
    if stats == "spectrum":
        if rate <= 0:
            raise ValueError(f"segment_stats 'spectrum' needs the sampling rate (rate > 0 per second), got {rate}")
        rows = []
        for i in np.unique(seg_N):
            at = np.flatnonzero(seg_N == i)
            if len(at) < 2:  # one sample (a splice beside it): its neighbours lend it the second a spectrum needs
                at = np.arange(max(0, at[0] - 1), min(len(seg_N), at[0] + 2))
            rows.append(band_power(f_NxC[at], rate))
        return np.stack(rows)
    if stats == "motion":
        if motion_sigma <= 0:
            raise ValueError(f"segment_stats 'motion' needs motion_sigma > 0 samples, got {motion_sigma}")
        f_NxC = local_spread(f_NxC, motion_sigma)
        stats = "mean"
    parts = [f_NxC[seg_N == i] for i in np.unique(seg_N)]
    rows = []
    if stats in ("mean", "mean_std"):
        rows.append(np.stack([p.mean(0) for p in parts]))
    if stats in ("std", "mean_std"):  # a still pose and a periodic motion can share a mean, not a spread
        rows.append(np.stack([p.std(0) for p in parts]))
    return np.concatenate(rows, 1)


def whitened_ward(f_NxC, seg_N, k: int, shrink: float = 0.0) -> np.ndarray:
    """Ward's minimum-variance clustering of the samples into k classes with every segment kept whole, in the
    feature space whitened by the pooled within-segment covariance (Ledoit-Wolf shrinkage); returns a class per
    sample. Merging groups a and b costs n_a n_b / (n_a + n_b) |m_a - m_b|^2 (n: samples, m: whitened means), so
    a segment counts by its length, and a short segment's noisy mean is cheap to merge. Fully whitened, an
    invertible linear map of the features (their scale, the frames' weight) changes nothing but the shrinkage,
    and, unlike cosine distance, it has no origin: cosine measures directions from the recording's mean, which
    under a dominant action is that action's own mean, so its segments point anywhere and the other actions'
    segments all point alike (docs/results/clustering.md).

    ``shrink`` in [0, 1] whitens part of the way: the pooled covariance C is taken as (1 - shrink) C + shrink
    (trace C / d) I, so that no direction weighs more than 1 / sqrt(shrink) times one of average spread (1: no
    whitening, Ward on the plain features with the segments whole and weighed by their length). Full whitening
    lets what hardly changes within a segment weigh most, such as where the body is and which way it faces, and
    that splits one action done in two places (docs/results/partial_whitening.md)."""
    from sklearn.covariance import LedoitWolf

    if not 0.0 <= shrink <= 1.0:
        raise ValueError(f"whiten_shrink must lie in [0, 1] (0: whiten fully, 1: not at all), got {shrink}")
    seg_N = np.asarray(seg_N)
    ids, idx = np.unique(seg_N, return_inverse=True)
    if len(ids) <= k:
        return idx
    f = np.asarray(f_NxC, np.float64)
    n = np.bincount(idx).astype(np.float64)
    means = segment_descriptors(f, seg_N, "mean")  # in the order of ids
    if shrink < 1.0:
        cov = LedoitWolf().fit(f - means[idx]).covariance_
        cov = (1.0 - shrink) * cov + shrink * np.trace(cov) / len(cov) * np.eye(len(cov))
        m = means @ np.linalg.cholesky(np.linalg.inv(cov))
    else:  # a multiple of the identity: Ward's merges do not depend on the scale
        m = means.copy()
    # Lance-Williams is not needed at this size (tens of segments): merge the cheapest pair until k are left;
    # scikit-learn's and SciPy's Ward take no sample weights.
    groups = [[i] for i in range(len(ids))]
    while len(groups) > k:
        size = n[:, None] * n[None] / (n[:, None] + n[None])
        cost = size * ((m[:, None] - m[None]) ** 2).sum(-1)
        cost[np.tril_indices(len(cost))] = np.inf
        a, b = np.unravel_index(np.argmin(cost), cost.shape)
        m[a] = (n[a] * m[a] + n[b] * m[b]) / (n[a] + n[b])
        n[a] += n[b]
        groups[a] += groups.pop(b)
        m, n = np.delete(m, b, 0), np.delete(n, b)
    label_of = np.empty(len(ids), np.int64)
    for c, members in enumerate(groups):
        label_of[members] = c
    return label_of[idx]


def chamfer_linkage(f_NxC, seg_N, k: int, chunk: int = 1024) -> np.ndarray:
    """Agglomerative clustering of the segments into k classes by how near their samples lie, not by a summary of
    each; returns a class per sample. Two groups of segments are as far apart as the symmetric chamfer distance of
    their samples: each sample's Euclidean distance to the nearest sample of the other group, averaged over each
    group's samples, and the two averages averaged. The nearest pair of groups merges until k are left. A recording
    whose motions recur is near itself wherever it is cut (each piece finds its samples' like in the others), even
    where the pieces' means differ as much as two actions' do (docs/results/chamfer.md). The distances are taken
    ``chunk`` samples at a time, so memory stays linear in the samples."""
    from scipy.spatial.distance import cdist

    seg_N = np.asarray(seg_N)
    ids, idx = np.unique(seg_N, return_inverse=True)
    if len(ids) <= k:
        return idx
    f = np.asarray(f_NxC, np.float64)
    groups = [[j] for j in range(len(ids))]
    samples = [np.flatnonzero(idx == j) for j in range(len(ids))]  # each group's samples
    near = []  # near[g][n]: sample n's distance to the nearest sample of group g
    for s in samples:
        near.append(np.concatenate([cdist(f[a : a + chunk], f[s]).min(1) for a in range(0, len(f), chunk)]))

    def apart(a, b):
        return 0.5 * (near[b][samples[a]].mean() + near[a][samples[b]].mean())

    while len(groups) > k:
        _, a, b = min((apart(a, b), a, b) for a in range(len(groups)) for b in range(a + 1, len(groups)))
        groups[a] += groups.pop(b)
        samples[a] = np.concatenate([samples[a], samples.pop(b)])
        near[a] = np.minimum(near[a], near.pop(b))  # the nearest sample of the union is the nearer of the two
    label_of = np.empty(len(ids), np.int64)
    for c, g in enumerate(groups):
        label_of[g] = c
    return label_of[idx]


def cluster_segments(
    f_NxC,
    seg_N,
    k: int,
    linkage: str = "ward",
    stats: str = "mean",
    motion_sigma: float = 0.0,
    whiten_shrink: float = 0.0,
    rate: float = 0.0,
) -> np.ndarray:
    """Agglomerative clustering of segment descriptors (``segment_descriptors``; ``rate``: the samples per second,
    for "spectrum") into k classes; returns a class per sample. Ward, or average linkage: on cosine distance for
    descriptors with the mean (a posture is a direction in feature space), on Euclidean distance for "std",
    "motion" and "spectrum" (how much a segment moves matters, not only which features move: walking and running
    move the same joints, running more). "ward_whitened":
    ``whitened_ward`` of the samples themselves (segment means only), whitened part of the way by
    ``whiten_shrink``. "chamfer": ``chamfer_linkage`` of the samples themselves (the segments' own samples, not a
    descriptor)."""
    from sklearn.cluster import AgglomerativeClustering

    if linkage not in LINKAGES:
        raise ValueError(f"unknown linkage {linkage!r}; choose one of {LINKAGES}")
    if linkage == "ward_whitened":
        if stats != "mean":
            raise ValueError(f"linkage 'ward_whitened' clusters segment means; segment_stats {stats!r} needs another")
        return whitened_ward(f_NxC, seg_N, k, whiten_shrink)
    if linkage == "chamfer":
        if stats != "mean":
            raise ValueError(f"linkage 'chamfer' clusters the segments' samples; segment_stats {stats!r} needs another")
        return chamfer_linkage(f_NxC, seg_N, k)
    ids = np.unique(seg_N)
    desc = segment_descriptors(f_NxC, seg_N, stats, motion_sigma, rate)
    if len(ids) <= k:
        return seg_N.copy()
    if linkage == "ward":
        model = AgglomerativeClustering(n_clusters=k, linkage="ward")
    else:
        model = AgglomerativeClustering(
            n_clusters=k, linkage="average", metric="euclidean" if stats in ("std", "motion", "spectrum") else "cosine"
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
