"""The data layer: sources (download, mirror, verification), readers, normalization, windows, datasets."""

from seq2seq_jax.data.normalize import NormStats
from seq2seq_jax.data.sources import DataError, data_root, fetch, mirror_root

__all__ = ["DataError", "fetch", "data_root", "mirror_root", "NormStats"]
