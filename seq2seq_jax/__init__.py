"""seq2seq_jax: unsupervised clustering and temporal segmentation of spatiotemporal sequences through the
embedding of a GRU sequence-to-sequence model (Su & Shlizerman, Frontiers in AI 2020), in JAX.

``seq2seq_jax.segment(x_TxC, k=...)`` segments any multichannel time series (see ``seq2seq_jax.api``).
"""

__version__ = "0.1.0"

from seq2seq_jax.api import Ensemble, Model, SegmentResult, load, segment  # noqa: E402
from seq2seq_jax.estimator import Seq2SeqSegmenter  # noqa: E402

__all__ = ["segment", "SegmentResult", "Model", "Ensemble", "load", "Seq2SeqSegmenter"]
