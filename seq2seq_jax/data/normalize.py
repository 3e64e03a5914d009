"""Normalization statistics: z-score per dimension, dimensions with std < 1e-4 dropped (the reference).

Fitted once on a sequence, stored with a model (a checkpoint carries ``to_dict()``), and applied or
inverted anywhere later. With ``root="upright"`` the frames first go through ``kinematics.upright_root`` (motion
capture: where the body stands and which way it faces dropped), so every user of a model's statistics (its
training, its embedding, the frames beside its states) sees the same channels.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from seq2seq_jax.config import check_root
from seq2seq_jax.data.sources import DataError

MIN_STD = 1e-4


def represent(frames_TxD: np.ndarray, root: str = "keep") -> np.ndarray:
    """The frames as a model sees them before z-scoring: unchanged (``root="keep"``) or with the root's six
    channels replaced by its height and tilt (``"upright"``: ``kinematics.upright_root``)."""
    if check_root(root) == "keep":
        return frames_TxD
    from seq2seq_jax import kinematics

    return kinematics.upright_root(frames_TxD)


@dataclasses.dataclass(frozen=True)
class NormStats:
    """mean_D, std_D over the D dimensions of the represented frames (``represent(frames, root)``); ``keep`` the
    indices of the dimensions used (std >= 1e-4); ``root`` how the input frames are represented first.

    ``per_recording``: ``apply`` z-scores every recording by its own mean and standard deviation on the kept
    dimensions (``mean`` and ``std`` are then the training recordings' pooled ones, used by ``invert``). A model
    trained on several recordings so (``fitting.fit_pooled(..., per_recording=True)``) sees each new recording
    relative to itself, as it saw each of its own (docs/results/reuse.md)."""

    mean: np.ndarray
    std: np.ndarray
    keep: np.ndarray
    root: str = "keep"
    per_recording: bool = False

    @property
    def dim_in(self) -> int:
        """Channels of the input frames (the upright root turns six of them into three)."""
        return len(self.mean) + (3 if self.root == "upright" else 0)

    @property
    def dim(self) -> int:
        """Dimensions after dropping the constant ones (the model's frame size)."""
        return len(self.keep)

    @classmethod
    def fit(cls, frames_TxD: np.ndarray, min_std: float = MIN_STD, root: str = "keep") -> NormStats:
        x = np.asarray(frames_TxD, np.float64)
        if x.ndim != 2 or len(x) < 2:
            raise DataError(f"normalization needs a (frames, dims) array with at least 2 frames, got shape {x.shape}")
        if not np.isfinite(x).all():
            raise DataError("normalization: the sequence contains NaN or inf")
        x = represent(x, root)
        mean, std = x.mean(0), x.std(0)
        keep = np.flatnonzero(std >= min_std)
        if len(keep) == 0:
            raise DataError("normalization: every dimension is constant (std < 1e-4); nothing to model")
        std = np.where(std >= min_std, std, 1.0)
        return cls(mean.astype(np.float32), std.astype(np.float32), keep.astype(np.int32), check_root(root))

    def apply(self, frames_TxD: np.ndarray) -> np.ndarray:
        """z_TxK: z-scored frames, constant dimensions dropped (K = ``dim``)."""
        x = np.asarray(frames_TxD, np.float32)
        if x.ndim != 2 or x.shape[1] != self.dim_in:
            raise DataError(
                f"frames of shape {x.shape} do not match normalization statistics fitted on {self.dim_in} dimensions"
            )
        x = represent(x, self.root)
        if self.per_recording:
            own = x[:, self.keep].astype(np.float64)
            std = own.std(0)
            return ((own - own.mean(0)) / np.where(std >= MIN_STD, std, 1.0)).astype(np.float32)
        return ((x - self.mean) / self.std)[:, self.keep]

    def invert(self, z_TxK: np.ndarray) -> np.ndarray:
        """The represented frames back from z-scores (with ``root="upright"`` the root's three channels, not the
        input's six); the dropped dimensions get their mean."""
        z = np.asarray(z_TxK, np.float32)
        if z.shape[-1] != self.dim:
            raise DataError(f"z-scores with {z.shape[-1]} dimensions do not match the {self.dim} kept dimensions")
        out = np.broadcast_to(self.mean, z.shape[:-1] + (len(self.mean),)).copy()
        out[..., self.keep] = z * self.std[self.keep] + self.mean[self.keep]
        return out

    def to_dict(self) -> dict:
        return {
            "mean": np.asarray(self.mean),
            "std": np.asarray(self.std),
            "keep": np.asarray(self.keep),
            "root": np.asarray(self.root),
            "per_recording": np.asarray(self.per_recording),
        }

    @classmethod
    def from_dict(cls, d: dict) -> NormStats:
        root = str(np.asarray(d.get("root", "keep")))  # checkpoints saved before the field: the channels as they are
        return cls(
            np.asarray(d["mean"], np.float32),
            np.asarray(d["std"], np.float32),
            np.asarray(d["keep"], np.int32),
            check_root(root),
            bool(np.asarray(d.get("per_recording", False))),  # saved before the field: the stored statistics
        )
