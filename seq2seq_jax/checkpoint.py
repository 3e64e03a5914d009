"""Orbax checkpoints of the training state, with everything analysis and resumption need beside it.

A checkpoint step holds two items:
- ``state``: the train-state pytree (params, optimiser state, step, rng, non-finite marker);
- ``meta``: JSON with the model and training configs, the normalization statistics, and which data the
  model was trained on (a subject-86 trial, the clips of a case-(i) sequence, a user's file).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import jax
import numpy as np
import orbax.checkpoint as ocp

from seq2seq_jax import config as config_lib
from seq2seq_jax.config import ModelConfig, TrainConfig
from seq2seq_jax.data.normalize import NormStats

# Fields that must match to resume: those that change the shapes of the parameters (a mismatch there cannot be
# restored at all), and the representation of the input the parameters were trained on (``root``).
SHAPE_FIELDS = ("dim", "hidden", "tied", "adversarial", "root")


class CheckpointError(RuntimeError):
    """A checkpoint is missing or does not match what was asked for; the message names both and the fix."""


class UnreadableCheckpointError(CheckpointError):
    """A saved step cannot be read back (corrupted, truncated or missing files)."""


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


def manager(workdir: str | os.PathLike, tcfg: TrainConfig | None = None, create: bool = True) -> ocp.CheckpointManager:
    """A CheckpointManager over ``workdir/checkpoints`` (absolute path, as orbax requires); without ``create``
    a missing folder is a ``CheckpointError`` and nothing is created."""
    path = Path(workdir).expanduser().resolve() / "checkpoints"
    if not create and not path.is_dir():
        raise CheckpointError(
            f"no checkpoint in {path}: the folder does not exist; train first, or name the run "
            "folder that holds checkpoints/"
        )
    opts = ocp.CheckpointManagerOptions(
        save_interval_steps=tcfg.save_every if tcfg else 1,
        max_to_keep=tcfg.keep if tcfg else None,
        create=create,
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
    try:
        d = mngr.restore(step, args=ocp.args.Composite(meta=ocp.args.JsonRestore()))["meta"]
        return step, Meta.from_json(d)
    except CheckpointError:
        raise
    except Exception as err:  # a missing, truncated or garbled meta/metadata: orbax, JSON and OS errors alike
        raise UnreadableCheckpointError(
            f"checkpoint step {step} in {mngr.directory}: its meta cannot be read ({_why(err)})"
        ) from None


def _why(err: BaseException) -> str:
    text = " ".join(str(err).split())
    return f"{type(err).__name__}: {text[:200]}{'...' if len(text) > 200 else ''}"


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


def restore_step(mngr: ocp.CheckpointManager, make_target, step: int):
    """(step, state, meta) of one saved step: its meta read once, the state restored against the abstract
    target ``make_target(meta)`` gives (shapes, dtypes); ``UnreadableCheckpointError`` when either fails."""
    _, meta = read_meta(mngr, step)
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, make_target(meta))
    try:
        got = mngr.restore(step, args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract)))
    except Exception as err:  # corrupted or truncated files (tensorstore DATA_LOSS, JSON), or another model's shapes
        raise UnreadableCheckpointError(
            f"checkpoint step {step} in {mngr.directory} cannot be read back into the model ({_why(err)})"
        ) from None
    return step, got["state"], meta


def restore_newest_valid(mngr: ocp.CheckpointManager, make_target, step: int | None = None):
    """(step, state, meta, skipped): ``restore_step`` of ``step``, or without one of the newest step that reads
    back whole, older ones tried in turn; ``skipped`` lists (step, why) for each newer step that could not be
    read. Raises ``CheckpointError`` when the step asked for, or every step, fails."""
    if step is not None:
        return (*restore_step(mngr, make_target, step), [])
    skipped = []
    for s in sorted(mngr.all_steps(), reverse=True):
        try:
            return (*restore_step(mngr, make_target, s), skipped)
        except UnreadableCheckpointError as err:
            skipped.append((s, str(err)))
    if not skipped:
        raise CheckpointError(f"no checkpoint in {mngr.directory}; train first (without --restore/--load)")
    raise CheckpointError(f"no checkpoint in {mngr.directory} can be read: " + "; ".join(w for _, w in skipped))


def set_aside(mngr: ocp.CheckpointManager, steps, why: str) -> Path:
    """Moves the folders of ``steps`` out of the checkpoint folder into ``checkpoints_<why>_<time>/`` beside it
    (kept, never deleted), so that training can write those steps again; returns that folder."""
    src = Path(mngr.directory)
    dest = src.parent / f"checkpoints_{why}_{time.strftime('%Y%m%d-%H%M%S')}"
    dest.mkdir(parents=True, exist_ok=True)
    for s in steps:
        shutil.move(str(src / str(s)), str(dest / str(s)))
    mngr.reload()
    return dest


def trim_metrics(path: Path, step: int) -> None:
    """Keeps the rows of a ``metrics.jsonl`` up to ``step`` (a run resumed there writes the later ones again)."""
    path = Path(path)
    if not path.exists():
        return
    rows = [ln for ln in path.read_text().splitlines() if ln.strip()]
    kept = []
    for ln in rows:
        try:
            if json.loads(ln).get("step", 0) <= step:
                kept.append(ln)
        except json.JSONDecodeError:
            continue  # a line cut off by a kill mid-write
    if len(kept) != len(rows):
        path.write_text("".join(ln + "\n" for ln in kept))
