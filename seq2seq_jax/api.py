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
import hashlib
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from seq2seq_jax import embed, plots, presets, segmentation, train
from seq2seq_jax.data import readers
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
class Ensemble:
    """Models trained together on the same data with different seeds (``TrainConfig.models``). ``segment``
    segments each model's embedding and takes their consensus (``segmentation.segment_ensemble``); ``embed`` and
    ``embedding`` join the models' embeddings (``embed.combine``: for plots and choosing k). Same interface as
    ``Model``; ``meta`` is the first model's (all share the normalization and config)."""

    models: list[Model]

    @property
    def meta(self):
        return self.models[0].meta

    @property
    def channels(self) -> int:
        return self.models[0].channels

    def embed(self, x_TxC) -> np.ndarray:
        """Per-frame joined embedding (T, sum of the models' PCA components) of a new sequence."""
        return self.embedding(x_TxC).states

    def embedding(self, x_TxC) -> embed.Embedding:
        return embed.combine(self.embeddings(x_TxC))

    def embeddings(self, x_TxC) -> list[embed.Embedding]:
        """Each model's own ``embed.Embedding`` of a new sequence."""
        return [m.embedding(x_TxC) for m in self.models]


def load(workdir, step: int | None = None) -> Model | Ensemble:
    """The model saved in ``workdir``, or the ensemble saved there (model_0, model_1, ...: ``fitting.member_dirs``)."""
    from seq2seq_jax import fitting

    dirs = fitting.saved_members(workdir)
    return Model.load(dirs[0], step) if len(dirs) == 1 else Ensemble([Model.load(d, step) for d in dirs])


@dataclasses.dataclass
class SegmentResult:
    """What ``segment`` returns.

    Attributes:
      labels: labels_T, class per frame (0 .. k-1).
      segments: one dict per segment: start, end (exclusive), label, frames, seconds.
      embedding: embedding_TxH, the per-frame decoder states (an ensemble's joined: ``embed.combine``).
      model: the trained ``Model`` or ``Ensemble`` (reusable on new data of the same channels).
      k: the number of classes used; ``k_scores`` the silhouette of each k tried when k was "auto".
      fps: frames per second used for durations.
      seconds: time spent training, embedding and segmenting.
      workdir: where the checkpoint is (None: it was not kept, pass ``workdir=`` to keep it).
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
    workdir: str | None
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
    """The sequence as float32 (frames, channels); a clear ``DataError`` for anything else."""
    if isinstance(x, (str, bytes)):
        raise DataError(
            f"expected a (frames, channels) array of numbers, got a string {str(x)[:40]!r}; read the file "
            "first (seq2seq_jax.data.readers.read_table) or use the seq2seq-jax command"
        )
    try:
        x = np.asarray(x, dtype=np.float64)
    except (ValueError, TypeError) as err:
        raise DataError(
            f"expected a (frames, channels) array of numbers: {err} (rows of different lengths, or "
            "cells that are not numbers?)"
        ) from None
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
    big = readers.not_float32(x)
    if big.any():
        r, c = np.argwhere(big)[0]
        raise DataError(
            f"frame {r + 1} (1-based), channel {c}: the value {float(x[r, c])!r} is infinite or too large for "
            "32-bit floats; fix it or rescale the channel"
        )
    if len(x) < window:
        raise DataError(
            f"the sequence has {len(x)} frames, fewer than one window ({window} frames); "
            "use a longer sequence or smaller source/target lengths"
        )
    return x.astype(np.float32)


def check_k(k):
    """``k`` as an int >= 1, or "auto"; a ``ValueError`` naming the value otherwise (2.7, True, None, "3")."""
    if isinstance(k, str) and k == "auto":
        return k
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)):
        raise ValueError(f"k must be a whole number >= 1 or 'auto', got {k!r} ({type(k).__name__})")
    if k < 1:
        raise ValueError(f"k must be >= 1 or 'auto', got {k}")
    return int(k)


def check_fps(fps) -> float:
    if isinstance(fps, (bool, np.bool_)) or not isinstance(fps, (int, float, np.integer, np.floating)):
        raise ValueError(f"fps must be a number of frames per second > 0, got {fps!r}")
    if not np.isfinite(fps) or fps <= 0:
        raise ValueError(f"fps must be > 0 frames per second, got {fps}")
    return float(fps)


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux ``MemAvailable``); None where unknown."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def check_memory(n_frames: int, hidden: int, channels: int) -> None:
    """Refuses, before any training, a recording whose embedding would not fit in the available memory.

    Every other stage stays flat in the length (training samples windows, the change-point search runs on at
    most ``SegmentConfig.max_cpd_samples`` samples); the embedding holds ``hidden`` float32 states per frame,
    with the copies that averaging and segmentation make: about 16 bytes x frames x (hidden + channels).
    """
    need = 16 * n_frames * (hidden + channels)
    free = available_memory()
    if free is not None and need > free:
        raise DataError(
            f"{n_frames:,} frames need about {need / 2**30:.1f} GiB for the embedding ({hidden} decoder states per "
            f"frame, float32, and the copies segmentation makes), but {free / 2**30:.1f} GiB are available; segment "
            "the recording in parts (the later parts with restore= the first part's model), or use a smaller model "
            "(hidden=)"
        )


def fingerprint(x_TxC: np.ndarray) -> dict:
    """What a model trained on this sequence is trained on: its shape and a SHA-256 of its float32 values (the
    preprocessing, a z-score fitted to them, follows from the values)."""
    x = np.ascontiguousarray(x_TxC, dtype=np.float32)
    digest = hashlib.sha256(x.tobytes()).hexdigest()[:16]
    return {
        "user_sequence": {
            "frames": int(x.shape[0]),
            "channels": int(x.shape[1]),
            "sha256": digest,
            "preprocessing": "z-score per channel, channels with std < 1e-4 dropped",
        }
    }


def segments_table(labels, fps: float) -> list[dict]:
    from seq2seq_jax import metrics

    b = np.concatenate([[0], metrics.boundaries(labels), [len(labels)]])
    return [
        {"start": int(s), "end": int(e), "label": int(labels[s]), "frames": int(e - s), "seconds": float((e - s) / fps)}
        for s, e in zip(b[:-1], b[1:])
    ]


AUTO_K_MARGIN = 0.015  # the best silhouette must beat that of stationary surrogates of the features by this much
AUTO_K_SURROGATES = 3


def _phase_surrogate(f_NxC, seed: int) -> np.ndarray:
    """A stationary surrogate of ``f_NxC``: random Fourier phases, the same for every column (Theiler 1992)."""
    mean = f_NxC.mean(0)
    spec = np.fft.rfft(f_NxC - mean, axis=0)
    phase = np.random.default_rng(seed).uniform(0, 2 * np.pi, len(spec))
    phase[0] = 0.0
    return np.fft.irfft(spec * np.exp(1j * phase)[:, None], n=len(f_NxC), axis=0) + mean


def choose_k(
    x_TxH, fps: float, cfg: segmentation.SegmentConfig, k_max: int = AUTO_K_MAX, frames_TxD=None, progress: bool = False
):
    """(k, scores): the k in 2..k_max whose segmentation has the highest silhouette (of frames, on the
    segmentation's features, labels from our segmentation); 1 when change-point detection finds no change.
    The same is computed at the chosen k on ``AUTO_K_SURROGATES`` stationary surrogates of the features (their
    Fourier phases randomized, the same for every feature: the autocorrelation and cross-spectra are kept, any
    change of regime is gone); the highest is ``scores["surrogate"]``. When the best k does not beat it by
    ``AUTO_K_MARGIN``, no k is convincing and a warning says so (on pure noise they are level)."""
    from sklearn.metrics import silhouette_score
    from tqdm.auto import tqdm

    scores = {}
    feats = segmentation.features(x_TxH, cfg, frames_TxD)
    step = max(1, len(feats) // 3000)
    for k in tqdm(range(2, k_max + 1), desc="choosing k", unit="k", disable=not progress):
        lab = segmentation.segment_embedding(x_TxH, k, fps, cfg, frames_TxD=frames_TxD)
        n = len(np.unique(lab))
        if n < k:
            break  # fewer segments than k: larger k changes nothing
        scores[k] = float(silhouette_score(feats[::step], lab[::step]))
    if not scores:
        return 1, scores
    best = max(scores, key=scores.get)
    flat = dataclasses.replace(cfg, frames_weight=0.0, pca_var=0.9999)  # the surrogates are features already
    null = -1.0
    for seed in range(AUTO_K_SURROGATES):
        sur = _phase_surrogate(feats, seed)
        lab = segmentation.segment_embedding(sur, best, fps, flat)
        if len(np.unique(lab)) > 1:
            null = max(null, float(silhouette_score(sur[::step], lab[::step])))
    if scores[best] < null + AUTO_K_MARGIN:
        warnings.warn(
            f"k = 'auto': no k is convincing: the best silhouette, {scores[best]:.3f} at k = {best}, does not beat "
            f"stationary surrogates of the same features ({null:.3f}) by {AUTO_K_MARGIN}; the recording may hold "
            "one activity, or noise; give k if you know it",
            stacklevel=3,
        )
    scores = {**scores, "surrogate": null}
    return best, scores


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
    models: int | None = None,
    root: str | None = None,
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
      hidden, source, target, iterations, lr, batch, seed, models: override the preset's model and training
        (ignored with ``restore``: the restored model's own config is used); ``models`` > 1 trains an ensemble
        of that many models together (seeds seed * models ..), each segmented, then their consensus is taken
        (``segmentation.segment_ensemble``).
      root: override the preset's ``ModelConfig.root``: "upright" (motion capture in the layout of
        ``data.motion``: channels 0-2 the root position, 3-5 its exponential map, Y up) replaces the root's six
        channels by its height and tilt, so that where the body stands and which way it faces do not count;
        "keep" uses the channels as given. Ignored with ``restore`` (the model's own is used).
      workdir: where the checkpoint goes (an ensemble's: model_0, model_1, ... in it); training resumes there, and
        a folder trained on other data is refused (the data's fingerprint is stored). Default: a temporary
        folder, removed before returning.
      restore: a workdir (or ``Model`` or ``Ensemble``) to reuse instead of training.
      seg: the segmentation settings (default: the preset's).

    Returns:
      SegmentResult.

    Raises:
      DataError: empty or non-2-D input, NaN (with the frame numbers), fewer frames than one window, a
        restored model with other channels, k larger than the number of windows.
      ValueError: an unknown preset or a bad setting (k not a whole number >= 1 or "auto", fps <= 0,
        iterations < 1, batch < 1, ...).
      CheckpointError: ``workdir`` holds a model trained on other data, or an unreadable checkpoint.
      TrainingInterrupted: training was stopped by SIGINT/SIGTERM (after saving into ``workdir``).
    """
    cfg = presets.get(preset).replace(
        model={"hidden": hidden, "source": source, "target": target, "root": root},
        train={"iterations": iterations, "lr": lr, "batch": batch, "seed": seed, "models": models},
    )
    seg = cfg.segment if seg is None else seg
    source, target, seed = cfg.model.source, cfg.model.target, cfg.train.seed
    k, fps = check_k(k), check_fps(fps)
    t0 = time.perf_counter()
    model = None
    if restore is not None:
        model = restore if isinstance(restore, (Model, Ensemble)) else load(restore)
        source, target = model.meta.model.source, model.meta.model.target
    elif cfg.train.iterations < 1:
        raise ValueError(f"iterations must be >= 1 to train a model, got {cfg.train.iterations}")
    x = _check_input(x_TxC, source + target)
    n_models = len(model.models) if isinstance(model, Ensemble) else 1 if model is not None else cfg.train.models
    hidden = model.meta.model.hidden if model is not None else cfg.model.hidden
    check_memory(len(x), hidden * n_models, x.shape[1])
    n_windows = len(x) // target
    room = segmentation.max_segments(len(x) - source, fps, seg)
    if k != "auto" and k > min(n_windows, room):
        raise DataError(
            f"k = {k} classes need at least {k} segments, but {len(x)} frames at {fps:g} fps leave room for "
            f"{min(n_windows, room)} (segments of at least {seg.min_seg_s:g} s, windows of {target} frames); "
            "use a smaller k, shorter segments (seg's min_seg_s; --min_seg_s on the command line), or check fps"
        )
    tmp = None
    if model is None:
        if workdir is None:  # a checkpoint nobody asked to keep: trained in a folder removed before returning
            tmp = tempfile.TemporaryDirectory(prefix="seq2seq_jax_")
        norm = NormStats.fit(x, root=cfg.model.root)
        mcfg = dataclasses.replace(cfg.model, dim=norm.dim)
        n = cfg.train.iterations
        tcfg = dataclasses.replace(cfg.train, save_every=max(n, 1), keep=1, log_every=max(1, min(100, n // 10)))
        from seq2seq_jax import fitting, multi

        zx, info = norm.apply(x), fingerprint(x)
        try:
            if n_models == 1:
                rs = [train.train(mcfg, tcfg, zx, norm, workdir or tmp.name, info, progress=progress)]
            else:
                dirs = fitting.member_dirs(workdir or tmp.name, n_models)
                seeds = fitting.member_seeds(tcfg)
                rs = multi.train_many(
                    mcfg,
                    tcfg,
                    [zx] * n_models,
                    [norm] * n_models,
                    dirs,
                    [info] * n_models,
                    progress=progress,
                    seeds=seeds,
                )
        finally:
            if tmp is not None:
                tmp.cleanup()
        for r in rs:
            if r.interrupted:
                where = "nothing was kept (no workdir)" if tmp else f"step {r.step} is saved in {workdir}"
                raise train.TrainingInterrupted(
                    f"training stopped by signal {r.signum} at step {r.step}: {where}; run it again to resume",
                    r.signum,
                )
        members = [Model(r.state["params"], r.meta) for r in rs]
        model = members[0] if n_models == 1 else Ensemble(members)
    elif workdir is None and not isinstance(restore, (Model, Ensemble)):
        workdir = restore
    from tqdm.auto import tqdm

    t1 = time.perf_counter()
    stages = tqdm(total=2, desc=f"embedding {len(x):,} frames", unit="stage", disable=not progress)
    embs = model.embeddings(x) if isinstance(model, Ensemble) else [model.embedding(x)]
    emb = embed.combine(embs)
    stages.update()
    t2 = time.perf_counter()
    k_scores = None
    z = model.meta.norm.apply(x)
    if k == "auto":
        k_max = min(AUTO_K_MAX, max(1, room), n_windows)
        k, k_scores = choose_k(emb.states[emb.covered], fps, seg, k_max, frames_TxD=z[emb.covered], progress=progress)
    stages.set_description(f"segmenting into k = {k}")
    labels = segmentation.segment_ensemble(embs, k, fps, seg, seed=seed, frames_TxD=z)
    stages.update()
    stages.close()
    labels = _first_appearance(labels)
    found = len(np.unique(labels))
    if found < k:
        warnings.warn(
            f"only {found} classes were formed for k = {k}: the change points left {found} segments", stacklevel=2
        )
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
        None if workdir is None else str(workdir),
        dataclasses.replace(cfg, segment=seg),
    )


def _first_appearance(labels):
    from seq2seq_jax import metrics

    return metrics.order_labels(labels).astype(np.int32)
