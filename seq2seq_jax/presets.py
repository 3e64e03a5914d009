"""Named presets: the model, its training and the segmentation, chosen together, each defined once here.

Every script, the ``seq2seq-jax`` command and ``seq2seq_jax.segment`` take their defaults from a preset (``--preset
NAME`` or ``preset="NAME"``); flags and keywords override single fields. How each setting was chosen and what it
scores: docs/method.md and docs/results/.

- ``paper``: the paper's configuration (hidden 1024, Adam 1e-4, 10,000 steps), with our segmentation.
- ``subject86``: the default of ``experiments/subject86.py`` (continuous motion capture, only k given): an ensemble
  of three models (25 frames in, 25 predicted) trained together (500 steps each), each segmented four times
  (change points at the elbow of the kernel cost or of k classes' cost, whichever places more; segments clustered
  by where they sit, by Ward's method whitened half of the way, by how they move, by how near their samples lie,
  and by the rhythm of the input frames in them), the frames' own segmentation one more voter, then the median
  consensus of the sixteen.
- ``mocap``: the same settings for your own motion-capture recordings (API and command line).
- ``concat_cmu``: case (i), clips of one action each joined end to end (cut at the joins, clustered by spread);
  one model of 1,000 steps.
- ``generic``: the default of the API and the command line for any multichannel signal: one smaller model and no
  smoothing in time, which would blur abrupt switches.
"""

from __future__ import annotations

import dataclasses

from seq2seq_jax.config import ModelConfig, TrainConfig
from seq2seq_jax.segmentation.config import SegmentConfig


@dataclasses.dataclass(frozen=True)
class Preset:
    """A complete setting: model, training and segmentation."""

    name: str
    model: ModelConfig
    train: TrainConfig
    segment: SegmentConfig
    command: str  # the command that runs it, and whose result its doc reports

    def replace(self, model: dict | None = None, train: dict | None = None, segment: dict | None = None) -> Preset:
        """This preset with some fields overridden (``None`` values are ignored); raises ValueError on a bad value."""

        def upd(cfg, changes):
            changes = {k: v for k, v in (changes or {}).items() if v is not None}
            return dataclasses.replace(cfg, **changes) if changes else cfg

        return dataclasses.replace(
            self, model=upd(self.model, model), train=upd(self.train, train), segment=upd(self.segment, segment)
        )


# One model of 1,000 steps: the training of every preset before ensembles (2026-12-02), kept by concat_cmu and generic
ONE_MODEL = TrainConfig(lr=1e-3, iterations=1000, save_every=500, keep=2)
SUBJECT86 = Preset(
    "subject86",
    ModelConfig(hidden=256, source=25),
    dataclasses.replace(ONE_MODEL, iterations=500, save_every=250, keep=1, models=3),
    SegmentConfig(
        cpd_smooth_s=0.25,
        min_segments_over_k=2,
        count_rule="class_elbow",
        linkage="ward_whitened",
        whiten_shrink=0.5,
        frames_in_clustering=False,
        motion_votes=True,
        chamfer_votes=True,
        spectrum_votes=True,
        frames_votes=True,
        consensus="median",
    ),
    "python experiments/subject86.py",
)
PAPER = Preset(
    "paper", ModelConfig(), TrainConfig(), SUBJECT86.segment, "python experiments/subject86.py --preset paper"
)
MOCAP = dataclasses.replace(SUBJECT86, name="mocap", command="seq2seq-jax segment FILE --k K --fps FPS --preset mocap")
CONCAT_CMU = dataclasses.replace(
    SUBJECT86,
    name="concat_cmu",
    model=dataclasses.replace(SUBJECT86.model, source=SUBJECT86.model.target),
    train=ONE_MODEL,
    segment=SegmentConfig(within_recordings="none", segment_stats="std"),
    command="python experiments/concat_cmu.py",
)
GENERIC = dataclasses.replace(
    SUBJECT86,
    name="generic",
    model=ModelConfig(hidden=128),
    train=ONE_MODEL,
    segment=SegmentConfig(),
    command="seq2seq-jax segment FILE --k K --fps FPS",
)

PRESETS = {p.name: p for p in (PAPER, SUBJECT86, MOCAP, CONCAT_CMU, GENERIC)}


def get(name: str | Preset) -> Preset:
    """The preset of that name (a ``Preset`` is returned as it is)."""
    if isinstance(name, Preset):
        return name
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    return PRESETS[name]
