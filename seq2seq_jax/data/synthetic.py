"""Synthetic recordings with known segments, for examples, tests and checks of a setting.

``wrist_accelerometer``: a simulated 3-axis wrist accelerometer at 50 Hz that strings together rest (gravity
plus sensor noise), walking (2 Hz steps), running (3 Hz, larger and sharper), rest, walking again and arm
waving (1.2 Hz, mostly one axis), 8-20 s each, with slow drifts of the wrist orientation.

``switching_regimes``: seeded draws of motion-capture-like recordings (40 channels at 120 fps, as smooth as joint
angles) in which k regimes of motion recur; the label changes exactly where the generating regime does, so the
classes are in the motion. A check of a setting on data that is neither subject 86 nor CMU clips (the protocol of
``../docs/BENCHMARKS.md``, "Choosing settings"). Its constants were fixed before any method ran on it and are not
tuned: docs/results/synthetic_regimes.md.
"""

from __future__ import annotations

import numpy as np

from seq2seq_jax.data.cmu import Sequence, blend_clips, joined_sequence
from seq2seq_jax.data.sources import DataError

FPS = 50.0
ACTIVITIES = ("rest", "walk", "run", "wave")


def wrist_accelerometer(seed: int = 0):
    """(signal_Tx3, labels_T, cut frames) of the plan below at ``FPS``; labels index ``ACTIVITIES``."""
    rng = np.random.default_rng(seed)
    plan = [("rest", 10), ("walk", 20), ("run", 12), ("rest", 8), ("walk", 15), ("wave", 12), ("run", 10)]
    parts, labels = [], []
    for name, seconds in plan:
        n = int(seconds * FPS)
        t = np.arange(n) / FPS
        g = np.array([0.0, 0.0, 1.0]) + 0.05 * rng.normal(size=3)  # gravity in a slightly tilted wrist frame
        if name == "rest":
            x = np.tile(g, (n, 1)) + 0.01 * rng.normal(size=(n, 3))
        elif name == "walk":
            f = 2.0 + 0.1 * rng.normal()
            x = g + np.stack(
                [
                    0.3 * np.sin(2 * np.pi * f * t),
                    0.15 * np.sin(2 * np.pi * f * t + 1.0),
                    0.4 * np.abs(np.sin(np.pi * f * t)),
                ],
                1,
            )
        elif name == "run":
            f = 3.0 + 0.1 * rng.normal()
            x = g + np.stack(
                [
                    0.9 * np.sin(2 * np.pi * f * t),
                    0.4 * np.sin(2 * np.pi * f * t + 0.5),
                    1.2 * np.abs(np.sin(np.pi * f * t)) ** 3,
                ],
                1,
            )
        else:  # wave
            f = 1.2
            x = g + np.stack(
                [0.05 * np.sin(2 * np.pi * f * t), 0.8 * np.sin(2 * np.pi * f * t), 0.1 * np.cos(2 * np.pi * f * t)], 1
            )
        parts.append(x + 0.03 * rng.normal(size=(n, 3)))
        labels.append(np.full(n, ACTIVITIES.index(name)))
    lens = [len(p) for p in parts]
    return np.concatenate(parts), np.concatenate(labels), np.cumsum(lens)[:-1]


# switching_regimes: fixed before any method ran on it (docs/results/synthetic_regimes.md); not tuned.
REGIME_FPS = 120.0  # as the CMU recordings
REGIME_CHANNELS = 40  # observed channels, each a fixed random mix of the latent angles (a "skeleton")
REGIME_LATENT = 8  # latent joint angles
REGIME_SECONDS = (3.0, 10.0)  # each segment's length, uniform (subject 86's segments: 2.3-19.4 s, most 5-10 s)
REGIME_HZ = (0.5, 2.5)  # each regime's fundamental frequency, uniform
REGIME_AMPLITUDE = (0.6, 0.25)  # standard deviation of each latent's amplitude at the fundamental and twice it
REGIME_POSTURE = 1.0  # standard deviation of a regime's mean posture, per latent
OCCURRENCE_JITTER = {"hz": 0.08, "amplitude": 0.15, "posture": 0.15}  # how one occurrence differs from another
DRIFT = 0.1  # amplitude of each channel's slow drift (two sines of 20-60 s periods)
NOISE = 0.02  # per frame and channel


def switching_regimes(
    seed: int, k: int, segments: int | None = None, blend_s: float = 0.5, shared_postures: bool = False
) -> Sequence:
    """A recording of ``segments`` segments (default 2k) in which ``k`` regimes of motion recur, as a
    ``cmu.Sequence`` (actions "regime_0" ..; each clip's "file" is its regime, one "recording" per class).

    A regime is a mean posture of the latent angles and a periodic motion about it (a fundamental frequency and
    its second harmonic, an amplitude and phase per latent angle). Each occurrence of a regime varies its
    frequency, amplitudes and posture a little (``OCCURRENCE_JITTER``), as one person repeating an action does.
    The order: the k regimes first in a random order, then regimes drawn uniformly, never the one just before
    (each join a change of regime). The latent angles are mixed into ``REGIME_CHANNELS`` channels by one random
    matrix per draw; every channel drifts slowly and carries a little noise; joins are cross-faded over ``blend_s``
    seconds (``cmu.blend_clips``), so no splice is left. With ``shared_postures`` the regimes come in pairs that
    share their mean posture and differ only in how they move (a harder draw: posture alone cannot tell a pair
    apart). Raises DataError for k < 2, segments < k, or a blend longer than half the shortest segment allows.
    """
    segments = 2 * k if segments is None else segments
    if k < 2 or segments < k:
        raise DataError(f"switching_regimes needs k >= 2 regimes and segments >= k, got k = {k}, segments = {segments}")
    if not 0 <= blend_s <= REGIME_SECONDS[0] / 2:
        raise DataError(f"blend_s must be between 0 and {REGIME_SECONDS[0] / 2:g} s, got {blend_s}")
    rng = np.random.default_rng([seed, 7])
    lat, fps = REGIME_LATENT, REGIME_FPS
    posture = rng.normal(0.0, REGIME_POSTURE, (k, lat))
    if shared_postures:
        posture = posture[np.arange(k) // 2 * 2]
    hz = rng.uniform(*REGIME_HZ, k)
    amp = rng.normal(0.0, 1.0, (k, 2, lat)) * np.array(REGIME_AMPLITUDE)[None, :, None]
    phase = rng.uniform(0, 2 * np.pi, (k, 2, lat))
    mix = rng.normal(0.0, 1.0, (lat, REGIME_CHANNELS)) / np.sqrt(lat)
    order = list(rng.permutation(k))
    while len(order) < segments:
        order.append(int(rng.choice([r for r in range(k) if r != order[-1]])))
    parts = []
    for r in order:
        n = int(round(rng.uniform(*REGIME_SECONDS) * fps))
        t = np.arange(n)[:, None] / fps
        f = hz[r] * (1 + OCCURRENCE_JITTER["hz"] * rng.normal())
        a = amp[r] * (1 + OCCURRENCE_JITTER["amplitude"] * rng.normal(size=(2, lat)))
        p0 = posture[r] + OCCURRENCE_JITTER["posture"] * rng.normal(size=lat)
        shift = rng.uniform(0, 2 * np.pi)
        x = p0 + sum(a[h] * np.sin(2 * np.pi * (h + 1) * f * t + phase[r, h] + (h + 1) * shift) for h in range(2))
        parts.append(x @ mix)
    frames, starts = blend_clips(parts, int(round(blend_s * fps)), root=())
    t = np.arange(len(frames))[:, None] / fps
    periods = rng.uniform(20, 60, (2, REGIME_CHANNELS))
    drift = DRIFT * sum(
        np.sin(2 * np.pi * t / periods[i] + rng.uniform(0, 2 * np.pi, REGIME_CHANNELS)) for i in range(2)
    )
    frames = frames + drift / 2 + NOISE * rng.normal(size=frames.shape)
    names = tuple(f"regime_{r}" for r in range(k))
    lengths = np.diff([*starts, len(frames)]).tolist()
    return joined_sequence(frames, starts, [(names[r], names[r]) for r in order], names, fps, [(0, n) for n in lengths])
