"""The embedding: decoder states of a trained model, one per frame, collected over sliding windows.

A window starting at frame s encodes frames s .. s+S-1 and its decoder predicts frames s+S .. s+S+T-1;
the decoder state that produced the prediction of frame f is frame f's embedding. With the default stride
T the decoders tile the sequence; with a smaller stride a frame is predicted by several windows and its
state and error are averaged over them.

Frames that no decoder covers (the first S frames, and a tail shorter than a window step) are filled from
the nearest covered frame; ``covered`` marks which frames were really predicted. All windows run in
fixed-size chunks of one jitted batched call, so memory stays bounded and nothing recompiles across
sequences.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np

from seq2seq_jax import model
from seq2seq_jax.config import ModelConfig
from seq2seq_jax.data import windows


@dataclasses.dataclass(frozen=True)
class Embedding:
    """Per-frame outputs of ``collect``.

    Attributes:
      states: states_TxH, decoder state per frame (float32).
      error: error_T, squared prediction error per frame (mean over dimensions).
      covered: covered_T, bool, whether a decoder predicted the frame (else filled from the nearest).
      starts: starts_N, the window start frames.
      context: context_NxH, the encoder's last state of each window.
      window_error: window_error_NxT, squared error per decoder step of each window.
    """

    states: np.ndarray
    error: np.ndarray
    covered: np.ndarray
    starts: np.ndarray
    context: np.ndarray
    window_error: np.ndarray


@functools.partial(jax.jit, static_argnums=(1,))
def _run(params, cfg: ModelConfig, win_BxWxD):
    enc, dec, tgt = windows.split(win_BxWxD, cfg.source)
    h, _ = model.encode(params["cell"], enc, dtype=cfg.dtype)
    pred, states = model.decode(params, cfg, h, dec)
    diff = pred - tgt
    return {
        "states": states,
        "sq_err": jnp.mean(jnp.square(diff), -1),
        "abs_err": jnp.mean(jnp.abs(diff), -1),
        "context": h,
    }


def run_windows(params, cfg: ModelConfig, win_NxWxD, chunk: int = 256) -> dict:
    """All windows through the model in equal chunks of at most about ``chunk`` windows (the last one padded).

    Returns:
      dict of NumPy arrays: ``states`` (N, T, H) decoder states, ``sq_err`` and ``abs_err`` (N, T) squared and
      absolute prediction error per decoder step (mean over dimensions), ``context`` (N, H) the encoder's
      last state.
    """
    n = len(win_NxWxD)
    # Equal chunks, rounded up to a multiple of 16: little padding, few distinct shapes to compile.
    n_chunks = -(-n // max(1, chunk))
    chunk = min(-(-n // n_chunks), n)
    chunk = min(-(-chunk // 16) * 16, max(chunk, n)) if n >= 16 else chunk
    outs = []
    for a in range(0, n, chunk):
        w = np.asarray(win_NxWxD[a : a + chunk], np.float32)
        pad = chunk - len(w)
        if pad:
            w = np.concatenate([w, np.zeros((pad,) + w.shape[1:], w.dtype)])
        outs.append({k: np.asarray(v)[: chunk - pad] for k, v in _run(params, cfg, jnp.asarray(w)).items()})
    return {k: np.concatenate([o[k] for o in outs]) for k in outs[0]}


def fill_nearest(x_TxK, covered_T):
    """Rows of ``x`` where ``covered`` is False replaced by the nearest covered row (ties: the earlier one)."""
    idx = np.flatnonzero(covered_T)
    pos = np.searchsorted(idx, np.arange(len(covered_T)))
    left = idx[np.clip(pos - 1, 0, len(idx) - 1)]
    right = idx[np.clip(pos, 0, len(idx) - 1)]
    t = np.arange(len(covered_T))
    nearest = np.where(np.abs(t - left) <= np.abs(right - t), left, right)
    return x_TxK[nearest]


def collect(params, cfg: ModelConfig, z_TxD: np.ndarray, stride: int | None = None, chunk: int = 256) -> Embedding:
    """Per-frame decoder states and prediction errors of a normalized sequence; see the module docstring."""
    win, starts = windows.sliding_windows(z_TxD, cfg.source, cfg.target, stride)
    out = run_windows(params, cfg, win, chunk)
    states, err, ctx = out["states"], out["sq_err"], out["context"]
    T_all, H = len(z_TxD), states.shape[-1]
    frames = (starts[:, None] + cfg.source + np.arange(cfg.target)[None]).reshape(-1)
    count = np.bincount(frames, minlength=T_all)
    e = np.bincount(frames, weights=err.reshape(-1), minlength=T_all)
    covered = count > 0
    c = np.maximum(count, 1)
    flat = states.reshape(-1, H)
    st = np.zeros((T_all, H), np.float32)
    if count.max() <= 1:  # windows tile the sequence (stride >= target): each frame has at most one state
        st[frames] = flat
    else:  # average overlapping windows: sums over runs of equal frames, in order of occurrence
        order = np.argsort(frames, kind="stable")
        uniq, first = np.unique(frames[order], return_index=True)
        sums = np.add.reduceat(flat[order].astype(np.float64), first, axis=0)
        st[uniq] = (sums / count[uniq][:, None]).astype(np.float32)
    er = (e / c).astype(np.float32)
    st, er = fill_nearest(st, covered), fill_nearest(er[:, None], covered)[:, 0]
    return Embedding(st, er, covered, starts, ctx, err)


def pca(x_NxH: np.ndarray, n_components=3, whiten: bool = False):
    """(projection_NxC, fitted sklearn PCA); ``n_components`` may be a variance fraction like 0.95."""
    from sklearn.decomposition import PCA

    p = PCA(n_components=n_components, whiten=whiten, random_state=0)
    return p.fit_transform(np.asarray(x_NxH, np.float64)).astype(np.float32), p


def combine(embeddings: list[Embedding], pca_var: float = 0.95) -> Embedding:
    """One embedding from several models' embeddings of the same sequence (an ensemble, ``api.Ensemble``): each
    model's states reduced by PCA (keeping ``pca_var`` of their variance, fitted on the covered frames) and scaled
    to unit RMS norm, side by side, so that every model weighs alike whatever its size or spread; the errors are
    the models' mean. Models trained with different seeds embed the sequence in unrelated coordinates, so
    their states cannot be averaged; side by side, a change that only one model sees weighs a third, and the
    segmentation follows what they agree on (docs/results/consensus.md). One embedding is returned as it is."""
    embs = list(embeddings)
    if not embs:
        raise ValueError("combine needs at least one embedding")
    if len(embs) == 1:
        return embs[0]
    first = embs[0]
    for i, e in enumerate(embs[1:], 1):
        if e.states.shape[0] != first.states.shape[0] or not np.array_equal(e.covered, first.covered):
            raise ValueError(
                f"embedding {i} covers other frames than embedding 0 ({e.states.shape[0]} vs {first.states.shape[0]}"
                " frames): an ensemble's models must share their window (source, target) and the sequence"
            )
    cov = first.covered
    blocks = []
    for e in embs:
        f = pca(e.states[cov], pca_var)[1].transform(np.asarray(e.states, np.float64))
        f -= f[cov].mean(0)
        blocks.append(f / (np.sqrt(np.mean(np.sum(f[cov] ** 2, 1))) + 1e-12))
    return Embedding(
        np.concatenate(blocks, 1).astype(np.float32),
        np.mean([e.error for e in embs], 0).astype(np.float32),
        cov,
        first.starts,
        np.concatenate([e.context for e in embs], 1),
        np.mean([e.window_error for e in embs], 0),
    )
