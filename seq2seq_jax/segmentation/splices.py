"""Splices: frames where separate recordings were joined (most channels jump at once)."""

from __future__ import annotations

import numpy as np

from seq2seq_jax.segmentation.config import SegmentConfig


def splices(frames_TxD, fps: float, share: float = 0.6, factor: float = 10.0, min_gap: int | None = None) -> np.ndarray:
    """Frames that start a new recording: where the change from the previous frame exceeds ``factor`` times the
    channel's typical change (its median over about 1 s) in at least ``share`` of the channels.

    A joint of separate recordings moves every channel at once; a glitch inside a recording (a marker swap,
    an exponential-map angle wrap) moves a few, and the catch-up after a few dropped frames moves many channels
    but by a few typical changes only. Candidates closer than ``min_gap`` frames (default 1 s) to a
    stronger one, or to either end, are dropped. Returns the frame indices, ascending.
    """
    z = np.asarray(frames_TxD, np.float64)
    if z.ndim != 2:
        raise ValueError(f"frames must be (frames, channels), got shape {z.shape}")
    min_gap = int(round(fps)) if min_gap is None else int(min_gap)
    if len(z) < 3 or share <= 0:
        return np.zeros(0, np.int64)
    from scipy.ndimage import median_filter

    dz = np.abs(np.diff(z, axis=0))
    typical = median_filter(dz, size=(max(3, int(round(fps))), 1), mode="nearest")
    frac = np.mean(dz > factor * (typical + 1e-3), axis=1)
    cand = np.flatnonzero(frac >= share)
    kept: list[int] = []
    for i in cand[np.argsort(-frac[cand], kind="stable")]:
        t = int(i) + 1
        if min(t, len(z) - t) >= min_gap and all(abs(t - u) >= min_gap for u in kept):
            kept.append(t)
    return np.array(sorted(kept), np.int64)


def config_splices(frames_TxD, fps: float, cfg: SegmentConfig) -> np.ndarray:
    """The splices ``segment_embedding`` cuts at under ``cfg`` (at least one shortest segment apart)."""
    return splices(frames_TxD, fps, cfg.splice_share, min_gap=int(round(cfg.min_seg_s * fps)))


def states_splices(emb, frames_TxD, fps: float, cfg: SegmentConfig = SegmentConfig()) -> np.ndarray:
    """The splices ``segment_states`` cuts at, as frames of the whole sequence (searched among the predicted
    frames, as ``segment_states`` does)."""
    cov = np.asarray(emb.covered)
    return np.flatnonzero(cov)[config_splices(np.asarray(frames_TxD)[cov], fps, cfg)]
