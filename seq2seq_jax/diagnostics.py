"""Where a segmentation loses: its change points, or its clustering of the segments.

Our segmentation is two steps: change points cut the recording into pieces, then the pieces are clustered into
k classes. ``decompose`` scores each step alone against the truth, on one recording:

- ``pipeline``: the segmentation itself (change points, then clustering);
- ``cuts_true_labels``: our change points, each piece labelled with its most frequent true class: what a
  perfect clustering of our pieces would score (the change points' ceiling; extra cuts cost nothing here);
- ``true_cuts_clustered``: the true segments clustered into k by our descriptor (the clustering's ceiling,
  with perfect change points), for each segment descriptor (``SegmentConfig.segment_stats``);
- ``cuts_clustered``: our change points' pieces clustered by each segment descriptor (the pipeline itself for
  cfg's descriptor): which descriptor copes with the pieces that real change points leave;
- ``spurious_cuts`` / ``missed_cuts``: our change points between two pieces of the same majority true class
  (``spurious``), and the true boundaries' tolerance windows no change point is matched to; ``cuts_without_spurious``:
  the pipeline's clustering of the pieces left when the spurious change points are dropped (what a search that
  placed none would score with this clustering); with an embedding, ``spurious_also_in_frames``: how many of the
  spurious change points the frames' own search places too (within the shortest segment), i.e. whether two views
  see the same change in the motion there;
- ``cut_offsets_s``: for each true boundary with a change point in its tolerance window, the nearest one's offset
  from it in seconds (positive: late). The decoder states of a window show a change of motion only from the next
  window on, so the embedding's change points come late, by up to one target window
  (docs/results/synthetic_regimes.md);
- ``frames_cuts_true_labels`` / ``frames_cuts_clustered`` (with an embedding): the same two for the change points
  the same search places in the frames alone, the pieces still clustered by the embedding: what the embedding
  adds to the change points, apart from what it adds to the clustering.

``ensemble_views`` looks at an ensemble instead (several models of one recording, ``consensus.views``): in each
view, each model's score, how much the models agree with one another (mean pairwise ARI: a label-free measure of
stability), and the consensus of that view's labellings alone, beside the consensus of all (the pipeline). It
asks whether the models' agreement tells which view is right.

``count_oracle`` asks whether any rule for the number of change points could mend an ensemble: the pipeline with
every search held to each fixed number in turn, scored against the truth, and the best number for that recording (an
oracle: it reads the labels). No rule that sees no labels and gives every voter one number can do better, with this
clustering and consensus (a rule that lets each voter stop at its own number, as the elbow does, can).

Used by ``experiments/diagnose.py`` on the subject-86 trials and on blended case-(i) sequences
(docs/results/diagnosis.md).
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
from sklearn.metrics import adjusted_rand_score

from seq2seq_jax import embed, metrics
from seq2seq_jax.segmentation.changepoints import (
    chosen_count,
    class_costs,
    class_elbow,
    cost_path,
    elbow,
    labels_from_cuts,
)
from seq2seq_jax.segmentation.clustering import cluster_segments
from seq2seq_jax.segmentation.config import SAMPLE_LINKAGES, SEGMENT_STATS, SegmentConfig
from seq2seq_jax.segmentation.consensus import consensus, median_index, segment_ensemble, view_name, views, voters
from seq2seq_jax.segmentation.segment import (
    cluster_pieces,
    clustering_of,
    count_classes,
    cpd_grid,
    feature_sets,
    least_cuts,
    motion_sigma,
    search_cuts,
    search_samples,
    segment_embedding,
)


def majority_labels(true_T, pieces_T) -> np.ndarray:
    """Each piece labelled with its most frequent true class."""
    true_T, pieces_T = np.asarray(true_T), np.asarray(pieces_T)
    out = np.empty_like(true_T)
    for p in np.unique(pieces_T):
        m = pieces_T == p
        out[m] = np.bincount(true_T[m]).argmax()
    return out


def piece_shares(labels_T, cuts, k: int) -> list[list[float]]:
    """For each piece between ``cuts`` (frames where a piece starts after the first), the share of its frames in
    each of the k classes of ``labels_T``: which pieces a labelling puts together, and which it splits."""
    labels_T = np.asarray(labels_T, np.int64)
    bounds = [0, *sorted(int(c) for c in cuts), len(labels_T)]
    return [(np.bincount(labels_T[a:b], minlength=k) / max(b - a, 1)).tolist() for a, b in zip(bounds, bounds[1:])]


def spurious(cuts_N, true_T) -> list[int]:
    """The change points (frames) between two pieces of the same majority true class (``majority_labels``): those
    that cut one true segment (or two adjacent ones of one class) and no boundary between classes."""
    major = majority_labels(true_T, labels_from_cuts(len(true_T), cuts_N))
    return [int(c) for c in sorted(cuts_N) if major[c - 1] == major[c]]


def missed(cuts_N, windows) -> int:
    """How many tolerance ``windows`` (one per true boundary) no change point is matched to
    (``metrics.boundary_scores``: one change point per window, so one between two near boundaries counts once)."""
    return len(windows) - metrics.boundary_scores(cuts_N, windows)["boundaries_matched"]


def offsets(cuts_N, windows) -> list[int]:
    """For each tolerance window (one per true boundary, at its middle) that holds a change point: the nearest such
    change point minus the boundary, in frames (positive: the change point comes late)."""
    out = []
    for lo, hi in windows:
        mid = (lo + hi) / 2
        inside = [c for c in cuts_N if lo <= c <= hi]
        if inside:
            out.append(int(round(min(inside, key=lambda c: abs(c - mid)) - mid)))
    return out


def _linkage(cfg: SegmentConfig, stats: str) -> str:
    """cfg's linkage, or average linkage for the spread descriptors when cfg's clusters the samples themselves."""
    return "average" if cfg.linkage in SAMPLE_LINKAGES and stats != "mean" else cfg.linkage


def decompose(states_TxH, frames_TxD, true_T, k: int, fps: float, windows, cfg: SegmentConfig) -> dict:
    """The scores of the three parts (module docstring), each ``metrics.all_metrics``; with ``states_TxH`` None
    the features are the frames' alone (the baseline's view, without the ``frames_cuts_*`` entries). Also
    ``cuts`` / ``true_cuts`` (/ ``frames_cuts``): their counts. ``cuts_true_labels`` and the ``frames_cuts_*``
    leave splices out (the recordings decomposed here have none that can be seen)."""
    frames = np.asarray(frames_TxD)
    if states_TxH is None:
        cfg = dataclasses.replace(cfg, frames_weight=0.0)
        x, fr = frames, None
    else:
        x, fr = np.asarray(states_TxH), frames
    true_T = np.asarray(true_T)
    f, f_cluster = feature_sets(x, cfg, fr)  # the change points' features, and the clustering's (as the pipeline)
    (step, min_size), cuts = cpd_grid(len(f), fps, cfg), search_cuts(f, k, fps, cfg)
    cuts_N = [c * step for c in cuts]  # in frames
    wrong = spurious(cuts_N, true_T)
    kept = [c for c in cuts if c * step not in wrong]
    pieces = np.repeat(labels_from_cuts(-(-len(f) // step), cuts), step)[: len(f)]
    truth_pieces = labels_from_cuts(len(f), np.flatnonzero(np.diff(true_T)) + 1)
    # the pipeline's own pieces clustered by every descriptor (one change-point search for all); cfg's is the pipeline
    cpd = dataclasses.replace(cfg, method="cpd")
    every = [(_linkage(cfg, s), s, "input" if s == "spectrum" else "clustering") for s in SEGMENT_STATS]
    # the frames go in for "spectrum" (it describes them); alone (frames_weight 0) they are searched for no splices
    splices = None if fr is not None else []
    own = segment_embedding(x, k, fps, cpd, frames_TxD=frames, splices_N=splices, clusterings=every)
    if cfg.method == "cpd":
        pipeline = own[SEGMENT_STATS.index(cfg.segment_stats)]
    else:
        pipeline = segment_embedding(x, k, fps, cfg, frames_TxD=fr)
    out = {
        "pipeline": metrics.all_metrics(true_T, pipeline, windows),
        "cuts_true_labels": metrics.all_metrics(true_T, majority_labels(true_T, pieces), windows),
        "true_cuts_clustered": {
            s: metrics.all_metrics(
                true_T,
                cluster_segments(
                    frames if s == "spectrum" else f_cluster,
                    truth_pieces,
                    k,
                    _linkage(cfg, s),
                    s,
                    motion_sigma(fps, 1),
                    cfg.whiten_shrink,
                    rate=fps,
                ),
                windows,
            )
            for s in SEGMENT_STATS
        },
        "cuts_clustered": {s: metrics.all_metrics(true_T, lab, windows) for s, lab in zip(SEGMENT_STATS, own)},
        "cuts": len(cuts),
        "true_cuts": int(truth_pieces.max()),
        "spurious_cuts": len(wrong),
        "missed_cuts": missed(cuts_N, windows),
        "cut_offsets_s": [o / fps for o in offsets(cuts_N, windows)],
        "cuts_without_spurious": metrics.all_metrics(
            true_T,
            cluster_pieces(
                f_cluster, kept, k, fps, step, [clustering_of(cfg)], whiten_shrink=cfg.whiten_shrink, f_input_TxD=frames
            )[0],
            windows,
        ),
    }
    if states_TxH is not None:  # the same search in the frames alone; its pieces clustered as the pipeline's are
        fcuts = search_cuts(feature_sets(frames, dataclasses.replace(cfg, frames_weight=0.0))[0], k, fps, cfg)
        fpieces = np.repeat(labels_from_cuts(-(-len(f) // step), fcuts), step)[: len(f)]
        labs = cluster_pieces(
            f_cluster, fcuts, k, fps, step, every, whiten_shrink=cfg.whiten_shrink, f_input_TxD=frames
        )
        out["frames_cuts"] = len(fcuts)
        near = min_size * step  # two change points nearer than the shortest segment mark one change
        out["spurious_also_in_frames"] = sum(any(abs(c - t * step) < near for t in fcuts) for c in wrong)
        out["frames_cuts_true_labels"] = metrics.all_metrics(true_T, majority_labels(true_T, fpieces), windows)
        out["frames_cuts_clustered"] = {
            s: metrics.all_metrics(true_T, lab, windows) for s, lab in zip(SEGMENT_STATS, labs)
        }
    return out


def decompose_embedding(
    emb: embed.Embedding, z_TxD, true_T, k: int, fps: float, windows, cfg: SegmentConfig, baseline: SegmentConfig
) -> dict:
    """``decompose`` on the frames a decoder predicted (as ``segment_states`` segments them): ours (the states
    beside the frames, ``cfg``) and the frames alone (``baseline``): {"ours": ..., "frames": ...}."""
    cov = np.asarray(emb.covered)
    z, y = np.asarray(z_TxD)[cov], np.asarray(true_T)[cov]
    first = int(np.flatnonzero(cov)[0])
    win = [(a - first, b - first) for a, b in windows]
    return {
        "ours": decompose(emb.states[cov], z, y, k, fps, win, cfg),
        "frames": decompose(None, z, y, k, fps, win, baseline),
    }


def ensemble_views(
    embeddings, z_TxD, true_T, k: int, fps: float, windows, cfg: SegmentConfig, splices_T=None, pieces_T=None
) -> dict:
    """An ensemble's labellings in each of ``views(cfg)`` (module docstring): {"views": {name: {"models": [ARI of
    each model], "agreement": mean pairwise ARI between the models' labels, "consensus": metrics of that view's
    consensus}}, "consensus": metrics of the pipeline's (``segment_ensemble``: every view's labellings, and the frames'
    with ``frames_votes``), "by_agreement": the name of the view whose models agree most, "voters": {name: ARI} of
    every labelling that votes in the pipeline (``consensus.voters``), "median_voter": the one whose classes the
    median consensus takes (``consensus.median_index``), "best_voter": the one nearest the truth, "true_count":
    metrics of the pipeline searching at least as many change points as the truth has changes of class (an oracle of
    the number; where the preset's own search places more, it is the pipeline), "pieces": {"cuts": the frames where
    the true pieces start, "true": each piece's true class, "shares": {name: ``piece_shares``} of every voter and of
    "pipeline"}}. The true pieces are the runs of ``true_T``, or those between ``pieces_T`` (frames; a blend's clip
    joins, so that two clips of one action stay apart). A view is named by ``consensus.view_name``."""
    embs = list(embeddings)
    if len(embs) < 2:
        raise ValueError(f"ensemble_views needs an ensemble of at least 2 models, got {len(embs)}")
    names, labels, found = voters(embs, k, fps, cfg, 0, z_TxD, splices_T)
    true_T = np.asarray(true_T)
    keys = [f"{m}_{d}" for m, d in names]  # "model0_mean", "frames_motion", ...
    score = {key: float(adjusted_rand_score(true_T, lab)) for key, lab in zip(keys, labels)}
    out = {}
    for v in views(cfg):
        labs = [lab for (m, d), lab in zip(names, labels) if m != "frames" and d == view_name(v)]
        out[view_name(v)] = {
            "models": [float(adjusted_rand_score(true_T, lab)) for lab in labs],
            "agreement": float(np.mean([adjusted_rand_score(a, b) for a, b in itertools.combinations(labs, 2)])),
            "consensus": metrics.all_metrics(true_T, consensus(labs, k, fps, cfg), windows),
        }
    pipeline = consensus(labels, k, fps, cfg, found)  # segment_ensemble's
    changes = int(np.count_nonzero(np.diff(true_T)))  # at least this many: min_bkps = k - 1 + min_segments_over_k
    counted = dataclasses.replace(cfg, min_segments_over_k=max(cfg.min_segments_over_k, changes - k + 1))
    true_count = pipeline if counted == cfg else segment_ensemble(embs, k, fps, counted, 0, z_TxD, found)
    cuts = sorted(int(c) for c in (np.flatnonzero(np.diff(true_T)) + 1 if pieces_T is None else pieces_T))
    shares = {key: piece_shares(lab, cuts, k) for key, lab in [*zip(keys, labels), ("pipeline", pipeline)]}
    pieces = {"cuts": cuts, "true": [int(true_T[a]) for a in [0, *cuts]], "shares": shares}
    return {
        "pieces": pieces,
        "true_count": metrics.all_metrics(true_T, true_count, windows),
        "views": out,
        "consensus": metrics.all_metrics(true_T, pipeline, windows),
        "by_agreement": max(out, key=lambda name: out[name]["agreement"]),
        "voters": score,
        "median_voter": keys[median_index(labels)],
        "best_voter": max(score, key=score.get),
    }


COUNT_ORACLE_MOST = 15  # count_oracle's default: fixed numbers of change points from k - 1 up to this


def cost_curves(emb: embed.Embedding, z_TxD, true_T, k: int, fps: float, cfg: SegmentConfig) -> dict:
    """The two curves the number of change points is read from, for one model's search as ``segment_states`` runs it
    (the states beside the frames, on the frames a decoder predicted; splices aside): {"kernel": the kernel cost at
    0, 1, ... change points, "classes": the cost of k classes over the pieces (``changepoints.class_cost``) at
    k - 1, k, ..., "kernel_elbow" and "class_elbow": the number at each curve's elbow (no floor), "placed": the
    number ``search_cuts`` places with ``cfg``, "true": the truth's changes of class}."""
    cov = np.asarray(emb.covered)
    f, _ = feature_sets(np.asarray(emb.states)[cov], cfg, np.asarray(z_TxD)[cov])
    fc, min_size = search_samples(f, fps, cfg)
    bkps, kernel = cost_path(fc, cfg.max_bkps, min_size)
    classes = class_costs(fc, bkps, k)
    return {
        "kernel": [float(c) for c in kernel],
        "classes": classes,
        "kernel_elbow": elbow(kernel),
        "class_elbow": class_elbow(classes, k) if classes else None,
        "placed": chosen_count(
            bkps, kernel, least_cuts(len(f), k, fps, cfg), classes if count_classes(k, cfg) else None, k
        ),  # as search_cuts, on the path already searched
        "true": int(np.count_nonzero(np.diff(np.asarray(true_T)[cov]))),
    }


def fixed_count(cfg: SegmentConfig, n: int, k: int) -> SegmentConfig:
    """cfg with every change-point search (each voter's and the consensus's) held to n change points: n >= k exactly
    (where segments of ``min_seg_s`` leave room for n, else the most that fit), n = k - 1 the elbow among 0 .. k - 1
    (the settings have no floor of k - 1 alone)."""
    if n < k - 1:
        raise ValueError(f"{n} change points cannot give k = {k} classes; ask for at least k - 1 = {k - 1}")
    return dataclasses.replace(cfg, max_bkps=n, min_segments_over_k=max(n - k + 1, 0))


def count_oracle(
    embeddings, z_TxD, true_T, k: int, fps: float, cfg: SegmentConfig, splices_T=None, counts=None
) -> dict:
    """The pipeline (``segment_ensemble``'s consensus of its ``voters``) with every search held to each number of
    change points in ``counts`` (``fixed_count``; default k - 1 .. ``COUNT_ORACLE_MOST``): {"counts": the numbers,
    "pipeline": its ARI at each, "best_count": the number where it scores best (the first of equals), "best": that
    ARI (an oracle of the number), "best_voter": {"name", "count", "ari"}: the single voter and number nearest the
    truth (an oracle of both)}."""
    embs = list(embeddings)
    true_T = np.asarray(true_T)
    counts = list(range(k - 1, COUNT_ORACLE_MOST + 1) if counts is None else counts)
    if not counts:
        raise ValueError("count_oracle needs at least one number of change points")
    pipeline, best_voter = [], {"name": None, "count": None, "ari": -np.inf}
    for n in counts:
        c = fixed_count(cfg, n, k)
        # the splices depend on splice_share and min_seg_s, not on the number: searched at the first number only
        names, labels, splices_T = voters(embs, k, fps, c, 0, z_TxD, splices_T)
        pipeline.append(float(adjusted_rand_score(true_T, consensus(labels, k, fps, c, splices_T))))
        for (m, d), v in zip(names, labels):
            a = float(adjusted_rand_score(true_T, v))
            if a > best_voter["ari"]:
                best_voter = {"name": f"{m}_{d}", "count": n, "ari": a}
    i = int(np.argmax(pipeline))
    return {
        "counts": counts,
        "pipeline": pipeline,
        "best_count": counts[i],
        "best": pipeline[i],
        "best_voter": best_voter,
    }
