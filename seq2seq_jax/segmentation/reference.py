"""The reference's two protocols (shlizee/interpretseq2seq), reproduced for comparison.

- ``reference_cut_rule`` (case i): non-overlapping windows; a window whose MSE exceeds a threshold (1.0) is
  cut at the decoder step of largest error and windowing restarts from the cut; the decoder states are
  clustered by agglomerative clustering, cosine affinity, single linkage.
- ``reference_oracle`` (subject 86): windows taken *inside the ground-truth segments*, their decoder states
  clustered the same way. It uses the ground-truth boundaries; every result from it says so.
"""

from __future__ import annotations

import numpy as np

from seq2seq_jax import embed
from seq2seq_jax.config import ModelConfig
from seq2seq_jax.data import windows


def _single_linkage_cosine(x_NxH, k: int) -> np.ndarray:
    from sklearn.cluster import AgglomerativeClustering

    return AgglomerativeClustering(n_clusters=min(k, len(x_NxH)), metric="cosine", linkage="single").fit_predict(x_NxH)


def _fill(labels_T, covered_T):
    idx = np.flatnonzero(covered_T)
    return (
        labels_T[idx[np.clip(np.searchsorted(idx, np.arange(len(labels_T)), side="right") - 1, 0, len(idx) - 1)]]
        if len(idx)
        else labels_T
    )


def _cluster_and_fill(states_NxH, frames_N, n_frames: int, k: int) -> np.ndarray:
    """The reference's labelling: decoder states clustered (cosine, single linkage), each frame without a
    state taking the label of the previous labelled frame."""
    lab = np.zeros(n_frames, np.int64)
    covered = np.zeros(n_frames, bool)
    lab[frames_N] = _single_linkage_cosine(states_NxH, k)
    covered[frames_N] = True
    return _fill(lab, covered)


def reference_cut_rule(params, cfg: ModelConfig, z_TxD, k: int, threshold: float = 1.0):
    """The reference's case-(i) protocol: returns (labels_T, cuts).

    Windows advance by T frames (the reference: by S, the same in case i); a window whose MSE exceeds
    ``threshold`` is cut at the decoder step of
    largest mean absolute error, its states after the cut are dropped, and the next window starts at the
    cut. Frames without a decoder state (the first S, those after a cut and a short tail) take the label of
    the previous labelled frame (the reference inserts copies of neighbouring labels).
    """
    z = np.asarray(z_TxD, np.float32)
    S, T = cfg.source, cfg.target
    windows._check(z, S, T)
    states, frames, cuts, start = [], [], [], 0
    while start + S + T <= len(z):
        out = embed.run_windows(params, cfg, z[None, start : start + S + T], chunk=1)
        keep = np.arange(T)
        win_start = start
        if out["sq_err"][0].mean() > threshold:
            i = int(np.argmax(out["abs_err"][0]))
            keep = keep[:i]
            start = win_start + S + i
            cuts.append(start)
        else:
            start = win_start + T  # decoders tile the sequence (the reference advances by S; S = T in case i)
        states.append(out["states"][0][keep])
        frames.append(win_start + S + keep)
    return _cluster_and_fill(np.concatenate(states), np.concatenate(frames), len(z), k), cuts


def reference_oracle(params, cfg: ModelConfig, z_TxD, segments, k: int):
    """The reference's subject-86 protocol (USES THE GROUND-TRUTH BOUNDARIES): returns labels_T.

    Each ground-truth segment (start, end) is windowed separately with stride T, the decoder states of all
    windows are clustered (cosine, single linkage, k clusters), and frames without a state take the label of
    the previous labelled frame.
    """
    z = np.asarray(z_TxD, np.float32)
    all_states, all_frames = [], []
    for a, b in segments:
        if b - a < cfg.source + cfg.target:
            continue
        win, starts = windows.sliding_windows(z[a:b], cfg.source, cfg.target, cfg.target)
        st = embed.run_windows(params, cfg, win)["states"]
        all_states.append(st.reshape(-1, st.shape[-1]))
        all_frames.append((a + starts[:, None] + cfg.source + np.arange(cfg.target)[None]).reshape(-1))
    return _cluster_and_fill(np.concatenate(all_states), np.concatenate(all_frames), len(z), k)
