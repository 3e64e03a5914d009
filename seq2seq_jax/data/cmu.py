"""Case (i): concatenated CMU action clips, as the reference's ``--dataset cmu --num_actions
--total_num_actions --actions``.

``make_sequence`` picks ``num_actions`` distinct actions (seeded, or by name), then ``total_num_actions``
clips in all: the first ``num_actions`` clips are the chosen actions in order, the rest drawn uniformly
from them; one random recording per clip; concatenated. Frame labels are per *action* (the reference labels
each clip separately, so a repeated action gets two labels although k is the number of actions; we do not
copy that).
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np

from seq2seq_jax.data import readers, sources
from seq2seq_jax.data.sources import DataError

ACTIONS = (
    "walking",
    "running",
    "jumping",
    "soccer",
    "basketball",
    "basketball_signal",
    "directing_traffic",
    "washwindow",
)
FPS = readers.CMU_FPS
_FILE = re.compile(r"^cmu_mocap/(train|test)/([a-z_]+)/([a-z_]+)_(\d+)\.txt$")


def action_files(action: str, split: str = "train") -> list[str]:
    """Manifest paths of the recordings of ``action`` in ``split`` (sorted by recording number)."""
    if split not in ("train", "test"):
        raise DataError(f"unknown split {split!r}; use 'train' or 'test'")
    if action not in ACTIONS:
        raise DataError(f"unknown action {action!r}; actions are {', '.join(ACTIONS)}")
    out = []
    for p in sources.manifest():
        m = _FILE.match(p)
        if m and m.group(1) == split and m.group(2) == action and m.group(3) == action:
            out.append((int(m.group(4)), p))
    return [p for _, p in sorted(out)]


def available_actions(split: str = "train", data_dir=None, mirror=None) -> dict[str, list[str]]:
    """Action -> its recordings that can be had (present in the data root or mirror; all when no mirror is set)."""
    out = {}
    for a in ACTIONS:
        files = [p for p in action_files(a, split) if sources.is_available(p, data_dir, mirror)]
        if files:
            out[a] = files
    return out


@dataclasses.dataclass(frozen=True)
class Sequence:
    """A concatenation of clips.

    Attributes:
      frames: frames_TxD float32 (D = 117).
      labels: labels_T int32, the index of the clip's action in ``actions``.
      actions: the chosen actions (label i is ``actions[i]``).
      clips: (action, manifest path, start frame, end frame) of every clip, in order.
      fps: 120.
    """

    frames: np.ndarray
    labels: np.ndarray
    actions: tuple[str, ...]
    clips: tuple[tuple[str, str, int, int], ...]
    fps: float = FPS

    @property
    def boundaries(self) -> list[int]:
        """True cut frames between consecutive clips (those between two clips of the same action included)."""
        return [c[2] for c in self.clips[1:]]


def choose_clips(
    seed: int, num_actions: int, total_num_actions: int, actions=None, split="train", data_dir=None, mirror=None
):
    """The (action, file) of every clip, drawn with ``numpy.random.default_rng(seed)``.

    ``actions`` (names) fixes the actions instead of drawing them; ``num_actions`` then defaults to their count.
    """
    avail = available_actions(split, data_dir, mirror)
    if actions:
        actions = list(actions)
        for a in actions:
            if a not in ACTIONS:
                raise DataError(f"unknown action {a!r}; actions are {', '.join(ACTIONS)}")
            if a not in avail:
                raise DataError(
                    f"action {a!r} has no recording available in {split}/ "
                    f"(available: {', '.join(avail) or 'none'}); fetch its files or choose another"
                )
        if len(set(actions)) != len(actions):
            raise DataError(f"actions must be distinct, got {actions}")
        num_actions = len(actions)
    if not actions and not 1 <= num_actions <= len(avail):
        raise DataError(
            f"num_actions must be between 1 and {len(avail)} (actions available in {split}/: {', '.join(avail)})"
        )
    if total_num_actions < num_actions:
        raise DataError(f"total_num_actions ({total_num_actions}) must be >= num_actions ({num_actions})")
    rng = np.random.default_rng(seed)
    if not actions:
        actions = [str(a) for a in rng.choice(sorted(avail), size=num_actions, replace=False)]
    order = list(actions) + [actions[i] for i in rng.integers(0, num_actions, size=total_num_actions - num_actions)]
    return actions, [(a, avail[a][rng.integers(0, len(avail[a]))]) for a in order]


def make_sequence(
    seed: int = 0,
    num_actions: int = 3,
    total_num_actions: int | None = None,
    actions=None,
    split: str = "train",
    data_dir=None,
    mirror=None,
) -> Sequence:
    """Builds a case-(i) sequence; see the module docstring."""
    total = total_num_actions or (len(actions) if actions else num_actions)
    actions, clips = choose_clips(seed, num_actions, total, actions, split, data_dir, mirror)
    frames, labels, table, t = [], [], [], 0
    for a, path in clips:
        x = readers.read_expmap_txt(sources.fetch(path, data_dir, mirror), readers.CMU_VALUES)
        frames.append(x)
        labels.append(np.full(len(x), actions.index(a), np.int32))
        table.append((a, path, t, t + len(x)))
        t += len(x)
    return Sequence(np.concatenate(frames), np.concatenate(labels), tuple(actions), tuple(table))
