"""A model for each sequence: normalize and train it (one by one or several at once), or restore it."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

from seq2seq_jax import multi, train
from seq2seq_jax.checkpoint import CheckpointError
from seq2seq_jax.config import ModelConfig, TrainConfig
from seq2seq_jax.data.normalize import NormStats


def fit_or_restore(
    frames_TxD,
    mcfg: ModelConfig,
    tcfg: TrainConfig,
    workdir,
    data_info: dict,
    restore: bool = False,
    load_step: int | None = None,
    progress: bool = True,
    data_parallel: bool = False,
):
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
    mcfg = dataclasses.replace(mcfg, dim=norm.dim)
    z = norm.apply(frames_TxD)
    r = train.train(
        mcfg, tcfg, z, norm, workdir, data_info, load_step=load_step, progress=progress, data_parallel=data_parallel
    )
    if r.interrupted:
        raise train.TrainingInterrupted(
            f"training stopped by signal {r.signum} at step {r.step}; the checkpoint is saved in {workdir}; run the "
            "same command to resume",
            r.signum,
        )
    return r.state["params"], r.meta, z, time.perf_counter() - t0


def fit_together(
    frames_list,
    mcfg: ModelConfig,
    tcfg: TrainConfig,
    workdirs,
    data_infos,
    load_step: int | None = None,
    progress: bool = True,
    devices=None,
    seeds: list[int] | None = None,
):
    """``fit_or_restore`` (training) for several sequences at once, one model each: the models with the same
    frame size train together in one vmapped step (``multi.train_many``), split over ``devices``; ``seeds``
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
        rs = multi.train_many(
            dataclasses.replace(mcfg, dim=dim),
            tcfg,
            [zs[i] for i in idx],
            [norms[i] for i in idx],
            [workdirs[i] for i in idx],
            [data_infos[i] for i in idx],
            load_step=load_step,
            progress=progress,
            devices=devices,
            seeds=None if seeds is None else [seeds[i] for i in idx],
        )
        seconds = time.perf_counter() - t0
        stopped = [r for r in rs if r.interrupted]
        if stopped:
            raise train.TrainingInterrupted(
                f"training stopped by signal {stopped[0].signum} at step {stopped[0].step}; the checkpoints are "
                "saved in " + ", ".join(str(workdirs[i]) for i in idx) + "; run the same command to resume",
                stopped[0].signum,
            )
        for i, r in zip(idx, rs):
            out[i] = (r.state["params"], r.meta, zs[i], seconds)
    return out


def write_json(path, obj) -> Path:
    """Writes ``obj`` as indented JSON (NumPy scalars as floats), creating the folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=1, default=float))
    return path
