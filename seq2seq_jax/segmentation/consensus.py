"""Consensus of an ensemble: several models' segmentations of one recording combined into one (evidence
accumulation, Fred & Jain 2005).

Each model is segmented alone (``segment_states``); frame t of model m is the one-hot row of its label, and the
rows of all models side by side (scaled by 1 / sqrt(models)) make a feature whose inner product between two frames
is their co-association: the share of models that give them one class. The consensus cuts where these rows change
(kernel change points, at least as many as one model's search places), and clusters the segments by average
linkage on 1 - their mean co-association. Labels are arbitrary per model, so they are never compared across models,
only within each. A model that alone splits or joins a segment is outvoted (docs/results/consensus.md).

``SegmentConfig(consensus="median")`` cuts where the rows change as well, but labels each segment by the labelling
that agrees most with all the others (the medoid partition under ARI, ``median_labelling``): its most frequent
class there. The classes are then one voter's, whole, rather than a blend, and the boundaries still everyone's. With
``frames_votes`` our segmentation of the input frames alone (no model) is one more voter.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from seq2seq_jax.embed import Embedding
from seq2seq_jax.segmentation.changepoints import labels_from_cuts
from seq2seq_jax.segmentation.config import SegmentConfig
from seq2seq_jax.segmentation.segment import (
    clustering_of,
    cpd_grid,
    search_cuts,
    segment_states,
    splice_samples,
    with_splices,
)
from seq2seq_jax.segmentation.splices import states_splices


def coassociation_features(labels_list, k: int) -> np.ndarray:
    """(T, models * k): each model's one-hot labels side by side, scaled so that the inner product of two rows is
    their co-association (the share of models that put both frames in one class)."""
    labs = [np.asarray(lab, np.int64) for lab in labels_list]
    if not labs or any(len(lab) != len(labs[0]) for lab in labs):
        raise ValueError(f"consensus needs one label per frame from every model, got lengths {[len(x) for x in labs]}")
    if any(lab.min() < 0 or lab.max() >= k for lab in labs):
        raise ValueError(f"labels must lie in 0 .. k - 1 = {k - 1}")
    return np.concatenate([np.eye(k)[lab] for lab in labs], 1) / np.sqrt(len(labs))


def consensus(labels_list, k: int, fps: float, cfg: SegmentConfig = SegmentConfig(), splices_T=()) -> np.ndarray:
    """One label per frame from several models' labels of the same frames (module docstring); ``splices_T`` (frames;
    None, as ``voters`` returns where it searched none: no splices) are always cuts, as in ``segment_embedding``."""
    from sklearn.cluster import AgglomerativeClustering

    if len(labels_list) == 1:
        return np.asarray(labels_list[0]).copy()
    splices_T = () if splices_T is None else splices_T
    f = coassociation_features(labels_list, k)
    step, min_size = cpd_grid(len(f), fps, cfg)
    fs = f[::step]
    found = search_cuts(f, k, fps, dataclasses.replace(cfg, cpd_smooth_s=0.0))  # the labels do not jitter
    seg = labels_from_cuts(len(fs), with_splices(found, splice_samples(splices_T, step, len(fs)), min_size))
    ids = np.unique(seg)
    if cfg.consensus == "median":  # each segment takes the median labelling's most frequent class in it
        med = median_labelling(labels_list)[::step]
        lab = np.array([np.bincount(med[seg == i]).argmax() for i in ids])[seg]
    elif len(ids) <= k:
        lab = seg
    else:
        p = np.stack([fs[seg == i].mean(0) for i in ids])  # mean one-hot rows: p_a . p_b = mean co-association
        dist = np.clip(1.0 - p @ p.T, 0.0, None)
        np.fill_diagonal(dist, 0.0)
        lab = AgglomerativeClustering(n_clusters=k, metric="precomputed", linkage="average").fit_predict(dist)[seg]
    return np.repeat(lab, step)[: len(f)]


def median_labelling(labels_list) -> np.ndarray:
    """The labelling whose summed adjusted Rand index with all the others is highest (the first of equals): the
    medoid of the labellings. ARI compares partitions, so each voter may name its classes as it likes."""
    return np.asarray(labels_list[median_index(labels_list)], np.int64).copy()


def median_index(labels_list) -> int:
    """The index in ``labels_list`` of ``median_labelling``'s choice."""
    from sklearn.metrics import adjusted_rand_score

    labs = [np.asarray(lab, np.int64) for lab in labels_list]
    if not labs or any(len(lab) != len(labs[0]) for lab in labs):
        raise ValueError(f"the median needs one label per frame from every voter, got lengths {[len(x) for x in labs]}")
    agree = np.zeros(len(labs))
    for i in range(len(labs)):
        for j in range(i + 1, len(labs)):
            a = adjusted_rand_score(labs[i], labs[j])
            agree[i] += a
            agree[j] += a
    return int(np.argmax(agree))


def views(cfg: SegmentConfig) -> list[SegmentConfig]:
    """The segmentations of each model that vote in the consensus: cfg's, with ``cfg.motion_votes`` the same
    change points' segments clustered by how they move (``segment_stats="motion"``, average linkage), and with
    ``cfg.chamfer_votes`` by how near their samples lie (``linkage="chamfer"``, unless cfg's is that already), and
    with ``cfg.spectrum_votes`` by the rhythm of the input frames in them (``segment_stats="spectrum"``, average
    linkage, unless cfg's is that already); method "cpd" only, the other methods have no segments."""
    if cfg.method != "cpd":
        return [cfg]
    out = [cfg]
    if cfg.motion_votes:
        out.append(_view(cfg, linkage="average", segment_stats="motion"))
    if cfg.chamfer_votes and cfg.linkage != "chamfer":
        out.append(_view(cfg, linkage="chamfer", segment_stats="mean"))
    if cfg.spectrum_votes and cfg.segment_stats != "spectrum":
        out.append(_view(cfg, linkage="average", segment_stats="spectrum"))
    return out


def _view(cfg: SegmentConfig, **clustering) -> SegmentConfig:
    """cfg with another clustering of its pieces, voting in no further views itself."""
    return dataclasses.replace(cfg, motion_votes=False, chamfer_votes=False, spectrum_votes=False, **clustering)


def view_name(v: SegmentConfig) -> str:
    """A view's name in the voters' names: "chamfer" for linkage "chamfer", else its segment descriptor."""
    return "chamfer" if v.linkage == "chamfer" else v.segment_stats


def voters(
    embeddings,
    k: int,
    fps: float,
    cfg: SegmentConfig = SegmentConfig(),
    seed: int = 0,
    frames_TxD=None,
    splices_T=None,
) -> tuple[list[tuple[str, str]], list[np.ndarray], np.ndarray | None]:
    """(names, labels, splices) of the labellings that vote in ``segment_ensemble``'s consensus: each embedding
    segmented by ``segment_states`` in each of ``views`` (named ("model{i}", ``view_name``)), and with
    ``cfg.frames_votes`` our segmentation of the input frames alone (("frames", ``view_name``)); the splices are
    searched once for all (``splices_T``, from ``states_splices``, saves that when the caller has them)."""
    embs = list(embeddings)
    if not embs:
        raise ValueError("segment_ensemble needs at least one embedding")
    found = splices_T
    if found is None and frames_TxD is not None and cfg.method == "cpd":
        found = states_splices(embs[0], frames_TxD, fps, cfg)
    vs = views(cfg)
    if cfg.frames_votes and frames_TxD is None:
        raise ValueError("frames_votes needs the input frames (frames_TxD); pass them or set frames_votes=False")
    members = [f"model{i}" for i in range(len(embs))]
    if cfg.frames_votes:  # the frames as one more member, covering every frame
        z = np.asarray(frames_TxD)
        embs.append(Embedding(z, np.zeros(len(z)), np.ones(len(z), bool), None, None, None))
        members.append("frames")
    if len(vs) == 1:
        labels = [
            segment_states(e, k, fps, _member_cfg(cfg, i, len(embs)), seed, frames_TxD, found)
            for i, e in enumerate(embs)
        ]
    else:  # each model's change points searched once, its segments clustered in every view
        pairs = [clustering_of(v) for v in vs]
        per_model = [
            segment_states(e, k, fps, _member_cfg(cfg, i, len(embs)), seed, frames_TxD, found, clusterings=pairs)
            for i, e in enumerate(embs)
        ]
        labels = [labs[i] for i in range(len(vs)) for labs in per_model]
    return [(m, view_name(v)) for v in vs for m in members], labels, found


def segment_ensemble(
    embeddings,
    k: int,
    fps: float,
    cfg: SegmentConfig = SegmentConfig(),
    seed: int = 0,
    frames_TxD=None,
    splices_T=None,
) -> np.ndarray:
    """Our segmentation of an ensemble's embeddings of one recording (``embed.Embedding`` each, same frames): the
    ``consensus`` of its ``voters``; one embedding in one view is segmented as it is. ``splices_T``: as for
    ``voters``."""
    _, labels, found = voters(embeddings, k, fps, cfg, seed, frames_TxD, splices_T)
    if len(labels) == 1:
        return labels[0]
    return consensus(labels, k, fps, cfg, found)


def _member_cfg(cfg: SegmentConfig, i: int, n: int) -> SegmentConfig:
    """The settings of member i of n: the frames' voter (the last, with ``frames_votes``) has no states for the
    frames to sit beside (as ``protocols.frames_only``)."""
    return dataclasses.replace(cfg, frames_weight=0.0) if cfg.frames_votes and i == n - 1 else cfg
