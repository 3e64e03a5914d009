"""CMU subject 86: the 14 long recordings, their class-label table, and the Barbic et al. ground truth.

The label table is the reference's (shlizee/interpretseq2seq ``helper.get_gt``): for every trial, the
action class of each ground-truth segment and the frames where the reference cuts the trial. Segments of
the same action share one class, and classes are numbered in order of first appearance. The names in the
Barbic files differ across trials ("walk" and "walking", "leg_kick" and "leg_kicking"); the table, not the
file, decides which segments are the same class. ``tests/test_subject86_trials.py`` checks the table against the
ground-truth files' names (through ``ALIASES``) and transition frames.

Quirks of the ground-truth files, kept as they are (tolerance windows are always [min, max] of the three
frames, see ``GTSegment.window``):
- trial 05, 5th transition: earliest 3881, best 3840, latest 4000 (earliest after best);
- trial 06, 2nd transition: earliest 1540, best 1685, latest 1628 (latest before best);
- trial 04, 5th transition: earliest 4060, best 5050, latest 5090 (a window of about 1000 frames);
- trial 07, 7th transition: the reference cuts at 5700, the file's best frame is 5770 (5700 is the
  file's earliest acceptable frame); we keep the reference's cut.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from seq2seq_jax.data import readers, sources
from seq2seq_jax.data.sources import DataError

FPS = readers.SUBJECT86_FPS
TRIALS = tuple(f"{i:02d}" for i in range(1, 15))

# trial -> (class name of each segment, reference cut frames between segments)
TABLE: dict[str, tuple[tuple[str, ...], tuple[int, ...]]] = {
    "01": (
        ("walking", "jump_forward", "walking", "punching", "walking", "leg_kicking", "punching"),
        (550, 1150, 1980, 2500, 3200, 4065),
    ),
    "02": (
        ("walking", "squat", "run", "stand_still", "arms_up", "walking", "jump_up", "drink", "punching", "walking"),
        (1010, 1900, 2700, 3150, 4710, 5900, 7370, 8820, 9624),
    ),
    "03": (
        (
            "walking",
            "run",
            "jump",
            "walking",
            "leg_kick",
            "jump_on_left_leg",
            "jump_on_right_leg",
            "arm_circling",
            "walking",
        ),
        (975, 1900, 2420, 3500, 4660, 5420, 6200, 7000),
    ),
    "04": (
        (
            "walking",
            "stretch_two_times",
            "punch_eight_times",
            "stand_at_spot_wiggle_arm_a_little_bit",
            "walking",
            "slap",
            "turn_on_spot_360deg_two_times",
            "drink",
            "punch",
            "walking",
        ),
        (1019, 2250, 3440, 4074, 5050, 5870, 6690, 8070, 9110),
    ),
    "05": (
        (
            "walking",
            "jump_up_several_times",
            "jumping_jacks",
            "jump_forward",
            "jump_on_one_leg",
            "walking",
            "punch",
            "cheer",
            "raise_arms",
            "slap",
            "walking",
        ),
        (818, 1550, 2320, 3225, 3840, 4550, 5200, 5870, 6570, 7350),
    ),
    "06": (
        (
            "walking",
            "stand_still",
            "run",
            "stand_still",
            "leg_kicks",
            "punch",
            "slap",
            "punch_down",
            "knee_shot",
            "cheer",
            "raise_arms",
            "walking",
        ),
        (1100, 1685, 2600, 3150, 3940, 4620, 5490, 6210, 7000, 8000, 8910),
    ),
    "07": (
        (
            "walking",
            "rotate_body",
            "rotate_arms",
            "rotate_body",
            "rotate_arms",
            "jump_up",
            "jump_forward",
            "walking",
            "run",
            "walking",
        ),
        (1090, 1910, 2575, 3690, 4460, 5100, 5700, 6980, 7800),
    ),
    "08": (
        (
            "walking",
            "sit_ups",
            "body_rotations",
            "arm_rotations",
            "standing",
            "leg_kick_back",
            "run",
            "standing",
            "stretch",
            "punches",
            "walking",
        ),
        (1100, 1875, 2695, 3330, 3950, 4800, 5640, 6350, 7165, 8190),
    ),
    "09": (
        ("walking", "sitting", "looking_around", "clapping", "standing_and_clapping", "walking"),
        (1020, 1300, 2160, 2830, 3670),
    ),
    "10": (
        ("walking", "sitting", "walking", "stand_in_inclined_position", "run", "walking"),
        (2000, 3790, 5000, 5670, 6670),
    ),
    "11": (
        (
            "walking",
            "both_arms_rotations",
            "one_arm_rotations",
            "both_arms_rotations",
            "one_arm_rotations",
            "both_arms_rotations",
            "walking",
        ),
        (1115, 1700, 2350, 2755, 4030, 4670),
    ),
    "12": (
        (
            "walking",
            "draging",
            "sweeping_floor",
            "collect_dirt",
            "through_it_away",
            "get_up_and_short_walk",
            "wash_window",
            "walking",
        ),
        (1020, 1700, 3300, 4150, 5000, 5315, 7640),
    ),
    "13": (
        (
            "walking",
            "climb_up",
            "stand_moving_hands_a_bit",
            "climb_down",
            "standing",
            "climb_up",
            "look_around",
            "point",
            "climb_down",
            "walking",
        ),
        (1025, 1560, 2315, 2680, 3100, 3670, 4700, 4850, 5250),
    ),
    "14": (
        (
            "walking_lead_ball",
            "through_catch_ball",
            "lead_ball_right_hand",
            "lead_ball_both_hand",
            "lead_ball_right_hand",
            "jam_ball",
            "walking",
        ),
        (680, 1970, 2930, 4220, 5090, 5280),
    ),
}

# Names in the ground-truth files that mean the same class as a table name.
ALIASES = {"walk": "walking", "knee shot": "knee_shot"}


def check_trial(trial: str) -> str:
    trial = str(trial)
    if trial.isdigit():
        trial = f"{int(trial):02d}"
    if trial not in TABLE:
        raise DataError(f"unknown subject-86 trial {trial!r}; trials are {', '.join(TRIALS)}")
    return trial


def mat_path(trial: str) -> str:
    return f"cmu_mocap/subject_86/expmap/{check_trial(trial)}.mat"


def gt_path(trial: str) -> str:
    return f"cmu_mocap/subject_86/segmentation_ground_truth/{check_trial(trial)}_ground_truth.txt"


def amc_path(trial: str) -> str:
    """CMU's own motion file of the trial (ASF/AMC, the MAT file's source; see ``data.motion``)."""
    return f"cmu_amc/subject_86/86_{check_trial(trial)}.amc"


ASF_PATH = "cmu_amc/subject_86/86.asf"


def load_amc(trial: str, data_dir=None, mirror=None):
    """Fetches (if needed), verifies and reads the trial's AMC motion with subject 86's skeleton: a
    ``motion.Motion`` whose frames are the MAT file's channels."""
    from seq2seq_jax.data import motion

    asf = motion.read_asf(sources.fetch(ASF_PATH, data_dir, mirror))
    return motion.read_amc(sources.fetch(amc_path(trial), data_dir, mirror), asf, FPS)


def available_trials(data_dir=None, mirror=None) -> list[str]:
    """Trials whose recording can be had without the network (all of them when no mirror is set)."""
    return [t for t in TRIALS if sources.is_available(mat_path(t), data_dir, mirror)]


def resolve_trials(spec, data_dir=None, mirror=None) -> list[str]:
    """Trial numbers from a command line's words: numbers ("01", "3"), comma lists, or "all" (every trial
    whose recording is available)."""
    names = [s for item in spec for s in item.split(",") if s]
    if names == ["all"]:
        got = available_trials(data_dir, mirror)
        if not got:
            raise DataError("no subject-86 trial is available; set --data_dir or --mirror, or allow downloads")
        return got
    return [check_trial(n) for n in names]


def labels_for(trial: str, n_frames: int) -> np.ndarray:
    """Per-frame class labels (int32, classes in order of first appearance) for ``n_frames`` frames."""
    names, cuts = TABLE[check_trial(trial)]
    if n_frames <= cuts[-1]:
        raise DataError(f"trial {trial}: {n_frames} frames, but the ground truth has a cut at frame {cuts[-1]}")
    classes = list(dict.fromkeys(names))
    bounds = (0, *cuts, n_frames)
    out = np.empty(n_frames, np.int32)
    for name, a, b in zip(names, bounds[:-1], bounds[1:]):
        out[a:b] = classes.index(name)
    return out


@dataclasses.dataclass(frozen=True)
class Trial:
    """One subject-86 recording with its ground truth.

    Attributes:
      trial: "01" .. "14".
      frames: frames_TxD, float32 (D = 96), raw exponential-map channels.
      labels: labels_T, int32, class per frame (first-appearance order).
      class_names: name of each class id.
      cuts: reference cut frames between segments (len = segments - 1).
      windows: tolerance window [min, max] of each transition (len = segments - 1), for boundary scores.
      fps: 120.
    """

    trial: str
    frames: np.ndarray
    labels: np.ndarray
    class_names: tuple[str, ...]
    cuts: tuple[int, ...]
    windows: tuple[tuple[int, int], ...]
    fps: float = FPS

    @property
    def k(self) -> int:
        return len(self.class_names)

    def segments(self) -> list[tuple[int, int]]:
        """Ground-truth segments as (start, end) frame ranges."""
        b = (0, *self.cuts, len(self.frames))
        return list(zip(b[:-1], b[1:]))


def load_trial(trial: str, data_dir=None, mirror=None) -> Trial:
    """Fetches (if needed), verifies and reads one trial and its ground truth."""
    trial = check_trial(trial)
    frames = readers.read_subject86_mat(sources.fetch(mat_path(trial), data_dir, mirror))
    gt = readers.read_ground_truth(sources.fetch(gt_path(trial), data_dir, mirror))
    names, cuts = TABLE[trial]
    if len(gt) != len(names):
        raise DataError(f"trial {trial}: the ground-truth file has {len(gt)} segments, the label table {len(names)}")
    return Trial(
        trial=trial,
        frames=frames,
        labels=labels_for(trial, len(frames)),
        class_names=tuple(dict.fromkeys(names)),
        cuts=cuts,
        windows=tuple(s.window for s in gt[:-1]),
    )


# The six trials of ../shared/data, on which every setting is chosen; the other eight are the test set and are never
# read by shuffled_trial, whatever a download or mirror holds.
DEVELOPMENT_TRIALS = ("01", "03", "05", "09", "10", "12")
PIECE_SECONDS = (3.0, 6.0)  # shuffled_trial's pieces: uniform lengths in this range
MIN_PIECE_SECONDS = 2.0  # a segment's rest shorter than this is joined to the piece before it
MIN_SEGMENT_SECONDS = 1.0  # a segment shorter than this, without its tolerance windows, gives no piece


def shuffled_trial(seed: int, blend_s: float = 0.5, data_dir=None, mirror=None):
    """A development trial cut into pieces and re-ordered, as a ``cmu.Sequence`` whose labels are the trial's
    own classes (Barbic et al.): the same motions and k, more segments per class (1.3-3.75 over seeds 0-23, against
    the trials' own 1.1-1.75).

    The trial is ``DEVELOPMENT_TRIALS[seed % 6]``. Each ground-truth segment, without the tolerance windows of its
    transitions (so no piece holds a true change of action), is cut into pieces of ``PIECE_SECONDS``; the pieces
    are put in a random order in which no two neighbours share a class (pieces of a class that can no longer be
    placed so are left out), and joined as the blends are (``cmu.blend_clips``, root aligned, cross-faded over
    ``blend_s`` seconds). Each clip is (class, "trial T", first, end frame in the trial); ``crops`` are the same
    frames. Raises DataError for ``blend_s`` outside 0 .. 0.5 s (half the shortest piece)."""
    from seq2seq_jax.data.cmu import blend_clips, joined_sequence

    trial = DEVELOPMENT_TRIALS[seed % len(DEVELOPMENT_TRIALS)]
    if not 0 <= blend_s <= MIN_SEGMENT_SECONDS / 2:
        raise DataError(f"blend_s must be between 0 and {MIN_SEGMENT_SECONDS / 2:g} s, got {blend_s}")
    tr = load_trial(trial, data_dir, mirror)
    rng = np.random.default_rng([seed, 86])
    edges = [0, *(w[1] for w in tr.windows)], [*(w[0] for w in tr.windows), len(tr.frames)]
    pieces: dict[int, list[tuple[int, int]]] = {}  # class -> its pieces (first, end frame)
    shortest = int(round(MIN_PIECE_SECONDS * tr.fps))
    for (a, _), first, end in zip(tr.segments(), *edges):
        cls, cut = int(tr.labels[a]), []
        while end - first >= MIN_SEGMENT_SECONDS * tr.fps:
            n = int(round(rng.uniform(*PIECE_SECONDS) * tr.fps))
            n = end - first if end - first - n < shortest else n  # a short rest stays with this piece
            cut.append((first, first + n))
            first += n
        pieces.setdefault(cls, []).extend(cut)
    for cls in pieces:
        rng.shuffle(pieces[cls])
    order: list[tuple[int, int, int]] = []
    while True:
        left = {c: len(p) for c, p in pieces.items() if p and (not order or c != order[-1][0])}
        if not left:
            break
        total = sum(len(p) for p in pieces.values())
        # a class with more pieces left than all others together must come now, or its pieces pile up at the end
        forced = [c for c, n in left.items() if 2 * n > total]
        classes = sorted(left)
        c = (
            forced[0]
            if forced
            else int(rng.choice(classes, p=np.array([left[c] for c in classes]) / sum(left.values())))
        )
        order.append((c, *pieces[c].pop()))
    frames, starts = blend_clips([tr.frames[a:b] for _, a, b in order], int(round(blend_s * tr.fps)))
    names = [tr.class_names[c] for c in sorted({c for c, _, _ in order})]  # the classes placed, in the trial's order
    clips = [(tr.class_names[c], f"trial {trial}") for c, _, _ in order]
    return joined_sequence(frames, starts, clips, names, tr.fps, [(a, b) for _, a, b in order])
