"""Orbax checkpoints of the training state, with everything analysis and resumption need beside it.

A checkpoint step holds two items:
- ``state``: the train-state pytree (params, optimiser state, step, rng, non-finite marker);
- ``meta``: JSON with the model and training configs, the normalization statistics, and which data the
  model was trained on (a subject-86 trial, the clips of a case-(i) sequence, a user's file).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import jax
import numpy as np
import orbax.checkpoint as ocp

from seq2seq_jax import config as config_lib
from seq2seq_jax.config import ModelConfig, TrainConfig
from seq2seq_jax.data.normalize import NormStats

# Fields that change the shapes of the parameters: a mismatch there cannot be restored at all.
SHAPE_FIELDS = ("dim", "hidden", "tied", "adversarial")


class CheckpointError(RuntimeError):
    """A checkpoint is missing or does not match what was asked for; the message names both and the fix."""


@dataclasses.dataclass
class Meta:
    model: ModelConfig
    train: TrainConfig
    norm: NormStats
    data: dict[str, Any]

    def to_json(self) -> dict:
        return {
            "model": config_lib.to_dict(self.model),
            "train": config_lib.to_dict(self.train),
            "norm": {k: np.asarray(v).tolist() for k, v in self.norm.to_dict().items()},
            "data": self.data,
        }

    @classmethod
    def from_json(cls, d: dict) -> Meta:
        return cls(
            model=config_lib.from_dict(ModelConfig, d["model"]),
            train=config_lib.from_dict(TrainConfig, d["train"]),
            norm=NormStats.from_dict(d["norm"]),
            data=d["data"],
        )


def manager(workdir: str | os.PathLike, tcfg: TrainConfig | None = None) -> ocp.CheckpointManager:
    """A CheckpointManager over ``workdir/checkpoints`` (absolute path, as orbax requires)."""
    path = Path(workdir).expanduser().resolve() / "checkpoints"
    opts = ocp.CheckpointManagerOptions(
        save_interval_steps=tcfg.save_every if tcfg else 1,
        max_to_keep=tcfg.keep if tcfg else None,
        create=True,
    )
    return ocp.CheckpointManager(path, options=opts, item_names=("state", "meta"))


def save(mngr: ocp.CheckpointManager, step: int, state, meta: Meta, force: bool = False) -> bool:
    return mngr.save(
        step,
        args=ocp.args.Composite(state=ocp.args.StandardSave(state), meta=ocp.args.JsonSave(meta.to_json())),
        force=force,
    )


def read_meta(mngr: ocp.CheckpointManager, step: int | None = None) -> tuple[int, Meta]:
    step = _pick_step(mngr, step)
    d = mngr.restore(step, args=ocp.args.Composite(meta=ocp.args.JsonRestore()))["meta"]
    return step, Meta.from_json(d)


def _pick_step(mngr, step):
    steps = mngr.all_steps()
    if not steps:
        raise CheckpointError(f"no checkpoint in {mngr.directory}; train first (without --restore/--load)")
    if step is None:
        return max(steps)
    if step not in steps:
        raise CheckpointError(f"no checkpoint at step {step} in {mngr.directory}; saved steps: {sorted(steps)}")
    return step


def check_compatible(saved: Meta, model_cfg: ModelConfig, data: dict | None, directory) -> None:
    """Refuses to resume from a checkpoint trained with another model shape or on other data."""
    diff = {
        f: (getattr(saved.model, f), getattr(model_cfg, f))
        for f in SHAPE_FIELDS
        if getattr(saved.model, f) != getattr(model_cfg, f)
    }
    if diff:
        pretty = ", ".join(f"{k}: checkpoint {a!r} vs requested {b!r}" for k, (a, b) in diff.items())
        raise CheckpointError(
            f"the checkpoint in {directory} does not match the requested model ({pretty}); use the checkpoint's "
            "settings, or another --train_dir for a new model (the existing checkpoint is left untouched)"
        )
    if data is not None and saved.data != data:
        raise CheckpointError(
            f"the checkpoint in {directory} was trained on {saved.data}, not on {data}; use another --train_dir "
            "for this data (the existing checkpoint is left untouched)"
        )


def restore(mngr: ocp.CheckpointManager, target_state, step: int | None = None):
    """(step, state, meta): the state restored against the abstract ``target_state`` (shapes, dtypes)."""
    step, meta = read_meta(mngr, step)
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, target_state)
    try:
        got = mngr.restore(step, args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract)))
    except (ValueError, KeyError) as err:
        raise CheckpointError(
            f"checkpoint step {step} in {mngr.directory} does not fit the requested model: {err}"
        ) from None
    return step, got["state"], meta
