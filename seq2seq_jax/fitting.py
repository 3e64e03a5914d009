"""A model (or an ensemble of models) for each sequence: normalize and train it (one by one or several at once),
or restore it.

An ensemble (``TrainConfig.models`` > 1) is saved as one folder per model, ``model_0``, ``model_1``, ... inside the
sequence's folder (``member_dirs``); one model is saved in the folder itself, as before ensembles existed."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import numpy as np

from seq2seq_jax import multi, train
from seq2seq_jax.checkpoint import CheckpointError
from seq2seq_jax.config import ModelConfig, TrainConfig
from seq2seq_jax.data.normalize import NormStats
from seq2seq_jax.data.sources import DataError


def member_dirs(workdir, n: int) -> list[Path]:
    """The folders of an ensemble of n models: the folder itself for one model, else model_0 .. model_{n-1} in it."""
    w = Path(workdir)
    return [w] if n == 1 else [w / f"model_{i}" for i in range(n)]


def member_seeds(tcfg: TrainConfig) -> list[int]:
    """The training seeds of an ensemble's models: seed * models + i, so that the ensembles of seeds 0, 1, 2 share
    no model (and one model keeps its seed)."""
    return [tcfg.seed * tcfg.models + i for i in range(tcfg.models)]


def saved_members(workdir) -> list[Path]:
    """The model folders of a saved model (the folder itself) or ensemble (its model_0, model_1, ...)."""
    w = Path(workdir)
    members = sorted(
        (p for p in w.glob("model_*") if p.is_dir() and p.name[6:].isdigit()), key=lambda p: int(p.name[6:])
    )
    if not members:
        return [w]
    if (w / "checkpoints").is_dir():
        raise CheckpointError(
            f"{w} holds both one model (checkpoints/) and an ensemble ({', '.join(p.name for p in members)}); "
            "move one of them elsewhere, or give the folder of the model you mean"
        )
    if [int(p.name[6:]) for p in members] != list(range(len(members))):
        raise CheckpointError(f"{w}: the ensemble's folders are not model_0 .. model_{len(members) - 1}: {members}")
    return members


def fit_ensemble(
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
    """([(params, meta)] one per model, z_TxK, seconds): ``fit_or_restore`` for ``tcfg.models`` models of this
    sequence, trained together (``fit_together``, seeds ``member_seeds``) into ``member_dirs``, or restored
    (every model saved in ``workdir``: ``saved_members``)."""
    t0 = time.perf_counter()
    if restore:
        fits = [
            fit_or_restore(frames_TxD, mcfg, tcfg, d, data_info, restore=True, load_step=load_step)
            for d in saved_members(workdir)
        ]
        return [(p, m) for p, m, _, _ in fits], fits[0][2], time.perf_counter() - t0
    if tcfg.models == 1:
        params, meta, z, seconds = fit_or_restore(
            frames_TxD, mcfg, tcfg, workdir, data_info, False, load_step, progress, data_parallel
        )
        return [(params, meta)], z, seconds
    if data_parallel:
        raise ValueError(
            "data parallelism splits one model's batch over the devices; an ensemble (models > 1) trains its "
            "models together, split over the devices: leave out --data_parallel"
        )
    return fit_ensembles_together([frames_TxD], mcfg, tcfg, [workdir], [data_info], load_step, progress)[0]


def fit_pooled(
    frames_list,
    mcfg: ModelConfig,
    tcfg: TrainConfig,
    workdir,
    data_info: dict,
    progress: bool = True,
    per_recording: bool = False,
):
    """([(params, meta)] one per model, seconds): an ensemble of ``tcfg.models`` models (seeds ``member_seeds``)
    trained together on several recordings at once; windows never cross two recordings. Each recording is
    normalized by statistics pooled over all of them (the dimensions constant in all of them dropped), or with
    ``per_recording`` by its own (the dimensions constant in any of them dropped; ``NormStats.per_recording``).
    Such a model is meant for recordings it was not trained on (``meta.norm.apply`` them first). Resumes what
    ``workdir`` holds, as ``fit_ensemble``."""
    frames_list = list(frames_list)
    if not frames_list:
        raise ValueError("fit_pooled needs at least one recording")
    if len({f.shape[1] for f in frames_list}) > 1:
        raise ValueError(
            f"the recordings have different numbers of channels ({sorted({f.shape[1] for f in frames_list})}); "
            "a pooled model needs one channel layout"
        )
    t0 = time.perf_counter()
    norm = NormStats.fit(np.concatenate(frames_list), root=mcfg.root)
    if per_recording:
        keep = set(norm.keep.tolist())
        for f in frames_list:
            keep &= set(NormStats.fit(f, root=mcfg.root).keep.tolist())
        if not keep:
            raise DataError("every dimension is constant (std < 1e-4) in one recording or another; nothing to model")
        norm = dataclasses.replace(norm, keep=np.array(sorted(keep), np.int32), per_recording=True)
    zs = [norm.apply(f) for f in frames_list]
    dirs = member_dirs(workdir, tcfg.models)
    rs = multi.train_many(
        dataclasses.replace(mcfg, dim=norm.dim),
        tcfg,
        [zs] * len(dirs),
        [norm] * len(dirs),
        dirs,
        [data_info] * len(dirs),
        progress=progress,
        seeds=member_seeds(tcfg),
    )
    _raise_if_stopped(rs, f"the checkpoints are saved in {workdir}")
    return [(r.state["params"], r.meta) for r in rs], time.perf_counter() - t0


def fit_ensembles_together(
    frames_list, mcfg: ModelConfig, tcfg: TrainConfig, workdirs, data_infos, load_step=None, progress=True, seeds=None
):
    """``fit_ensemble`` (training) for several sequences at once: the ``tcfg.models`` models of every sequence all
    train together (``fit_together``); ``seeds`` gives each sequence's ensemble its seed (default ``tcfg.seed``),
    whose models take ``member_seeds``. Returns [([(params, meta)], z_TxK, seconds)] in the order given."""
    n = tcfg.models
    seeds = [tcfg.seed] * len(frames_list) if seeds is None else list(seeds)
    fits = fit_together(
        [f for f in frames_list for _ in range(n)],
        mcfg,
        tcfg,
        [m for d in workdirs for m in member_dirs(d, n)],
        [i for i in data_infos for _ in range(n)],
        load_step,
        progress,
        seeds=[m for s in seeds for m in member_seeds(dataclasses.replace(tcfg, seed=s))],
    )
    return [
        ([(p, m) for p, m, _, _ in fits[i * n : (i + 1) * n]], fits[i * n][2], fits[i * n][3])
        for i in range(len(frames_list))
    ]


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
    norm = NormStats.fit(frames_TxD, root=mcfg.root)
    mcfg = dataclasses.replace(mcfg, dim=norm.dim)
    z = norm.apply(frames_TxD)
    r = train.train(
        mcfg, tcfg, z, norm, workdir, data_info, load_step=load_step, progress=progress, data_parallel=data_parallel
    )
    _raise_if_stopped([r], f"the checkpoint is saved in {workdir}")
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
    norms = [NormStats.fit(f, root=mcfg.root) for f in frames_list]
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
        _raise_if_stopped(rs, "the checkpoints are saved in " + ", ".join(str(workdirs[i]) for i in idx))
        for i, r in zip(idx, rs):
            out[i] = (r.state["params"], r.meta, zs[i], seconds)
    return out


def _raise_if_stopped(results, where: str) -> None:
    """``train.TrainingInterrupted`` when a signal stopped any of these trainings (``train.TrainResult``), saying at
    which step, ``where`` the checkpoints are, and how to resume."""
    stopped = [r for r in results if r.interrupted]
    if stopped:
        raise train.TrainingInterrupted(
            f"training stopped by signal {stopped[0].signum} at step {stopped[0].step}; {where}; run the same command "
            "to resume",
            stopped[0].signum,
        )


def write_json(path, obj) -> Path:
    """Writes ``obj`` as indented JSON (NumPy scalars as floats), creating the folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=1, default=float))
    return path
