"""seq2seq_jax: unsupervised clustering and temporal segmentation of spatiotemporal sequences through the
embedding of a GRU sequence-to-sequence model (Su & Shlizerman, Frontiers in AI 2020), in JAX."""

__version__ = "0.1.0"
