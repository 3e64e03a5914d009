"""Segment your own data: one call for any multichannel time series.

>>> import numpy as np, seq2seq_jax
>>> t = np.arange(3000)                       # a square wave between two stretches of a sine, 2 channels
>>> x = np.where((t // 1000 == 1)[:, None], np.sign(np.sin(t / 5.0))[:, None], np.sin(t / 3.0)[:, None]) * [1, 0.5]
>>> res = seq2seq_jax.segment(x, k=2, fps=30, hidden=32, iterations=300)
>>> [(round(s["start"], -2), s["label"]) for s in res.segments]   # starts to the nearest 100 frames
[(0, 0), (1000, 1), (2000, 0)]

The model is trained on the sequence itself (unsupervised), its decoder states embed every frame, and the
embedding is segmented with change points and clustered into k classes (see ``segmentation``).
``result.model`` is reusable on new data with the same channels.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from pathlib import Path

import numpy as np

from seq2seq_jax import embed, plots, presets, segmentation, train
from seq2seq_jax.data.normalize import NormStats
from seq2seq_jax.data.sources import DataError
from seq2seq_jax.presets import Preset

AUTO_K_MAX = 10


@dataclasses.dataclass
class Model:
    """A trained model with its normalization statistics (all a checkpoint holds)."""

    params: dict
    meta: object

    @classmethod
    def load(cls, workdir, step: int | None = None) -> Model:
        params, meta, _ = train.load(workdir, step)
        return cls(params, meta)

    @property
    def channels(self) -> int:
        return self.meta.norm.dim_in

    def embed(self, x_TxC) -> np.ndarray:
        """Per-frame decoder states (T, H) of a new sequence with the same channels."""
        return self.embedding(x_TxC).states

    def embedding(self, x_TxC) -> embed.Embedding:
        """The full ``embed.Embedding`` (states, errors, which frames a decoder covered) of a new sequence."""
        x = _check_input(x_TxC, self.meta.model.source + self.meta.model.target)
        if x.shape[1] != self.channels:
            raise DataError(f"the model was trained on {self.channels} channels, this sequence has {x.shape[1]}")
        return embed.collect(self.params, self.meta.model, self.meta.norm.apply(x))


@dataclasses.dataclass
class SegmentResult:
    """What ``segment`` returns.

    Attributes:
      labels: labels_T, class per frame (0 .. k-1).
      segments: one dict per segment: start, end (exclusive), label, frames, seconds.
      embedding: embedding_TxH, the per-frame decoder states.
      model: the trained ``Model`` (reusable on new data of the same channels).
      k: the number of classes used; ``k_scores`` the silhouette of each k tried when k was "auto".
      fps: frames per second used for durations.
      seconds: time spent training, embedding and segmenting.
      workdir: where the checkpoint is.
      config: the settings used (a ``presets.Preset``; with ``restore``, its model and training are the preset's,
        not the restored model's, which are in ``model.meta``).
    """

    labels: np.ndarray
    segments: list[dict]
    embedding: np.ndarray
    model: Model
    k: int
    k_scores: dict | None
    fps: float
    seconds: dict
    workdir: str
    config: Preset | None = None

    def plot(self, out_dir, name: str = "segmentation", truth=None) -> list[Path]:
        """Writes the segmentation bars (above ``truth`` when given) and the 3-D PCA embedding as PNG files."""
        out = Path(out_dir)
        step = max(1, len(self.labels) // 5000)
        p3, _ = embed.pca(self.embedding[::step], 3)
        return [
            plots.segmentation_bars(out / f"{name}.png", truth, self.labels, self.fps, f"{name}: k = {self.k}"),
            plots.embedding_3d(
                out / f"{name}_pca.png",
                p3,
                self.labels[::step] if truth is None else np.asarray(truth)[::step],
                self.labels[::step],
                "decoder states, PCA",
            ),
        ]


def _check_input(x, window: int) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise DataError(f"expected a (frames, channels) array, got shape {x.shape}")
    if len(x) == 0:
        raise DataError("the sequence is empty")
    if np.isnan(x).any():
        rows = np.flatnonzero(np.isnan(x).any(1))
        raise DataError(
            f"{len(rows)} frames contain NaN, frames {', '.join(map(str, rows[:10] + 1))}"
            f"{' ...' if len(rows) > 10 else ''} (1-based); fill or cut the gaps first"
        )
    if not np.isfinite(x).all():
        raise DataError("the sequence contains inf")
    if len(x) < window:
        raise DataError(
            f"the sequence has {len(x)} frames, fewer than one window ({window} frames); "
            "use a longer sequence or smaller source/target lengths"
        )
    return x.astype(np.float32)


def segments_table(labels, fps: float) -> list[dict]:
    from seq2seq_jax import metrics

    b = np.concatenate([[0], metrics.boundaries(labels), [len(labels)]])
    return [
        {"start": int(s), "end": int(e), "label": int(labels[s]), "frames": int(e - s), "seconds": float((e - s) / fps)}
        for s, e in zip(b[:-1], b[1:])
    ]


def choose_k(x_TxH, fps: float, cfg: segmentation.SegmentConfig, k_max: int = AUTO_K_MAX, frames_TxD=None):
    """(k, scores): the k in 2..k_max whose segmentation has the highest silhouette (of frames, on the
    segmentation's features, labels from our segmentation); 1 when change-point detection finds no change."""
    from sklearn.metrics import silhouette_score

    scores = {}
    feats = segmentation.features(x_TxH, cfg, frames_TxD)
    step = max(1, len(feats) // 3000)
    for k in range(2, k_max + 1):
        lab = segmentation.segment_embedding(x_TxH, k, fps, cfg, frames_TxD=frames_TxD)
        n = len(np.unique(lab))
        if n < k:
            break  # fewer segments than k: larger k changes nothing
        scores[k] = float(silhouette_score(feats[::step], lab[::step]))
    if not scores:
        return 1, scores
    return max(scores, key=scores.get), scores


def segment(
    x_TxC,
    k,
    fps: float = 30.0,
    *,
    preset: str | Preset = "generic",
    hidden: int | None = None,
    source: int | None = None,
    target: int | None = None,
    iterations: int | None = None,
    lr: float | None = None,
    batch: int | None = None,
    seed: int | None = None,
    workdir=None,
    restore=None,
    seg: segmentation.SegmentConfig | None = None,
    progress: bool = False,
) -> SegmentResult:
    """Trains a seq2seq model on ``x_TxC``, embeds every frame and segments it into ``k`` classes.

    Args:
      x_TxC: frames x channels (any numeric array; a 1-D array is one channel).
      k: number of classes, or "auto" to choose it by silhouette (``choose_k``).
      fps: frames per second (durations, minimum segment length of ``seg.min_seg_s``, change-point rate).
      preset: the settings to start from (``seq2seq_jax.presets``): "generic" (default, any signal), "mocap"
        (motion capture: the settings validated on subject 86), "concat_cmu", "subject86" or "paper".
      hidden, source, target, iterations, lr, batch, seed: override the preset's model and training (ignored
        with ``restore``: the restored model's own config is used).
      workdir: where the checkpoint goes (a temporary folder by default); training resumes there.
      restore: a workdir (or ``Model``) to reuse instead of training.
      seg: the segmentation settings (default: the preset's).

    Returns:
      SegmentResult.

    Raises:
      DataError: empty or non-2-D input, NaN (with the frame numbers), fewer frames than one window, a
        restored model with other channels, k larger than the number of windows.
      ValueError: an unknown preset or a bad setting.
    """
    cfg = presets.get(preset).replace(
        model={"hidden": hidden, "source": source, "target": target},
        train={"iterations": iterations, "lr": lr, "batch": batch, "seed": seed},
    )
    seg = cfg.segment if seg is None else seg
    source, target, seed = cfg.model.source, cfg.model.target, cfg.train.seed
    t0 = time.perf_counter()
    model = None
    if restore is not None:
        model = restore if isinstance(restore, Model) else Model.load(restore)
        source, target = model.meta.model.source, model.meta.model.target
    x = _check_input(x_TxC, source + target)
    n_windows = len(x) // target
    if k != "auto":
        k = int(k)
        if k < 1:
            raise DataError(f"k must be >= 1 or 'auto', got {k}")
        if k > n_windows:
            raise DataError(f"k = {k} is larger than the number of windows ({n_windows}); use a smaller k")
    if model is not None:
        workdir = workdir or (restore if not isinstance(restore, Model) else "(restored)")
    else:
        workdir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="seq2seq_jax_"))
        norm = NormStats.fit(x)
        mcfg = dataclasses.replace(cfg.model, dim=norm.dim)
        n = cfg.train.iterations
        tcfg = dataclasses.replace(cfg.train, save_every=max(n, 1), keep=1, log_every=max(1, min(100, n // 10)))
        r = train.train(
            mcfg,
            tcfg,
            norm.apply(x),
            norm,
            workdir,
            {"user_sequence": {"frames": len(x), "channels": x.shape[1]}},
            progress=progress,
        )
        model = Model(r.state["params"], r.meta)
    t1 = time.perf_counter()
    emb = model.embedding(x)
    t2 = time.perf_counter()
    k_scores = None
    z = model.meta.norm.apply(x)
    if k == "auto":
        k, k_scores = choose_k(emb.states[emb.covered], fps, seg, frames_TxD=z[emb.covered])
    labels = segmentation.segment_states(emb, k, fps, seg, seed=seed, frames_TxD=z)
    labels = _first_appearance(labels)
    t3 = time.perf_counter()
    return SegmentResult(
        labels,
        segments_table(labels, fps),
        emb.states,
        model,
        k,
        k_scores,
        fps,
        {"train": t1 - t0, "embed": t2 - t1, "segment": t3 - t2},
        str(workdir),
        dataclasses.replace(cfg, segment=seg),
    )


def _first_appearance(labels):
    from seq2seq_jax import metrics

    return metrics.order_labels(labels).astype(np.int32)
