"""The settings of our segmentation, validated in one place."""

from __future__ import annotations

import dataclasses

from seq2seq_jax.config import real_numbers, whole_numbers

METHODS = ("cpd", "kmeans", "agglomerative")  # SegmentConfig.method
RECORDING_MODES = ("cpd", "none")  # SegmentConfig.within_recordings
SEGMENT_STATS = ("mean", "std", "mean_std", "motion", "spectrum")  # SegmentConfig.segment_stats
MOTION_S = 0.5  # "motion": the local spread is taken over a Gaussian window of this standard deviation, seconds
# "spectrum": each input channel's power in these bands (Hz; from a slow sway to a fast shake, an octave each but
# the lowest), estimated by Welch's method over SPECTRUM_S-second windows (the whole segment where it is shorter), on
# a log scale
SPECTRUM_BANDS_HZ = ((0.2, 0.7), (0.7, 1.4), (1.4, 2.8), (2.8, 5.6))
SPECTRUM_S = 2.0
SPECTRUM_MIN_RATE = 15.0  # samples per second at least, so that the top band lies below half the rate
LINKAGES = ("average", "ward", "ward_whitened", "chamfer")  # SegmentConfig.linkage
SAMPLE_LINKAGES = ("ward_whitened", "chamfer")  # the linkages that cluster the segments' samples, not a descriptor
MOTION_FEATURES = ("clustering", "frames")  # SegmentConfig.motion_features
CONSENSUS = ("coassociation", "median")  # SegmentConfig.consensus
COUNT_RULES = ("elbow", "class_elbow")  # SegmentConfig.count_rule


@dataclasses.dataclass(frozen=True)
class SegmentConfig:
    """Our segmentation of a per-frame embedding. How each default was chosen: docs/method.md."""

    method: str = "cpd"  # "cpd" (change points + segment clustering), "kmeans" or "agglomerative" on frames
    pca_var: float = 0.95  # PCA keeps this fraction of the variance (or an int: that many components)
    l2_normalize: bool = False  # L2-normalise each frame's state before PCA
    target_fps: float = 30.0  # sub-sample to about this rate before change-point detection
    max_cpd_samples: int = 4000  # ... and to at most this many samples (the kernel search is quadratic in them)
    max_bkps: int = 25  # the elbow is searched over 0 .. max_bkps change points
    min_seg_s: float = 1.0  # shortest segment, seconds
    smooth_s: float = 1.0  # majority filter for the frame methods, seconds
    linkage: str = "average"  # clustering of segments: "average" (cosine distance; Euclidean for "std"), "ward"
    # (on segment descriptors), or "ward_whitened" (Ward on the samples, segments whole, whitened features:
    # clustering.whitened_ward), or "chamfer" (segments whole, groups as far apart as their samples:
    # clustering.chamfer_linkage)
    whiten_shrink: float = 0.0  # "ward_whitened": how much of the pooled within-segment covariance is replaced
    # by its mean variance before whitening (0: whiten fully, 1: not at all; clustering.whitened_ward)
    segment_stats: str = "mean"  # segment descriptor: "mean" (where it sits), "std" (how it moves), "mean_std",
    # "motion" (the mean over the segment of each feature's local spread, MOTION_S: how it moves, not counting the
    # change of posture at a segment's ends, which inflates "std" where a cut lands a little off), or "spectrum"
    # (the log power of every input frame channel in SPECTRUM_BANDS_HZ: at which rhythm each part of the body
    # moves; it describes the input frames, not the embedding, and needs them)
    frames_weight: float = 0.5  # weight of the input frames' PCA features beside the states' (0: states only);
    # each block is scaled to unit RMS norm first
    splice_share: float = 0.6  # a splice: a frame-to-frame jump over 10x its channel's typical change in at least
    # this share of the channels, as where two recordings were joined (0: no splice detection)
    within_recordings: str = "cpd"  # "cpd": change points inside the pieces between splices too; "none": each piece
    # is one segment (falls back to "cpd" when there are fewer pieces than k)
    cpd_smooth_s: float = 0.0  # Gaussian smoothing (standard deviation, seconds) of the features in time before
    # change-point detection only (0: none): the decoder states jitter from window to window
    min_segments_over_k: int = 1  # at least k - 1 + this many change points, so that there are more segments than
    # classes and the clustering decides which segments share a class (0: the elbow alone)
    count_rule: str = "elbow"  # how many change points: "elbow" of the kernel cost curve (at least the floors
    # below), or "class_elbow": at least as many as the elbow of the cost of k classes over the pieces too
    # (changepoints.change_points), which goes on where short segments of recurring classes bend the kernel cost early
    max_mean_segment_s: float = 0.0  # at least as many change points as keep the mean segment this long or shorter:
    # ceil(seconds / this) - 1 (up to max_bkps; 0: no such floor), a prior on how long an action lasts
    frames_in_clustering: bool = True  # the frames' features also in the clustering of segments (False: they
    # serve the change points only, and the segments are clustered by the embedding alone)
    motion_votes: bool = False  # an ensemble's consensus also takes each model's segmentation with segment_stats
    # "motion" (average linkage): where a segment sits and how it moves both vote (consensus.segment_ensemble)
    chamfer_votes: bool = False  # an ensemble's consensus also takes each model's segmentation with linkage
    # "chamfer" (the pieces clustered by how near their samples lie): a third view (consensus.views; none where
    # linkage is "chamfer" already)
    spectrum_votes: bool = False  # an ensemble's consensus also takes each model's segmentation with segment_stats
    # "spectrum" (its pieces clustered by the rhythm of the input frames in them; consensus.views)
    motion_features: str = "clustering"  # what segment_stats "motion" describes: the clustering's features (as
    # the other descriptors), or "frames": the input frames' PCA features alone (how the body moves, whatever
    # the model's states do)
    frames_votes: bool = False  # an ensemble's consensus also takes our segmentation of the input frames alone
    # (no model; in each view, as a model's): the frames are one more voter
    consensus: str = "coassociation"  # how an ensemble's labellings are combined (consensus.segment_ensemble):
    # "coassociation" (the segments where the labellings change, clustered by how often they share a class) or
    # "median" (the labelling that agrees most with all the others, by summed ARI: the medoid partition)

    def __post_init__(self):
        floats = (
            "pca_var",
            "target_fps",
            "min_seg_s",
            "smooth_s",
            "frames_weight",
            "splice_share",
            "cpd_smooth_s",
            "max_mean_segment_s",
            "whiten_shrink",
        )
        real_numbers(self, floats, finite=True)  # inf would overflow the frame counts
        whole_numbers(self, ("max_bkps", "min_segments_over_k"))
        whole_numbers(self, ("max_cpd_samples",), least=100)
        for name, allowed in (
            ("method", METHODS),
            ("within_recordings", RECORDING_MODES),
            ("segment_stats", SEGMENT_STATS),
            ("linkage", LINKAGES),
            ("motion_features", MOTION_FEATURES),
            ("consensus", CONSENSUS),
            ("count_rule", COUNT_RULES),
        ):
            if getattr(self, name) not in allowed:
                raise ValueError(f"unknown {name} {getattr(self, name)!r}; choose one of {allowed}")
        if self.linkage in SAMPLE_LINKAGES and self.segment_stats != "mean":
            raise ValueError(
                f"linkage {self.linkage!r} clusters the segments' samples; use segment_stats 'mean' (got "
                f"{self.segment_stats!r}) or linkage 'average'"
            )
        if self.min_segments_over_k < 0:
            raise ValueError(f"min_segments_over_k must be >= 0 (0: the elbow alone), got {self.min_segments_over_k}")
        if self.max_mean_segment_s < 0:
            raise ValueError(f"max_mean_segment_s must be >= 0 seconds (0: no floor), got {self.max_mean_segment_s}")
        if not 0.0 <= self.whiten_shrink <= 1.0:
            raise ValueError(
                f"whiten_shrink must lie in [0, 1] (0: whiten fully, 1: not at all), got {self.whiten_shrink}"
            )
        if self.cpd_smooth_s < 0:
            raise ValueError(f"cpd_smooth_s must be >= 0 seconds (0: no smoothing), got {self.cpd_smooth_s}")
        for name in ("target_fps", "min_seg_s", "pca_var"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        if self.max_bkps < 0 or self.smooth_s < 0 or self.frames_weight < 0 or self.splice_share < 0:
            raise ValueError("max_bkps, smooth_s, frames_weight and splice_share must be >= 0")
