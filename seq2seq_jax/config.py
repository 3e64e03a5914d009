"""Configuration: one frozen dataclass per concern, validated on construction, a comment per field.

The field defaults are the paper's (Su & Shlizerman 2020; reference: shlizee/interpretseq2seq). The settings each
experiment uses are named presets in ``seq2seq_jax.presets``.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from typing import Any

ADVERSARIAL = ("none", "joint", "alternating")  # ModelConfig.adversarial
DTYPES = ("float32", "bfloat16")  # ModelConfig.dtype
ROOTS = ("keep", "upright")  # ModelConfig.root (data.normalize.represent)


def check_root(root: str) -> str:
    """``root`` if it is one of ``ROOTS`` (ModelConfig.root, NormStats.root); a ValueError naming them otherwise."""
    if root not in ROOTS:
        raise ValueError(f"root must be one of {', '.join(map(repr, ROOTS))}, got {root!r}")
    return root


def whole_numbers(cfg, fields, least: int | None = None) -> None:
    """Raises ValueError naming the first of ``fields`` of the config ``cfg`` that is not a whole number (8.5 or NaN
    would reach an array shape or a range and fail there, with a message about neither), or is below ``least``;
    numpy integers become Python ints (configs are saved as JSON beside the checkpoint, which cannot hold them)."""
    for f in fields:
        v = getattr(cfg, f)
        if isinstance(v, bool) or not isinstance(v, numbers.Integral):
            raise ValueError(f"{f} must be a whole number, got {v!r}")
        if least is not None and v < least:
            raise ValueError(f"{f} must be >= {least}, got {v}")
        object.__setattr__(cfg, f, int(v))


def real_numbers(cfg, fields, finite: bool = False) -> None:
    """As ``whole_numbers`` for numbers (with ``finite``, finite ones: NaN passes every range check); numpy
    numbers become Python ones, ints staying ints (a float field may take a count, as ``pca_var`` does)."""
    for f in fields:
        v = getattr(cfg, f)
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or (finite and not math.isfinite(v)):
            raise ValueError(f"{f} must be a {'finite ' if finite else ''}number, got {v!r}")
        object.__setattr__(cfg, f, int(v) if isinstance(v, numbers.Integral) else float(v))


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """The GRU seq2seq (Su & Shlizerman 2020; reference: shlizee/interpretseq2seq ``AGED.py``)."""

    dim: int = 62  # frame size after normalization (set from the data when a model is trained)
    hidden: int = 1024  # GRU hidden size (paper: 1024)
    source: int = 50  # encoder frames (50 for subject 86, 25 for case i)
    target: int = 25  # decoder frames predicted
    tied: bool = True  # one GRU cell shared by encoder and decoder (the reference); False: two cells
    residual: bool = False  # readout predicts the change from the previous frame (off in the reference)
    teacher_forcing: bool = False  # decoder reads true frames instead of its own predictions (off in the reference)
    dtype: str = "float32"  # matrix-product input dtype: "float32" or "bfloat16" (state and accumulation stay fp32)
    adversarial: str = "none"  # "none"; "joint": the reference's 0.6*(MSE + fidelity) + continuity, one optimiser;
    # "alternating": discriminators and generator updated in turn (a real min-max game)
    root: str = "keep"  # "keep": the channels as given; "upright" (motion capture): the root's position on the floor
    # and heading dropped, its height and tilt kept (kinematics.upright_root; NormStats applies it)

    def __post_init__(self):
        check_root(self.root)
        if self.adversarial not in ADVERSARIAL:
            raise ValueError(f"adversarial must be one of {ADVERSARIAL}, got {self.adversarial!r}")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {DTYPES}, got {self.dtype!r}")
        whole_numbers(self, ("dim", "hidden", "source", "target"), least=1)


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """The optax loop and its checkpoints."""

    lr: float = 1e-4  # Adam learning rate (reference 1e-4)
    batch: int = 16  # windows per step (reference 16)
    iterations: int = 10_000  # training steps (reference 10,000)
    clip: float = 1.0  # gradient clipping at this global norm (reference 1)
    seed: int = 0  # one seed for parameters and window sampling
    save_every: int = 500  # checkpoint every N steps (reference 500)
    keep: int = 12  # checkpoints kept (reference 12)
    log_every: int = 100  # steps between metric pulls to the host (progress bar, metrics.jsonl)
    adv_weight: float = 0.6  # weight of (MSE + fidelity) against continuity in the joint objective (reference 0.6)
    models: int = 1  # independent models trained together on the same data (an ensemble, seeds seed * models ..
    # seed * models + models - 1); each is segmented, and their consensus taken (segmentation.segment_ensemble)

    def __post_init__(self):
        real_numbers(self, ("lr", "clip", "adv_weight"))
        if not 0 < self.lr < math.inf:
            raise ValueError(f"the learning rate must be > 0 and finite, got {self.lr}")
        if not 0 < self.clip < math.inf:
            raise ValueError(f"clip must be > 0 and finite, got {self.clip}")
        whole_numbers(self, ("seed",))
        whole_numbers(self, ("iterations",), least=0)
        whole_numbers(self, ("batch", "save_every", "keep", "log_every", "models"), least=1)


def to_dict(cfg) -> dict[str, Any]:
    return dataclasses.asdict(cfg)


def from_dict(cls, d: dict[str, Any]):
    """Builds ``cls`` from a dict, refusing unknown fields (a checkpoint from another version says so)."""
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(d) - names
    if unknown:
        raise ValueError(f"unknown {cls.__name__} fields {sorted(unknown)}")
    return cls(**d)
