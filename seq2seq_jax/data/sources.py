"""Where data lives: the data root, the manifest of upstream files, download or mirror copy, verification.

Every file the project reads is listed in ``manifest.tsv`` (shipped inside the package) with its git blob
id and the public GitHub repository and path it comes from. ``fetch`` returns a verified local copy:

1. a file already in the data root is verified (once per process) and returned;
2. otherwise it is copied from a local mirror folder, when one is set (``SEQ2SEQ_JAX_MIRROR`` or
   ``mirror=``), or downloaded from the upstream repository;
3. the bytes go to a temporary file beside the target and are renamed into place only once their git blob id
   matches the manifest, so a bad or partial download never reaches a reader.

The data root is decided in one place, ``data_root``: an explicit argument (the scripts' ``--data_dir``
flag), else the environment variable ``SEQ2SEQ_JAX_DATA``, else ``data/`` in the repository.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

ENV_DATA = "SEQ2SEQ_JAX_DATA"
ENV_MIRROR = "SEQ2SEQ_JAX_MIRROR"
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA_DIR = REPO_ROOT / "data"
MANIFEST_PATH = Path(__file__).with_name("manifest.tsv")
BRANCH = "master"
URL_TEMPLATE = "https://raw.githubusercontent.com/{repo}/{branch}/{path}"


class DataError(RuntimeError):
    """A data file is missing, corrupt or malformed; the message names the file and the fix."""


@dataclasses.dataclass(frozen=True)
class ManifestEntry:
    path: str  # path below the data root, e.g. "cmu_mocap/subject_86/expmap/01.mat"
    blob: str  # git blob id: sha1 of b"blob <size>\0" + content
    size: int | None  # bytes, None where unknown
    repo: str  # upstream GitHub repository "owner/name"
    upstream_path: str  # path inside that repository

    @property
    def url(self) -> str:
        return URL_TEMPLATE.format(repo=self.repo, branch=BRANCH, path=self.upstream_path)


@functools.cache
def manifest() -> dict[str, ManifestEntry]:
    """All upstream files, keyed by their path below the data root."""
    out = {}
    with open(MANIFEST_PATH, newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            size = row["bytes"]
            out[row["path"]] = ManifestEntry(
                path=row["path"],
                blob=row["git_blob_sha1"],
                size=int(size) if size.isdigit() else None,
                repo=row["upstream_repository"],
                upstream_path=row["upstream_path"],
            )
    return out


def data_root(data_dir: str | os.PathLike | None = None) -> Path:
    """The data root: ``data_dir`` if given, else ``$SEQ2SEQ_JAX_DATA``, else ``data/`` in the repository."""
    if data_dir is None:
        data_dir = os.environ.get(ENV_DATA) or DEFAULT_DATA_DIR
    return Path(data_dir).expanduser().resolve()


def mirror_root(mirror: str | os.PathLike | None = None) -> Path | None:
    """The local mirror folder standing in for the network: ``mirror`` if given, else ``$SEQ2SEQ_JAX_MIRROR``."""
    if mirror is None:
        mirror = os.environ.get(ENV_MIRROR) or None
    return None if mirror is None else Path(mirror).expanduser().resolve()


def git_blob_id(path: str | os.PathLike) -> str:
    """The git blob id of a file (what ``git hash-object`` prints)."""
    path = Path(path)
    h = hashlib.sha1(b"blob %d\0" % path.stat().st_size)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def entry(relpath: str) -> ManifestEntry:
    try:
        return manifest()[relpath]
    except KeyError:
        raise DataError(
            f"{relpath!r} is not in the manifest of known data files ({MANIFEST_PATH}); "
            "check the name, or read your own file with the readers in seq2seq_jax.data.readers"
        ) from None


def _how_to_place(e: ManifestEntry, target: Path) -> str:
    return (
        f"download it by hand from {e.url} and place it at {target} "
        f"(it must have git blob id {e.blob}: `git hash-object FILE` prints it)"
    )


_VERIFIED: set[Path] = set()


def _verify(e: ManifestEntry, path: Path, origin: str) -> None:
    got = git_blob_id(path)
    if got != e.blob:
        raise DataError(
            f"{e.path} from {origin} is corrupt: git blob id {got}, expected {e.blob} "
            f"({path.stat().st_size} bytes{'' if e.size is None else f', expected {e.size}'})"
        )


def _download(url: str, dst, timeout: float = 60.0) -> None:
    with urllib.request.urlopen(url, timeout=timeout) as r:  # noqa: S310 (fixed https URL)
        shutil.copyfileobj(r, dst, 1 << 20)


def is_available(relpath: str, data_dir=None, mirror=None) -> bool:
    """Whether ``fetch`` can get the file without the network: in the data root or the mirror, when set.

    With no mirror set every manifest file counts as available (it can be downloaded).
    """
    if (data_root(data_dir) / relpath).exists():
        return True
    m = mirror_root(mirror)
    if m is None:
        return relpath in manifest()
    return (m / relpath).exists()


def fetch(relpath: str, data_dir=None, mirror=None) -> Path:
    """A verified local copy of a manifest file, downloading or copying it into the data root if needed.

    Args:
      relpath: path below the data root, as in the manifest (e.g. ``"cmu_mocap/subject_86/expmap/01.mat"``).
      data_dir: the data root (default: see ``data_root``).
      mirror: a local folder laid out like the data root, used instead of the network (default
        ``$SEQ2SEQ_JAX_MIRROR``).

    Returns:
      The path of the verified file in the data root.

    Raises:
      DataError: the file is unknown, missing from the mirror, not downloadable, or its content does not
        match the manifest; the message names the file, its URL and how to place it by hand. Nothing is
        written to the data root in that case.
    """
    e = entry(relpath)
    root = data_root(data_dir)
    target = root / relpath
    if target.exists():
        if target not in _VERIFIED:
            try:
                _verify(e, target, "the data folder")
            except DataError as err:
                raise DataError(
                    f"{err}; delete {target} so that it is fetched again, or {_how_to_place(e, target)}"
                ) from None
            _VERIFIED.add(target)
        return target

    m = mirror_root(mirror)
    if m is not None and not (m / relpath).exists():
        raise DataError(
            f"{relpath} is not in the local mirror {m}; unset {ENV_MIRROR} (or --mirror) to download it, or "
            + _how_to_place(e, target)
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DataError(
            f"cannot create the data folder {target.parent}: {err}; choose another with --data_dir or ${ENV_DATA}"
        ) from None
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    tmp = Path(tmp)
    origin = str(m / relpath) if m is not None else e.url
    try:
        with os.fdopen(fd, "wb") as f:
            if m is not None:
                with open(m / relpath, "rb") as src:
                    shutil.copyfileobj(src, f, 1 << 20)
            else:
                try:
                    _download(e.url, f)
                except (urllib.error.URLError, OSError, TimeoutError) as err:
                    raise DataError(
                        f"downloading {relpath} from {e.url} failed ({err}); " + _how_to_place(e, target)
                    ) from None
        try:
            _verify(e, tmp, origin)
        except DataError as err:
            raise DataError(f"{err}; the bad copy was discarded; " + _how_to_place(e, target)) from None
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    _VERIFIED.add(target)
    return target
