"""Test set-up: 8 fake CPU devices (for the sharding tests), strict rank promotion, a compilation cache, and the
data mirror.

The data tests go through the real fetch-and-verify code: files are copied from the mirror
(``$SEQ2SEQ_JAX_MIRROR``, else ``../shared/data`` beside the repository when it exists) into a fresh data
root for the session. With no mirror, they are downloaded once into the repository's ``data/`` cache.
"""

import os
from pathlib import Path

import jax

jax.config.update("jax_num_cpu_devices", 8)
jax.config.update("jax_numpy_rank_promotion", "raise")

import pytest  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def _mirror():
    m = os.environ.get("SEQ2SEQ_JAX_MIRROR")
    if m:
        return Path(m)
    shared = REPO.parent / "shared" / "data"
    return shared if shared.is_dir() else None


@pytest.fixture(scope="session", autouse=True)
def xla_cache(tmp_path_factory):
    """A folder of compiled XLA programs for the run (JAX's persistent compilation cache): the tests train and
    segment many tiny models of the same shapes, and each program compiles once. One folder per xdist worker (JAX
    writes the entries without locking), in pytest's temporary root (removed after a few runs), so nothing leaks
    from one run into the next."""
    folder = tmp_path_factory.getbasetemp() / "xla_cache"
    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return folder


@pytest.fixture(scope="session")
def mirror():
    return _mirror()


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory, mirror):
    """A data root for the session: fresh (files come through the mirror) or the repository cache."""
    if mirror is None:
        return REPO / "data"
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="session")
def data(data_dir, mirror):
    """Keyword arguments that point the loaders at the session's data root and mirror."""
    return {"data_dir": data_dir, "mirror": mirror}
