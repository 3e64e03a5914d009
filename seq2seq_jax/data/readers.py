"""File readers: CMU/H3.6M exponential-map text files, subject-86 MATLAB files, Barbic ground-truth files.

Every reader returns plain float32 arrays (frames x values) and raises ``DataError`` with the file name and
the line or field when the content is not what it should be.
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from pathlib import Path

import numpy as np

from seq2seq_jax.data.sources import DataError

CMU_VALUES = 117  # root position (3) + 38 joints x 3 exponential-map values
H36M_VALUES = 99  # root position (3) + 32 joints x 3
SUBJECT86_VALUES = 96
SUBJECT86_FPS = 120.0
CMU_FPS = 120.0


def _exists(path) -> Path:
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{path}: is a folder, not a file; name the recording file inside it")
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    return path


FLOAT32_MAX = float(np.finfo(np.float32).max)


def not_float32(x: np.ndarray) -> np.ndarray:
    """Mask of the values that float32 cannot hold: inf, or beyond its largest magnitude (NaN is not flagged)."""
    with np.errstate(invalid="ignore"):
        return np.isinf(x) | (np.abs(x) > FLOAT32_MAX)


def _check_finite(x: np.ndarray, path, what="value") -> None:
    bad = ~np.isfinite(x)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise DataError(
            f"{path}: line {r + 1}, column {c + 1}: non-finite {what} {x[r, c]!r} (NaN or inf); "
            "fix or remove that frame"
        )


def read_expmap_txt(path: str | os.PathLike, n_values: int | None = CMU_VALUES, every: int = 1) -> np.ndarray:
    """Reads a comma-separated exponential-map file: one frame per line.

    Args:
      path: the text file.
      n_values: values per line the file must have (117 for CMU, 99 for H3.6M); None accepts any, as
        long as every line has the same count.
      every: keep every ``every``-th frame (the reference takes every second frame of H3.6M files).

    Returns:
      frames_TxD, float32.
    """
    path = _exists(path)
    try:  # fast path; the line-by-line pass below only runs to diagnose a bad file
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # an empty file is reported below
            x = np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=2)
        if x.size and (n_values is None or x.shape[1] == n_values) and np.isfinite(x).all():
            return x[::every].astype(np.float32)
    except ValueError:
        pass
    rows = []
    width = n_values
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            cells = line.split(",")
            if cells[-1] == "":  # a trailing comma
                cells = cells[:-1]
            if width is None:
                width = len(cells)
            if len(cells) != width:
                raise DataError(
                    f"{path}: line {lineno} has {len(cells)} values, expected {width}"
                    + (" (the file may be truncated)" if len(cells) < width else "")
                )
            try:
                rows.append([float(c) for c in cells])
            except ValueError:
                bad = next(c for c in cells if not _is_float(c))
                raise DataError(f"{path}: line {lineno}: {bad!r} is not a number") from None
    if not rows:
        raise DataError(f"{path}: no frames (the file is empty)")
    x = np.asarray(rows, dtype=np.float64)
    _check_finite(x, path)
    return x[::every].astype(np.float32)


def read_h36m_txt(path: str | os.PathLike) -> np.ndarray:
    """An H3.6M exponential-map file (99 values a line), every second frame (50 -> 25 fps), as the reference."""
    return read_expmap_txt(path, n_values=H36M_VALUES, every=2)


def _is_float(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def read_mat(path: str | os.PathLike, key: str) -> np.ndarray:
    """One 2-D numeric array ``key`` from a MATLAB v5 file, float32, checked finite."""
    import scipy.io

    path = _exists(path)
    try:
        m = scipy.io.loadmat(path)
    except Exception as err:  # scipy raises several types for bad files
        raise DataError(f"{path}: not a readable MATLAB v5 file ({err})") from None
    if key not in m:
        keys = sorted(k for k in m if not k.startswith("__"))
        raise DataError(f"{path}: no array {key!r} in the file (it has {keys}); pass the right name")
    x = np.asarray(m[key])
    if x.ndim != 2 or not np.issubdtype(x.dtype, np.number):
        raise DataError(
            f"{path}: {key!r} has shape {x.shape} and dtype {x.dtype}, expected a 2-D numeric array (frames, channels)"
        )
    x = x.astype(np.float64)
    _check_finite(x, path)
    return x.astype(np.float32)


def read_subject86_mat(path: str | os.PathLike) -> np.ndarray:
    """A subject-86 trial: array ``expmapchannels`` of shape (frames, 96), 120 fps."""
    x = read_mat(path, "expmapchannels")
    if x.shape[1] != SUBJECT86_VALUES:
        raise DataError(f"{path}: 'expmapchannels' has {x.shape[1]} columns, expected {SUBJECT86_VALUES}")
    return x


@dataclasses.dataclass(frozen=True)
class GTSegment:
    """One segment of a Barbic et al. ground-truth file.

    ``earliest``, ``best``, ``latest`` are the frames of the transition that ends the segment (None for the
    last segment, which ends at ``best`` = the end frame given in the file).
    """

    index: int
    name: str
    earliest: int | None
    best: int
    latest: int | None

    @property
    def window(self) -> tuple[int, int]:
        """The tolerance window [min, max] of the three transition frames (they are not always ordered)."""
        vals = [v for v in (self.earliest, self.best, self.latest) if v is not None]
        return min(vals), max(vals)


def read_ground_truth(path: str | os.PathLike) -> list[GTSegment]:
    """A Barbic et al. segmentation file (``key.txt`` explains the format).

    Returns the segments in order; the last one carries the end frame in ``best``.
    """
    path = _exists(path)
    lines = [(i, ln.strip()) for i, ln in enumerate(Path(path).read_text().splitlines(), 1) if ln.strip()]
    if not lines:
        raise DataError(f"{path}: empty ground-truth file")
    try:
        n = int(lines[0][1])
    except ValueError:
        raise DataError(f"{path}: line {lines[0][0]}: expected the number of segments, got {lines[0][1]!r}") from None
    if len(lines) < 1 + 2 * n:
        raise DataError(f"{path}: {n} segments announced but only {(len(lines) - 1) // 2} entries found (truncated?)")
    segs = []
    for s in range(n):
        (ln1, head), (ln2, nums) = lines[1 + 2 * s], lines[2 + 2 * s]
        parts = head.split(None, 1)
        if len(parts) != 2 or not parts[0].isdigit():
            raise DataError(f"{path}: line {ln1}: expected '<index> <name>', got {head!r}")
        try:
            vals = [int(v) for v in nums.split()]
        except ValueError:
            raise DataError(f"{path}: line {ln2}: expected frame numbers, got {nums!r}") from None
        last = s == n - 1
        if last and len(vals) == 1:
            segs.append(GTSegment(int(parts[0]), parts[1].strip(), None, vals[0], None))
        elif len(vals) == 3:
            segs.append(GTSegment(int(parts[0]), parts[1].strip(), vals[0], vals[1], vals[2]))
        else:
            raise DataError(f"{path}: line {ln2}: expected {'1 or 3' if last else 3} frame numbers, got {nums!r}")
    return segs


def read_table(path: str | os.PathLike, key: str | None = None, columns=None) -> tuple[np.ndarray, list[str]]:
    """A user's multichannel time series: (frames_TxC float32, channel names); see ``read_table_info``."""
    x, names, _ = read_table_info(path, key, columns)
    return x, names


def read_table_info(path: str | os.PathLike, key: str | None = None, columns=None):
    """A user's multichannel time series: (frames_TxC float32, channel names, header), where ``header`` says
    whether the first row of a text file was taken as channel names (True), as data (False), or None (a
    binary file).

    CSV or TSV (one frame per row, channels in columns, an optional header row of names), NPY (a 2-D
    array, or 1-D for one channel), or MATLAB (``key`` names the array). ``columns`` picks channels by name
    or 0-based index. Empty cells and NaN are refused with their row numbers (fill or cut the gaps first);
    so are non-numeric cells and inf.
    """
    path = _exists(path)
    suffix = path.suffix.lower()
    names = None
    if suffix == ".npy":
        try:
            x = np.load(path, allow_pickle=False)
        except ValueError as err:
            if "allow_pickle" in str(err):
                raise DataError(
                    f"{path}: holds Python objects (an object array), not numbers; save a numeric array "
                    "(frames, channels), e.g. np.save(path, np.asarray(x, dtype=float))"
                ) from None
            raise DataError(f"{path}: not a readable .npy file ({err})") from None
        except Exception as err:
            raise DataError(f"{path}: not a readable .npy file ({err})") from None
        if x.ndim == 1:
            x = x[:, None]
        if x.ndim != 2 or not np.issubdtype(x.dtype, np.number):
            raise DataError(
                f"{path}: expected a 2-D numeric array (frames, channels), got shape {x.shape} dtype {x.dtype}"
            )
        x = x.astype(np.float64)
    elif suffix == ".mat":
        if not key:
            raise DataError(f"{path}: a MATLAB file needs --key NAME (the array to read)")
        x = read_mat(path, key).astype(np.float64)
    elif suffix in (".csv", ".tsv", ".txt"):
        x, names, lines = _read_delimited(path, "\t" if suffix == ".tsv" else None)
    else:
        raise DataError(f"{path}: unknown file type {suffix!r}; use .csv, .tsv, .txt, .npy or .mat")
    if suffix not in (".csv", ".tsv", ".txt"):
        lines = None
    header = names is not None
    if names is None:
        names = [str(i) for i in range(x.shape[1])]
    if len(x) == 0:
        raise DataError(f"{path}: no frames (the file is empty)")
    if columns is not None:
        x, names = pick_columns(x, names, columns, path)
    bad = np.isnan(x)
    if bad.any():
        rows = np.flatnonzero(bad.any(1))
        shown = ", ".join(str(r + 1) for r in rows[:10]) + (" ..." if len(rows) > 10 else "")
        where = "" if lines is None else f" (lines {', '.join(str(lines[r]) for r in rows[:10])})"
        raise DataError(
            f"{path}: {len(rows)} frames have missing values (NaN or empty cells), frames {shown} (1-based){where}; "
            "fill or interpolate the gaps, or cut them out, before segmenting"
        )
    bad = not_float32(x)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        at = f"line {lines[r]}" if lines is not None else f"frame {r + 1}"
        raise DataError(
            f"{path}: {at}, column {c + 1}: the value {float(x[r, c])!r} is infinite or too large for 32-bit floats "
            f"(largest {FLOAT32_MAX:.3g}); fix that value or rescale the channel"
        )
    return x.astype(np.float32), names, header if lines is not None else None


def pick_columns(x: np.ndarray, names: list[str], columns, path) -> tuple[np.ndarray, list[str]]:
    """The ``columns`` (names, or 0-based indices) of ``x`` and their names."""
    idx = []
    for c in columns:
        c = str(c)
        if c in names:
            idx.append(names.index(c))
        elif c.isdigit() and int(c) < x.shape[1]:
            idx.append(int(c))
        else:
            shown = names if len(names) <= 12 else [*names[:12], "..."]
            raise DataError(f"{path}: no column {c!r}; columns are {shown}")
    return x[:, idx], [names[i] for i in idx]


def _read_delimited(path: Path, delimiter):
    """(values, header names or None, line number of each frame)."""
    try:
        text = path.read_text(encoding="utf-8-sig").splitlines()  # utf-8-sig: a byte-order mark is not a cell
    except UnicodeDecodeError as err:
        raise DataError(
            f"{path}: not a text file (byte {err.start} is not UTF-8 text); a CSV/TSV holds one frame of numbers "
            "per line; save binary arrays as .npy"
        ) from None
    rows = [(i, ln) for i, ln in enumerate(text, 1) if ln.strip()]
    if not rows:
        raise DataError(f"{path}: no frames (the file is empty)")
    if delimiter is None:
        first = rows[0][1]
        delimiter = "\t" if "\t" in first else ("," if "," in first else ";" if ";" in first else None)
    shown = {"\t": "tabs", ",": "commas", ";": "semicolons", None: "spaces"}[delimiter]

    def cells(line):
        return [c.strip() for c in (line.split(delimiter) if delimiter else line.split())]

    names = None
    head = cells(rows[0][1])
    if not all(_is_float(c) or c == "" for c in head):
        names, rows = head, rows[1:]
    if not rows:
        raise DataError(f"{path}: only a header, no frames")
    width = len(names) if names else len(cells(rows[0][1]))
    out = np.empty((len(rows), width))
    for r, (lineno, line) in enumerate(rows):
        cs = cells(line)
        if len(cs) != width:
            other = [d for d in (",", ";", "\t") if d != delimiter and d in line]
            hint = f" (it uses {other[0]!r}: one delimiter for the whole file)" if other else ""
            raise DataError(f"{path}: line {lineno} has {len(cs)} values separated by {shown}, expected {width}{hint}")
        for c, v in enumerate(cs):
            if v == "" or v.lower() in ("nan", "na"):
                out[r, c] = np.nan
            elif _is_float(v):
                out[r, c] = float(v)
            else:
                raise DataError(f"{path}: line {lineno}, column {c + 1}: {v!r} is not a number")
    return out, names, [ln for ln, _ in rows]
