"""Case (i): concatenated CMU action clips, as the reference's ``--dataset cmu --num_actions
--total_num_actions --actions``.

``make_sequence`` picks ``num_actions`` distinct actions (seeded, or by name), then ``total_num_actions``
clips in all: the first ``num_actions`` clips are the chosen actions in order, the rest drawn uniformly
from them; one random recording per clip; concatenated (with ``max_clip_s``, each recording longer than that cut to a
random window of that length first). Frame labels are per *action* (the reference labels
each clip separately, so a repeated action gets two labels although k is the number of actions; we do not
copy that).
"""

from __future__ import annotations

import dataclasses
import math
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


def read_recording(path: str, data_dir=None, mirror=None) -> np.ndarray:
    """frames_TxD of one CMU action recording (a manifest path), fetched (or found in the data root or mirror)."""
    return readers.read_expmap_txt(sources.fetch(path, data_dir, mirror), readers.CMU_VALUES)


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
      crops: (first, end) frames of each clip's recording that it holds (the whole recording without
        ``max_clip_s``).
      turns: with ``turn_clips``, the angle (radians) each clip was turned by about the vertical; else empty.
    """

    frames: np.ndarray
    labels: np.ndarray
    actions: tuple[str, ...]
    clips: tuple[tuple[str, str, int, int], ...]
    fps: float = FPS
    crops: tuple[tuple[int, int], ...] = ()
    turns: tuple[float, ...] = ()

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
    blend_s: float = 0.0,
    max_clip_s: float | None = None,
    turn_clips: bool = False,
) -> Sequence:
    """Builds a case-(i) sequence; see the module docstring. With ``blend_s`` > 0 the joins are blended away
    (``blend_clips``), so that no splice is left to find: a continuous recording with known segments. With
    ``max_clip_s``, a recording longer than that is cut to a window of that length (``crop_windows``): the
    gesture recordings (basketball_signal, directing_traffic: 25-31 s of one signal after another) then no longer
    hold most of a draw's frames. The same seed draws the same actions and recordings with or without it.

    With ``turn_clips``, each clip is turned about the vertical by its own angle (``turn_angles``;
    ``kinematics.turn_about_vertical``) before the joins. In the CMU recordings the subject
    faces much the same way in every recording of an action, so in the clips as recorded the root's heading tells
    some actions apart, as it would not in recordings made elsewhere (``experiments/diagnose.py --headings``)."""
    if not 0 <= blend_s < math.inf:
        raise DataError(f"blend_s must be >= 0 seconds and finite (0: clips joined as they are), got {blend_s}")
    total = total_num_actions or (len(actions) if actions else num_actions)
    actions, clips = choose_clips(seed, num_actions, total, actions, split, data_dir, mirror)
    xs = [read_recording(path, data_dir, mirror) for _, path in clips]
    crops = crop_windows(seed, [len(x) for x in xs], max_clip_s)
    xs = [x[a:b] for x, (a, b) in zip(xs, crops)]
    turns = []
    if turn_clips:
        from seq2seq_jax import kinematics  # at the top it would import the package from within data/

        turns = turn_angles(seed, len(xs))
        xs = [kinematics.turn_about_vertical(x, t) for x, t in zip(xs, turns)]
    overlap = int(round(blend_s * FPS))
    if overlap and min(len(x) for x in xs) <= 2 * overlap:
        raise DataError(
            f"blend_s = {blend_s} s overlaps more than half of the shortest clip "
            f"({min(len(x) for x in xs)} frames); use a shorter blend"
        )
    frames, starts = blend_clips(xs, overlap)
    return joined_sequence(frames, starts, clips, actions, crops=crops, turns=turns)


def joined_sequence(frames, starts, clips, actions, fps: float = FPS, crops=(), turns=()) -> Sequence:
    """The ``Sequence`` of ``frames`` joined from clips that start at ``starts`` (``blend_clips``' second output):
    clip i, ``clips[i]`` = (action, file), runs to the next one's start and is labelled by its action's index in
    ``actions``."""
    ends = starts[1:] + [len(frames)]
    labels = np.concatenate([np.full(e - b, actions.index(a), np.int32) for (a, _), b, e in zip(clips, starts, ends)])
    table = tuple((a, path, b, e) for (a, path), b, e in zip(clips, starts, ends))
    return Sequence(
        np.asarray(frames).astype(np.float32), labels, tuple(actions), table, fps, tuple(crops), tuple(turns)
    )


def crop_windows(seed: int, lengths, max_clip_s: float | None) -> list[tuple[int, int]]:
    """(first, end) frames of each recording that its clip keeps: all of it, or with ``max_clip_s`` a window of
    ``max_clip_s`` seconds (at ``FPS``) starting at a random frame (its own generator, seeded by ``seed``, so that
    the draw of actions and recordings is the same with or without cropping)."""
    if max_clip_s is None:
        return [(0, int(n)) for n in lengths]
    if not 0 < max_clip_s < math.inf:
        raise DataError(f"max_clip_s must be > 0 seconds and finite (or None: whole recordings), got {max_clip_s}")
    keep = max(2, int(round(max_clip_s * FPS)))
    rng = np.random.default_rng([seed, 1])
    out = []
    for n in lengths:
        first = int(rng.integers(0, n - keep + 1)) if n > keep else 0
        out.append((first, min(int(n), first + keep)))
    return out


def turn_angles(seed: int, n: int) -> list[float]:
    """The angles (radians, within a quarter turn either way) by which ``make_sequence(..., turn_clips=True)`` turns
    its ``n`` clips about the vertical: their own generator, seeded by ``seed``, so that the draw of actions,
    recordings and crops is the same with or without turning."""
    rng = np.random.default_rng([seed, 2])
    return [float(a) for a in rng.uniform(-np.pi / 2, np.pi / 2, n)]


def blend_clips(clips, overlap: int, root=(0, 2)) -> tuple[np.ndarray, list[int]]:
    """Joins clips of CMU exponential-map frames (root position first, then the root's and the joints' angles):
    each clip's horizontal root position (channels ``root``: 0 and 2; none for signals without one) is shifted to
    continue where the previous clip ends, and the last ``overlap`` frames of a clip are cross-faded (a smooth
    ramp) into the first ``overlap`` of the next, so that no channel jumps at the join. Returns (frames, start frame
    of each clip: the middle of each cross-fade). ``overlap`` 0: plain concatenation."""
    root = list(root)
    out = np.asarray(clips[0], np.float64)
    starts = [0]
    for nxt in clips[1:]:
        nxt = np.array(nxt, np.float64)
        if overlap == 0:
            starts.append(len(out))
            out = np.concatenate([out, nxt])
            continue
        nxt[:, root] += out[-overlap, root] - nxt[0, root]  # walk on from where the last clip was
        w = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, overlap))[:, None]  # 0 -> 1, flat at both ends
        mixed = (1 - w) * out[-overlap:] + w * nxt[:overlap]
        starts.append(len(out) - overlap + overlap // 2)
        out = np.concatenate([out[:-overlap], mixed, nxt[overlap:]])
    return out, starts
