"""A scikit-learn estimator around ``seq2seq_jax.segment``, in the manner of aeon's and tsseg's segmenters.

>>> from seq2seq_jax import Seq2SeqSegmenter
>>> seg = Seq2SeqSegmenter(n_states=3, fps=30, hidden=32, iterations=400)   # doctest: +SKIP
>>> labels = seg.fit_predict(X)            # X: (n_timepoints, n_channels); one state label per time point
>>> seg.change_points_                     # the first time point of every segment after the first
>>> seg.predict(X_other)                   # a new recording with the same channels, with the fitted model
>>> Seq2SeqSegmenter(n_states=4, preset="mocap").fit_predict("86_01.amc")   # a file: .amc (86.asf beside it),
...                                                                       # .bvh, .csv, .npy   # doctest: +SKIP

The constructor only stores its keywords (``get_params``, ``set_params`` and ``sklearn.base.clone`` work);
``fit`` trains the model on the recording itself (unsupervised; ``y`` is ignored). Like aeon's
``BaseSegmenter``, ``axis`` names the time axis of X (0 here: rows are time points; 1: aeon's
(n_channels, n_timepoints)); a 1-D X is one channel. X may also be a file's path: a motion-capture file (.amc
with its .asf found beside it, .bvh; read by ``seq2seq_jax.data.motion``, at the file's own frame rate unless
``fps`` is set) or a table (.csv, .tsv, .npy; ``readers.read_table``). ``predict`` returns the dense labels (aeon's
``returns_dense = False``), ``change_points_`` the sparse change points.
"""

from __future__ import annotations

import os

import numpy as np
from sklearn.base import BaseEstimator

from seq2seq_jax import api


class Seq2SeqSegmenter(BaseEstimator):
    """Segments a multichannel time series into ``n_states`` recurring states (or "auto").

    Args:
      n_states: number of states k, or "auto" (chosen by silhouette).
      fps: time points per second (segment lengths, the change-point rate); None: a motion file's own rate,
        else 30.
      preset: the settings to start from (``seq2seq_jax.presets``: "generic", "mocap", ...).
      hidden, source, target, iterations, lr, batch, models: override the preset's model and training (``models``:
        an ensemble of that many models trained together, ``seq2seq_jax.Ensemble``).
      root: "upright" (motion capture: the root's position on the floor and heading dropped) or "keep" (the
        channels as given); None: the preset's (``seq2seq_jax.segment``'s ``root``).
      seg: a ``segmentation.SegmentConfig`` instead of the preset's segmentation.
      seed: initialisation, window sampling and clustering.
      axis: the time axis of X (0: (n_timepoints, n_channels); 1: (n_channels, n_timepoints)).
      workdir: keep the checkpoint there (default: not kept).

    Fitted attributes: ``labels_`` (the training recording's states), ``change_points_``, ``n_states_``,
    ``k_scores_`` (with "auto"), ``model_`` (a ``seq2seq_jax.Model`` or ``Ensemble``), ``n_channels_``, ``fps_``
    (the rate used).
    """

    _tags = {"returns_dense": False, "capability:multivariate": True, "fit_is_empty": False}

    def __init__(
        self,
        n_states=2,
        fps=None,
        preset="generic",
        hidden=None,
        source=None,
        target=None,
        iterations=None,
        lr=None,
        batch=None,
        models=None,
        root=None,
        seg=None,
        seed=0,
        axis=0,
        workdir=None,
    ):
        self.n_states = n_states
        self.fps = fps
        self.preset = preset
        self.hidden = hidden
        self.source = source
        self.target = target
        self.iterations = iterations
        self.lr = lr
        self.batch = batch
        self.models = models
        self.root = root
        self.seg = seg
        self.seed = seed
        self.axis = axis
        self.workdir = workdir

    def _frames(self, X) -> tuple[np.ndarray, float]:
        """(frames (T, C), fps) of an array or a file."""
        if self.axis not in (0, 1):
            raise ValueError(f"axis must be 0 (time points in rows) or 1 (time points in columns), got {self.axis!r}")
        fps = 30.0 if self.fps is None else self.fps
        if isinstance(X, (str, os.PathLike)):
            from seq2seq_jax.data import motion, readers

            if motion.is_motion_file(X):
                m = motion.read_motion(X, fps=self.fps)
                return m.frames, m.fps
            return readers.read_table(X)[0], fps
        x = np.asarray(X)
        if x.ndim == 1:
            return x[:, None], fps
        return (x.T if self.axis == 1 else x), fps

    def fit(self, X, y=None):
        """Trains the model on X and segments it; ``y`` is ignored (unsupervised)."""
        x, fps = self._frames(X)
        res = api.segment(
            x,
            self.n_states,
            fps=fps,
            preset=self.preset,
            hidden=self.hidden,
            source=self.source,
            target=self.target,
            iterations=self.iterations,
            lr=self.lr,
            batch=self.batch,
            models=self.models,
            root=self.root,
            seed=self.seed,
            workdir=self.workdir,
            seg=self.seg,
        )
        self.model_, self.labels_, self.n_states_, self.k_scores_ = res.model, res.labels, res.k, res.k_scores
        self.change_points_ = np.array([s["start"] for s in res.segments[1:]], np.int64)
        self.n_channels_, self.fps_ = x.shape[1], fps
        return self

    def predict(self, X) -> np.ndarray:
        """One state label per time point of X (same channels as in ``fit``), with the fitted model."""
        if not hasattr(self, "model_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("this Seq2SeqSegmenter is not fitted yet; call fit(X) first")
        x, fps = self._frames(X)
        res = api.segment(
            x,
            self.n_states_,
            fps=fps,
            restore=self.model_,
            seg=self.seg,
            seed=self.seed,
            preset=self.preset,
        )
        return res.labels

    def fit_predict(self, X, y=None) -> np.ndarray:
        return self.fit(X, y).labels_
