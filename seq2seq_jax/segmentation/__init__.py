"""Segmentation: ours (honest, only k is given) and the reference's two protocols, named as such.

Ours, ``segment_embedding`` (method "cpd", the default): the per-frame embedding is reduced by PCA, sub-sampled to
about 30 frames per second and cut by kernel change-point detection (``changepoints``: ruptures ``KernelCPD``, RBF
kernel, the number of change points at the elbow of the cost curve but at least k, so that there are more segments than
classes; with ``count_rule="class_elbow"`` also at least the elbow of the cost of k classes over the pieces),
optionally on features smoothed in time (``cpd_smooth_s``); the segments are then clustered into k classes
(``clustering``: agglomerative, average linkage on cosine distance of segment descriptors by default;
``linkage="ward_whitened"``, the motion-capture presets' choice: Ward on the samples with each segment whole, in
features whitened by the pooled within-segment covariance, in those presets half of the way: ``whiten_shrink``;
``linkage="chamfer"``: groups of segments as far apart as their samples, ``chamfer_linkage``). When
the normalized input frames are given, their PCA features are appended (``frames_weight``; with
``frames_in_clustering=False`` for the change points only), and *splices* are found in them (``splices``: frames where
most channels jump at once, as where separate recordings were joined); every splice is a cut, and with
``within_recordings="none"`` the pieces between splices are not cut further (case i, where every clip is one action).
Segments are described by their mean (default) or, with ``segment_stats="std"``, by the spread of each feature: how a
segment moves rather than where it sits (``"motion"``: the mean of each feature's spread within 0.5 s, which a posture
change at a segment's ends does not inflate; of the clustering's features, or with ``motion_features="frames"`` of the
input frames' PCA alone).
Alternatives kept by flag: "kmeans" and "agglomerative" on frames, then a majority filter.

An ensemble (several models of one recording) is segmented by ``consensus.segment_ensemble``: each model alone,
then the consensus of their labels by co-association (``consensus``), or with ``consensus="median"`` the labelling
that agrees most with the others (``consensus.median_labelling``); ``frames_votes`` adds our segmentation of the
input frames alone as one more voter.

``reference``: the reference's cut rule (case i) and ground-truth-boundary protocol (subject 86).
"""

from seq2seq_jax.segmentation.changepoints import change_points, class_cost, elbow, labels_from_cuts, smooth_in_time
from seq2seq_jax.segmentation.clustering import (
    chamfer_linkage,
    cluster_segments,
    majority_filter,
    segment_descriptors,
)
from seq2seq_jax.segmentation.config import (
    CONSENSUS,
    COUNT_RULES,
    LINKAGES,
    METHODS,
    MOTION_FEATURES,
    RECORDING_MODES,
    SEGMENT_STATS,
    SegmentConfig,
)
from seq2seq_jax.segmentation.consensus import consensus, segment_ensemble
from seq2seq_jax.segmentation.reference import reference_cut_rule, reference_oracle
from seq2seq_jax.segmentation.segment import features, max_segments, segment_embedding, segment_states
from seq2seq_jax.segmentation.splices import config_splices, splices, states_splices

__all__ = [
    "CONSENSUS",
    "COUNT_RULES",
    "LINKAGES",
    "METHODS",
    "MOTION_FEATURES",
    "RECORDING_MODES",
    "SEGMENT_STATS",
    "SegmentConfig",
    "change_points",
    "class_cost",
    "chamfer_linkage",
    "cluster_segments",
    "config_splices",
    "consensus",
    "elbow",
    "features",
    "labels_from_cuts",
    "majority_filter",
    "max_segments",
    "reference_cut_rule",
    "reference_oracle",
    "segment_descriptors",
    "segment_embedding",
    "segment_ensemble",
    "segment_states",
    "smooth_in_time",
    "splices",
    "states_splices",
]
