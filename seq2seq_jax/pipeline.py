"""The whole method on one sequence: normalize, train (or restore), embed, segment, score, plot.

The experiment scripts are thin wrappers around these functions.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from seq2seq_jax import embed, metrics, plots, segmentation, train
from seq2seq_jax.checkpoint import CheckpointError
from seq2seq_jax.config import ModelConfig, TrainConfig
from seq2seq_jax.data.normalize import NormStats
from seq2seq_jax.data.subject86 import Trial

ORACLE_NOTE = "uses the ground-truth boundaries (the reference's protocol)"
# The strongest off-the-shelf k-only method of BENCHMARKS: ruptures KernelCPD (RBF) on PCA (95%) of the
# normalized frames at 30 fps, change points at the elbow, Ward clustering of the segment means into k
# (no smoothing in time, no minimum number of segments: those are ours).
BASELINE = segmentation.SegmentConfig(linkage="ward", frames_weight=0.0, cpd_smooth_s=0.0, min_segments_over_k=0)
BASELINE_NOTE = "ruptures KernelCPD on PCA of the frames, elbow, Ward on segment means (no model)"


def fit_or_restore(frames_TxD, mcfg: ModelConfig, tcfg: TrainConfig, workdir, data_info: dict, restore: bool = False,
                   load_step: int | None = None, progress: bool = True, data_parallel: bool = False):
    """(params, meta, z_TxK, seconds): a model for this sequence, trained into ``workdir`` or restored from it.

    With ``restore`` nothing is trained: the checkpoint in ``workdir`` must exist and have been trained on
    ``data_info``; its own config and normalization statistics are used.
    """
    t0 = time.perf_counter()
    if restore:
        params, meta, _ = train.load(workdir, load_step)
        if meta.data != data_info:
            raise CheckpointError(f"the checkpoint in {workdir} was trained on {meta.data}, not on {data_info}")
        return params, meta, meta.norm.apply(frames_TxD), time.perf_counter() - t0
    norm = NormStats.fit(frames_TxD)
    mcfg = ModelConfig(**{**mcfg.__dict__, "dim": norm.dim})
    z = norm.apply(frames_TxD)
    r = train.train(mcfg, tcfg, z, norm, workdir, data_info, load_step=load_step, progress=progress,
                    data_parallel=data_parallel)
    if r.interrupted:
        raise KeyboardInterrupt(f"training stopped at step {r.step}; the checkpoint is saved in {workdir}")
    return r.state["params"], r.meta, z, time.perf_counter() - t0


def fit_together(frames_list, mcfg: ModelConfig, tcfg: TrainConfig, workdirs, data_infos, load_step: int | None = None,
                 progress: bool = True, devices=None, seeds: list[int] | None = None):
    """``fit_or_restore`` (training) for several sequences at once, one model each: the models with the same
    frame size train together in one vmapped step (``train.train_many``), split over ``devices``; ``seeds``
    gives each model its own training seed (default: ``tcfg.seed`` for all).

    Returns [(params, meta, z_TxK, seconds)] in the order given; seconds is the wall time of the group the
    model trained in (shared by its members).
    """
    norms = [NormStats.fit(f) for f in frames_list]
    zs = [n.apply(f) for n, f in zip(norms, frames_list)]
    out = [None] * len(frames_list)
    groups: dict[int, list[int]] = {}
    for i, n in enumerate(norms):
        groups.setdefault(n.dim, []).append(i)
    for dim, idx in groups.items():
        t0 = time.perf_counter()
        rs = train.train_many(ModelConfig(**{**mcfg.__dict__, "dim": dim}), tcfg, [zs[i] for i in idx],
                              [norms[i] for i in idx], [workdirs[i] for i in idx], [data_infos[i] for i in idx],
                              load_step=load_step, progress=progress, devices=devices,
                              seeds=None if seeds is None else [seeds[i] for i in idx])
        seconds = time.perf_counter() - t0
        stopped = [r for r in rs if r.interrupted]
        if stopped:
            raise KeyboardInterrupt(f"training stopped at step {stopped[0].step}; the checkpoints are saved in "
                                    + ", ".join(str(workdirs[i]) for i in idx))
        for i, r in zip(idx, rs):
            out[i] = (r.state["params"], r.meta, zs[i], seconds)
    return out


def add_together_args(parser, what: str) -> None:
    """``--together`` (train ``what`` at once, ``fit_together``) and ``--cpu_devices K`` for an experiment script."""
    parser.add_argument("--together", action="store_true",
                        help=f"train {what} at once: one model each in one vmapped step (each with its own data and "
                             "seed, the windows and initialisation it would have alone), split over the JAX devices")
    parser.add_argument("--cpu_devices", type=int, default=None, metavar="K",
                        help="with --together on a CPU: K CPU devices running the models side by side (XLA's "
                             "multi-threaded Eigen off; 2 on a 2-core machine, see the README's Throughput section)")


def check_together_args(parser, args) -> None:
    if args.cpu_devices is not None and (not args.together or args.cpu_devices < 1):
        parser.error("--cpu_devices K (K >= 1) splits the models trained --together over K CPU devices; add --together")


def setup_cpu_devices(args) -> str | None:
    """Makes ``args.cpu_devices`` CPU devices when asked; the error message when JAX has already started."""
    if args.cpu_devices:
        try:
            train.use_cpu_devices(args.cpu_devices)
        except RuntimeError as err:
            return f"--cpu_devices: {err}"
    return None


def analyse_subject86(trial: Trial, params, meta, seg_cfg: segmentation.SegmentConfig = segmentation.SegmentConfig(),
                      out_dir=None, oracle: bool = True, baseline: bool = True) -> dict:
    """Both protocols on one trial: ours (only k) and, when ``oracle``, the reference's (ground-truth cuts);
    with ``baseline``, the off-the-shelf baseline on the same frames (ruptures on PCA of the frames).

    Returns a JSON-able dict with the metrics, timings and the output files.
    """
    z = meta.norm.apply(trial.frames)
    t0 = time.perf_counter()
    emb = embed.collect(params, meta.model, z)
    t_embed = time.perf_counter() - t0
    pred = segmentation.segment_states(emb, trial.k, trial.fps, seg_cfg, frames_TxD=z)
    t_seg = time.perf_counter() - t0 - t_embed
    res = {
        "trial": trial.trial,
        "k": trial.k,
        "frames": len(z),
        "ours": metrics.all_metrics(trial.labels, pred, trial.windows),
        "seconds_embed": t_embed,
        "seconds_segment": t_seg,
    }
    if baseline:
        base = segmentation.segment_embedding(z, trial.k, trial.fps, BASELINE)
        res["baseline"] = {**metrics.all_metrics(trial.labels, base, trial.windows), "note": BASELINE_NOTE}
    oracle_pred = None
    if oracle:
        oracle_pred = segmentation.reference_oracle(params, meta.model, z, trial.segments(), trial.k)
        res["oracle"] = {**metrics.all_metrics(trial.labels, oracle_pred, trial.windows), "note": ORACLE_NOTE}
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        name = f"trial_{trial.trial}"
        files = [plots.segmentation_bars(out / f"{name}_segmentation.png", trial.labels, pred, trial.fps,
                                         f"subject 86 trial {trial.trial}: ours (only k = {trial.k} given)", trial.class_names)]
        if oracle_pred is not None:
            files.append(plots.segmentation_bars(out / f"{name}_segmentation_oracle.png", trial.labels, oracle_pred, trial.fps,
                                                 f"trial {trial.trial}: reference protocol ({ORACLE_NOTE})", trial.class_names))
        p3, _ = embed.pca(emb.states[::4], 3)
        files.append(plots.embedding_3d(out / f"{name}_pca.png", p3, trial.labels[::4], pred[::4], f"trial {trial.trial}: decoder states, PCA"))
        np.savez_compressed(out / f"{name}_labels.npz", true=trial.labels, ours=pred,
                            **({"oracle": oracle_pred} if oracle_pred is not None else {}))
        res["files"] = [str(f) for f in files]
    return res


def write_json(path, obj) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=1, default=float))
    return path
