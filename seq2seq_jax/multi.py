"""Many independent models at once (one per trial or seed): stacked states, one vmapped step, split over devices.

``train_many`` prepares each model as ``train.train`` does (``train.open_run``) and steps those at the same step
together through ``train.run_loop``; every model draws the windows it would draw alone.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable
from pathlib import Path

import jax
import jax.numpy as jnp

from seq2seq_jax import model, sharding
from seq2seq_jax.config import ModelConfig, TrainConfig
from seq2seq_jax.data.normalize import NormStats
from seq2seq_jax.train import TrainResult, WindowSampler, make_train_step, open_run, run_loop, step_fn


def stack_states(states: list[dict]) -> dict:
    """N train states stacked leaf by leaf on a new leading axis."""
    return jax.tree.map(lambda *xs: jnp.stack(xs), *states)


def make_multi_train_step(
    mcfg: ModelConfig, tcfg: TrainConfig, per_model_data: bool = False, forward: Callable = model.forward
) -> Callable:
    """The step of N independent models at once: states stacked on a leading axis (``stack_states``), one
    vmapped, jitted, donated call. Each model draws its own windows from one shared sampler, or, with
    ``per_model_data``, from its own (``WindowSampler.stack``: e.g. one subject-86 trial per model). To spread
    the models over devices, place state and sampler with ``sharding.shard_models`` (the step follows)."""
    step = step_fn(mcfg, tcfg, forward=forward)
    return jax.jit(jax.vmap(step, in_axes=(0, 0 if per_model_data else None)), donate_argnums=0)


def train_many(
    mcfg: ModelConfig,
    tcfg: TrainConfig,
    seqs_per_model: list,
    norms: list[NormStats],
    workdirs: list,
    data_infos: list[dict],
    load_step: int | None = None,
    progress: bool = True,
    on_log: Callable[[int, dict], dict] | None = None,
    weighting: str = "sequence",
    devices=None,
    seeds: list[int] | None = None,
) -> list[TrainResult]:
    """Trains (or resumes) several independent models at once, model i on ``seqs_per_model[i]`` into
    ``workdirs[i]``; each folder ends up exactly as ``train.train`` would leave it (checkpoints, metrics.jsonl).

    Models at the same step train together in one vmapped step (``make_multi_train_step`` with one sampler
    per model), split over ``devices`` (default ``jax.devices()``; the largest number of them that divides
    the models); every model draws the windows it would draw alone, so the result equals training them
    one by one up to float rounding. Finished models are only restored. All models share ``mcfg`` (the
    sequences must have ``mcfg.dim`` values per frame) and ``tcfg``, except the seed when ``seeds`` gives one
    per model (initialisation and windows). The other arguments are ``train.train``'s; ``on_log`` gets each
    model's own state. A non-finite loss in any model stops all of them without saving (the checkpoints are
    kept); a SIGINT/SIGTERM saves all of them, then stops.
    """
    seeds = [tcfg.seed] * len(workdirs) if seeds is None else list(seeds)
    if not (len(seqs_per_model) == len(norms) == len(workdirs) == len(data_infos) == len(seeds)):
        raise ValueError(
            f"train_many: {len(seqs_per_model)} sequences, {len(norms)} normalizations, "
            f"{len(workdirs)} folders, {len(data_infos)} data descriptions and {len(seeds)} seeds; "
            "one each per model"
        )
    with contextlib.ExitStack() as stack:
        runs = [
            open_run(
                mcfg,
                dataclasses.replace(tcfg, seed=seed),
                seqs,
                norm,
                workdir,
                info,
                load_step,
                weighting,
                stack,
                label=Path(workdir).name if len(workdirs) > 1 else "",
            )
            for seqs, norm, workdir, info, seed in zip(seqs_per_model, norms, workdirs, data_infos, seeds)
        ]
        groups: dict[int, list] = {}
        for r in runs:
            if r.step < tcfg.iterations:
                groups.setdefault(r.step, []).append(r)
        for group in groups.values():
            if _train_group(group, mcfg, tcfg, progress, on_log, devices):
                break  # stopped by a signal
    return [r.result() for r in runs]


def _train_group(runs, mcfg, tcfg, progress, on_log, devices) -> bool:
    """Trains models that stand at the same step, together; True when stopped by a signal."""
    n = len(runs)
    if n == 1:
        return run_loop(
            runs,
            make_train_step(mcfg, tcfg),
            runs[0].state,
            runs[0].sampler,
            lambda tree: [tree],
            tcfg,
            progress,
            on_log,
        )
    state, sampler = stack_states([r.state for r in runs]), WindowSampler.stack([r.sampler for r in runs])
    devices = list(jax.devices() if devices is None else devices)
    k = max(d for d in range(1, len(devices) + 1) if n % d == 0)
    if k > 1:
        state, sampler = sharding.shard_models(state, sampler, sharding.model_mesh(devices[:k]))
    views = lambda tree: [jax.tree.map(lambda x, i=i: x[i], tree) for i in range(n)]  # noqa: E731
    return run_loop(
        runs, make_multi_train_step(mcfg, tcfg, per_model_data=True), state, sampler, views, tcfg, progress, on_log
    )
