"""Synthetic recordings with known segments, for examples and tests.

``wrist_accelerometer``: a simulated 3-axis wrist accelerometer at 50 Hz that strings together rest (gravity
plus sensor noise), walking (2 Hz steps), running (3 Hz, larger and sharper), rest, walking again and arm
waving (1.2 Hz, mostly one axis), 8-20 s each, with slow drifts of the wrist orientation.
"""

from __future__ import annotations

import numpy as np

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
