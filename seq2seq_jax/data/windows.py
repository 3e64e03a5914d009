"""Window builders: random training windows and deterministic sliding windows.

A window of ``source`` + ``target`` frames starting at t gives (the reference's layout):
- encoder input  frames t .. t+S-1
- decoder input  frames t+S-1 .. t+S+T-2 (only its first frame is used unless teacher forcing is on)
- target         frames t+S .. t+S+T-1
"""

from __future__ import annotations

import numpy as np

from seq2seq_jax.data.sources import DataError


def _check(z_TxD: np.ndarray, source: int, target: int, what: str = "sequence") -> None:
    if z_TxD.ndim != 2:
        raise DataError(f"{what} must be (frames, dims), got shape {z_TxD.shape}")
    need = source + target
    if len(z_TxD) < need:
        raise DataError(
            f"{what} has {len(z_TxD)} frames, fewer than one window of {source} + {target} = {need} frames; "
            "use a longer sequence or shorter --source_seq_len/--target_seq_len"
        )


def split(win_BxWxD: np.ndarray, source: int):
    """(encoder input, decoder input, target) from whole windows of S + T frames."""
    enc = win_BxWxD[:, :source]
    dec = win_BxWxD[:, source - 1 : -1]
    tgt = win_BxWxD[:, source:]
    return enc, dec, tgt


def random_starts(lengths, source: int, target: int, batch: int, rng: np.random.Generator):
    """(sequence index, start frame) of ``batch`` random windows; sequences picked uniformly (the reference)."""
    need = source + target
    ok = [i for i, n in enumerate(lengths) if n >= need]
    if not ok:
        raise DataError(f"no sequence has the {need} frames one window needs (lengths {list(lengths)})")
    seq = rng.choice(ok, size=batch)
    start = np.array([rng.integers(0, lengths[s] - need + 1) for s in seq])
    return seq, start


def random_windows(seqs, source: int, target: int, batch: int, rng: np.random.Generator) -> np.ndarray:
    """win_BxWxD: ``batch`` random windows of W = S + T frames from one sequence or a list of sequences."""
    if isinstance(seqs, np.ndarray):
        seqs = [seqs]
    for i, s in enumerate(seqs):
        if s.ndim != 2:
            raise DataError(f"sequence {i} must be (frames, dims), got shape {s.shape}")
    seq, start = random_starts([len(s) for s in seqs], source, target, batch, rng)
    W = source + target
    return np.stack([seqs[s][t : t + W] for s, t in zip(seq, start)]).astype(np.float32)


def sliding_starts(n_frames: int, source: int, target: int, stride: int) -> np.ndarray:
    """Start frames of every whole window at the given stride."""
    if stride < 1:
        raise DataError(f"stride must be >= 1, got {stride}")
    return np.arange(0, n_frames - (source + target) + 1, stride)


def sliding_windows(
    z_TxD: np.ndarray, source: int, target: int, stride: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(win_NxWxD, starts_N): every whole window at ``stride`` (default ``target``: decoder windows tile)."""
    _check(z_TxD, source, target)
    starts = sliding_starts(len(z_TxD), source, target, stride or target)
    W = source + target
    idx = starts[:, None] + np.arange(W)[None]
    return np.asarray(z_TxD, np.float32)[idx], starts
