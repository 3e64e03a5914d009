"""Motion-capture files: ASF/AMC (the CMU database's own format) and BVH, read into exponential-map frames.

Every reader returns a ``Motion``: frames in the channel layout of the subject-86 MAT files (the root position,
then three exponential-map values per joint, the root's rotation first), the frame rate, the channel names and
the ``kinematics.Skeleton`` that draws them.

The conversion (found by matching CMU's ``86_01.amc`` / ``86_09.amc`` to the subject-86 MAT files, which it
reproduces to float64 rounding, see docs/motion_files.md): a joint's Euler angles, composed in the order its
file lists them as rotations about the fixed axes (ASF ``dof rx ry rz``: ``R = Rz Ry Rx``; BVH channels are
intrinsic: ``Zrotation Xrotation Yrotation`` gives ``R = Rz Rx Ry``), give the exponential map of ``R``'s
inverse (the row-vector matrix of the CMU files). ASF bones without degrees of freedom (and dimensions a bone
lacks) keep zeros, as in the MAT files; the model drops such constant channels.

Errors are ``DataError`` naming the file, the line and the field.
"""

from __future__ import annotations

import dataclasses
import math
import os
import warnings
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from seq2seq_jax.data.readers import _exists, _is_float  # the readers' shared checks
from seq2seq_jax.data.sources import DataError
from seq2seq_jax.kinematics import Skeleton

CMU_AMC_FPS = 120.0  # AMC files do not say their rate; CMU captured at 120 fps (a few trials at 60)
SUFFIXES = (".amc", ".bvh")


@dataclasses.dataclass(frozen=True, eq=False)
class Motion:
    """Frames of a motion-capture file.

    Attributes:
      frames: frames_TxV float32: root position (3), then 3 exponential-map values per joint slot.
      fps: frames per second (BVH: 1 / Frame Time; AMC: 120 unless given).
      names: the V channel names ("root.tx", ..., "lfemur.e0", ...).
      skeleton: the ``kinematics.Skeleton`` for ``kinematics.forward_kinematics`` and the video.
      path: the file read.
    """

    frames: np.ndarray
    fps: float
    names: tuple[str, ...]
    skeleton: Skeleton
    path: str


def _channel_names(slots: list[str]) -> tuple[str, ...]:
    return ("root.tx", "root.ty", "root.tz", *(f"{n}.e{i}" for n in slots for i in range(3)))


def _lines(path: Path) -> list[tuple[int, list[str]]]:
    """(line number, tokens) of the non-blank, non-comment lines."""
    try:
        text = path.read_text(encoding="utf-8-sig", errors="strict")
    except UnicodeDecodeError as err:
        raise DataError(f"{path}: not a text file (byte {err.start} is not UTF-8 text)") from None
    out = []
    for i, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if line:
            out.append((i, line.split()))
    return out


def _floats(path, lineno, field, tokens, n=None) -> list[float]:
    if n is not None and len(tokens) != n:
        raise DataError(f"{path}: line {lineno}: {field} needs {n} values, got {len(tokens)} ({' '.join(tokens)!r})")
    try:
        return [float(t) for t in tokens]
    except ValueError:
        bad = next(t for t in tokens if not _is_float(t))
        raise DataError(f"{path}: line {lineno}: {field}: {bad!r} is not a number") from None


def _inverse_expmap(seq: str, angles_TxN: np.ndarray, degrees: bool) -> np.ndarray:
    """Exponential maps (T, 3) of the inverses of the Euler rotations ``seq`` (scipy's convention: lower case
    about fixed axes, upper case intrinsic)."""
    if not seq:
        return np.zeros((len(angles_TxN), 3))
    return Rotation.from_euler(seq, angles_TxN, degrees=degrees).inv().as_rotvec()


# ---------------------------------------------------------------------------------------------------------- ASF


@dataclasses.dataclass(frozen=True, eq=False)
class AsfBone:
    name: str
    dof: tuple[str, ...]  # "rx", "ry", "rz" in the file's order
    direction: np.ndarray
    length: float
    axis: np.ndarray  # 3x3, column-vector matrix of the ``axis`` angles
    line: int


@dataclasses.dataclass(frozen=True, eq=False)
class Asf:
    """An ASF skeleton: the root's channel order, the bones (file order = the frames' slot order), the tree."""

    path: str
    root_order: tuple[str, ...]  # e.g. ("tx", "ty", "tz", "rx", "ry", "rz")
    root_axis: np.ndarray
    bones: tuple[AsfBone, ...]
    parent: dict  # bone name -> parent name ("root" for the root's children)
    length_scale: float

    @property
    def dof(self) -> dict[str, tuple[str, ...]]:
        return {"root": self.root_order, **{b.name: b.dof for b in self.bones}}

    def skeleton(self) -> Skeleton:
        """The kinematic tree (parents before children), slot 0 the root, slot 1 + i the i-th bone."""
        by_name = {b.name: b for b in self.bones}
        order, todo = ["root"], ["root"]
        while todo:
            p = todo.pop(0)
            kids = [b.name for b in self.bones if self.parent[b.name] == p]
            order += kids
            todo += kids
        index = {n: i for i, n in enumerate(order)}
        slot = {"root": 0, **{b.name: 1 + i for i, b in enumerate(self.bones)}}
        axis = [self.root_axis] + [by_name[n].axis for n in order[1:]]
        offset = [np.zeros(3)] + [by_name[n].length * by_name[n].direction for n in order[1:]]
        return Skeleton(
            tuple(order),
            np.array([-1] + [index[self.parent[n]] for n in order[1:]], np.int64),
            np.asarray(offset, np.float64),
            np.array([slot[n] for n in order], np.int64),
            np.asarray(axis, np.float64),
            offset_by="own",
        )


def _euler_matrix(order: str, angles, degrees: bool) -> np.ndarray:
    return Rotation.from_euler(order.lower(), angles, degrees=degrees).as_matrix()


def read_asf(path: str | os.PathLike) -> Asf:
    """Reads an Acclaim skeleton file (.asf)."""
    path = _exists(path)
    lines = _lines(path)
    if not any(t[0].lower() == ":bonedata" for _, t in lines):
        raise DataError(f"{path}: no :bonedata section; is it an Acclaim skeleton (.asf) file?")
    degrees, length_scale = True, 1.0
    root_order, root_axis_order, root_orientation = ("tx", "ty", "tz", "rx", "ry", "rz"), "xyz", [0.0, 0.0, 0.0]
    bones, parent, section, cur = [], {}, None, None
    for lineno, t in lines:
        key = t[0].lower()
        if key.startswith(":"):
            section = key
            if key in (":version", ":name", ":units", ":documentation", ":root", ":bonedata", ":hierarchy"):
                continue
            raise DataError(f"{path}: line {lineno}: unknown section {t[0]!r}")
        if section == ":units":
            if key == "angle":
                if len(t) != 2 or t[1].lower() not in ("deg", "rad"):
                    raise DataError(f"{path}: line {lineno}: ':units angle' must be deg or rad, got {t[1:]}")
                degrees = t[1].lower() == "deg"
            elif key == "length":
                length_scale = _floats(path, lineno, "length", t[1:], 1)[0]
        elif section == ":root":
            if key == "order":
                root_order = tuple(x.lower() for x in t[1:])
                bad = [x for x in root_order if x not in ("tx", "ty", "tz", "rx", "ry", "rz")]
                if bad or len(set(root_order)) != len(root_order):
                    raise DataError(f"{path}: line {lineno}: root order {' '.join(t[1:])!r}: use TX TY TZ RX RY RZ")
            elif key == "axis":
                root_axis_order = _axis_order(path, lineno, t[1] if len(t) > 1 else "")
            elif key == "orientation":
                root_orientation = _floats(path, lineno, "orientation", t[1:], 3)
        elif section == ":bonedata":
            if key == "begin":
                cur = {"line": lineno}
            elif key == "end":
                if cur is None:
                    raise DataError(f"{path}: line {lineno}: 'end' without 'begin'")
                bones.append(_bone(path, cur, degrees))
                cur = None
            elif cur is None:
                raise DataError(f"{path}: line {lineno}: {t[0]!r} outside a begin ... end bone block")
            elif key in ("id", "name", "direction", "length", "axis", "dof", "limits", "bodymass", "cofmass"):
                cur[key] = (lineno, t[1:])
            elif key.startswith("("):  # continued limits
                continue
            else:
                raise DataError(f"{path}: line {lineno}: unknown bone field {t[0]!r} in bone {cur.get('name')}")
        elif section == ":hierarchy":
            if key in ("begin", "end"):
                continue
            names = {b.name for b in bones}
            for child in t[1:]:
                if child not in names:
                    raise DataError(f"{path}: line {lineno}: the hierarchy names {child!r}, which no bone declares")
                parent[child] = t[0]
            if t[0] != "root" and t[0] not in names:
                raise DataError(f"{path}: line {lineno}: the hierarchy names {t[0]!r}, which no bone declares")
    if cur is not None:
        raise DataError(f"{path}: line {cur['line']}: bone block without 'end' (the file may be truncated)")
    if not bones:
        raise DataError(f"{path}: no bones in :bonedata")
    orphans = [b.name for b in bones if b.name not in parent]
    if orphans:
        raise DataError(f"{path}: bones {orphans} have no parent in :hierarchy (the file may be truncated)")
    root_axis = _euler_matrix(root_axis_order, root_orientation, degrees)
    return Asf(str(path), root_order, root_axis, tuple(bones), parent, length_scale)


def _axis_order(path, lineno, s: str) -> str:
    if sorted(s.lower()) != ["x", "y", "z"]:
        raise DataError(f"{path}: line {lineno}: axis order {s!r} must be a permutation of XYZ")
    return s.lower()


def _bone(path, b: dict, degrees: bool) -> AsfBone:
    line = b["line"]
    for f in ("name", "direction", "length", "axis"):
        if f not in b:
            raise DataError(f"{path}: line {line}: the bone block has no {f!r}")
    name = b["name"][1][0] if b["name"][1] else ""
    if not name:
        raise DataError(f"{path}: line {b['name'][0]}: a bone without a name")
    direction = np.asarray(_floats(path, b["direction"][0], "direction", b["direction"][1], 3))
    length = _floats(path, b["length"][0], "length", b["length"][1], 1)[0]
    ln, ax = b["axis"]
    if len(ax) != 4:
        raise DataError(f"{path}: line {ln}: axis needs three angles and an order (e.g. '0 0 20 XYZ'), got {ax}")
    axis = _euler_matrix(_axis_order(path, ln, ax[3]), _floats(path, ln, "axis", ax[:3], 3), degrees)
    dof = ()
    if "dof" in b:
        ln, d = b["dof"]
        dof = tuple(x.lower() for x in d)
        bad = [x for x in dof if x not in ("rx", "ry", "rz")]
        if bad or len(set(dof)) != len(dof):
            raise DataError(
                f"{path}: line {ln}: bone {name}: dof {' '.join(d)!r}: only rotations rx ry rz, each once, are "
                "supported (no translation or length channels)"
            )
    return AsfBone(name, dof, direction, length, axis, line)


# ---------------------------------------------------------------------------------------------------------- AMC


def read_amc(path: str | os.PathLike, asf: Asf | str | os.PathLike | None = None, fps: float | None = None) -> Motion:
    """Reads an Acclaim motion (.amc) with its skeleton (an ``Asf``, its path, or None: ``find_asf``)."""
    path = _exists(path)
    if path.suffix.lower() == ".asf":
        raise DataError(f"{path}: an .asf file is a skeleton, not a motion; read the .amc with asf={path.name!r}")
    if not isinstance(asf, Asf):
        asf = read_asf(find_asf(path) if asf is None else asf)
    dof = asf.dof
    unit = None
    frames: list[dict] = []
    numbers: list[int] = []
    lines_of: list[int] = []
    cur = None
    for lineno, t in _lines(path):
        if t[0].startswith(":"):
            if frames:
                raise DataError(f"{path}: line {lineno}: header keyword {t[0]!r} after the first frame")
            if t[0].upper() in (":DEGREES", ":RADIANS"):
                unit = t[0].upper()
            continue
        if len(t) == 1:
            if not t[0].isdigit():
                raise DataError(f"{path}: line {lineno}: expected a frame number or '<bone> <values>', got {t[0]!r}")
            n = int(t[0])
            if numbers and n != numbers[-1] + 1:
                raise DataError(
                    f"{path}: line {lineno}: frame {n} follows frame {numbers[-1]} (frames must count up by one; "
                    "is the file cut or two files joined?)"
                )
            _check_frame(path, cur, lines_of, numbers, dof)
            cur = {}
            frames.append(cur)
            numbers.append(n)
            lines_of.append(lineno)
            continue
        if cur is None:
            raise DataError(f"{path}: line {lineno}: values for {t[0]!r} before the first frame number")
        name = t[0]
        if name not in dof:
            raise DataError(
                f"{path}: line {lineno}: unknown bone {name!r}: the skeleton {Path(asf.path).name} has no such bone "
                "(is it this subject's .asf?)"
            )
        if len(t) - 1 != len(dof[name]):
            raise DataError(
                f"{path}: line {lineno}: bone {name!r} has {len(t) - 1} values, the skeleton declares "
                f"{len(dof[name])} ({' '.join(dof[name]) or 'no dof'})"
            )
        if name in cur:
            raise DataError(f"{path}: line {lineno}: bone {name!r} appears twice in frame {numbers[-1]}")
        cur[name] = (lineno, t[1:])
    _check_frame(path, cur, lines_of, numbers, dof)
    if unit is None:
        raise DataError(
            f"{path}: no :DEGREES (or :RADIANS) line before the first frame: the angle unit is unknown; add "
            "':DEGREES' (CMU's files use degrees) after ':FULLY-SPECIFIED'"
        )
    if not frames:
        raise DataError(f"{path}: no frames (a frame is a number on its own line, then one line per bone)")
    degrees = unit == ":DEGREES"
    T = len(frames)
    names = ["root", *(b.name for b in asf.bones)]
    out = np.zeros((T, 3 + 3 * len(names)))
    for slot, name in enumerate(names):
        d = dof[name]
        if not d:
            continue
        vals = np.empty((T, len(d)))
        for i, fr in enumerate(frames):
            lineno, tok = fr[name]
            try:
                vals[i] = [float(v) for v in tok]
            except ValueError:
                bad = next(v for v in tok if not _is_float(v))
                raise DataError(f"{path}: line {lineno}: bone {name!r}: {bad!r} is not a number") from None
        if not np.isfinite(vals).all():
            i, c = np.argwhere(~np.isfinite(vals))[0]
            raise DataError(f"{path}: line {frames[i][name][0]}: bone {name!r}: non-finite value {vals[i, c]!r}")
        rot = [i for i, x in enumerate(d) if x[0] == "r"]
        for i, x in enumerate(d):
            if x[0] == "t":
                out[:, "xyz".index(x[1])] = vals[:, i]
        out[:, 3 + 3 * slot : 6 + 3 * slot] = _inverse_expmap("".join(d[i][1] for i in rot), vals[:, rot], degrees)
    fps = CMU_AMC_FPS if fps is None else float(fps)
    return Motion(out.astype(np.float32), fps, _channel_names(names), asf.skeleton(), str(path))


def _check_frame(path, cur, lines_of, numbers, dof) -> None:
    if cur is None:
        return
    missing = [n for n, d in dof.items() if d and n not in cur]
    if missing:
        raise DataError(
            f"{path}: frame {numbers[-1]} (line {lines_of[-1]}) has no values for {', '.join(missing)} "
            "(the file may be truncated)"
        )


def find_asf(amc_path: str | os.PathLike) -> Path:
    """The skeleton of a CMU motion: ``86.asf`` beside ``86_01.amc``, else the only .asf in its folder."""
    amc = Path(amc_path)
    named = amc.with_name(amc.stem.split("_")[0] + ".asf")
    if named.is_file():
        return named
    found = sorted(p for p in amc.parent.glob("*") if p.suffix.lower() == ".asf")
    if len(found) == 1:
        return found[0]
    which = f"several: {', '.join(p.name for p in found)}" if found else f"neither {named.name} nor another .asf"
    raise DataError(f"{amc}: a motion needs its skeleton: pass --asf SKELETON.asf (asf= in Python); found {which}")


# ---------------------------------------------------------------------------------------------------------- BVH

_BVH_CHANNELS = ("xposition", "yposition", "zposition", "xrotation", "yrotation", "zrotation")


def read_bvh(path: str | os.PathLike, fps: float | None = None) -> Motion:
    """Reads a BVH file: its hierarchy and motion, frame rate from ``Frame Time`` unless ``fps`` is given.

    Position channels of joints other than the root are dropped (a warning says so when they move): the
    layout holds one position, the root's.
    """
    path = _exists(path)
    lines = _lines(path)
    if not lines or lines[0][1][0].upper() != "HIERARCHY":
        raise DataError(f"{path}: line {lines[0][0] if lines else 1}: a BVH file starts with HIERARCHY")
    names, parent, offset, slot, chans = [], [], [], [], []  # chans: per joint, its channel names
    stack: list[int] = []
    pending = None  # the joint whose '{' is due
    i = 1
    n_slots = 0
    while i < len(lines):
        lineno, t = lines[i]
        key = t[0].upper()
        if key == "MOTION":
            break
        if key in ("ROOT", "JOINT"):
            if (key == "ROOT") != (not stack):
                raise DataError(f"{path}: line {lineno}: {t[0]} {'inside a joint' if stack else 'at the top level'}")
            if len(t) < 2:
                raise DataError(f"{path}: line {lineno}: {t[0]} without a name")
            names.append(" ".join(t[1:]))
            parent.append(stack[-1] if stack else -1)
            offset.append(None)
            slot.append(n_slots)
            chans.append(None)
            n_slots += 1
            pending = len(names) - 1
        elif key == "END":
            if not stack:
                raise DataError(f"{path}: line {lineno}: End Site outside a joint")
            names.append(names[stack[-1]] + "_end")
            parent.append(stack[-1])
            offset.append(None)
            slot.append(-1)
            chans.append([])
            pending = len(names) - 1
        elif key == "{":
            if pending is None:
                raise DataError(f"{path}: line {lineno}: '{{' without a ROOT, JOINT or End Site before it")
            stack.append(pending)
            pending = None
        elif key == "}":
            if not stack:
                raise DataError(f"{path}: line {lineno}: '}}' without a matching '{{'")
            j = stack.pop()
            if offset[j] is None:
                raise DataError(f"{path}: line {lineno}: joint {names[j]!r} has no OFFSET")
            if chans[j] is None:
                raise DataError(f"{path}: line {lineno}: joint {names[j]!r} has no CHANNELS")
        elif key == "OFFSET":
            if not stack:
                raise DataError(f"{path}: line {lineno}: OFFSET outside a joint")
            offset[stack[-1]] = _floats(path, lineno, "OFFSET", t[1:], 3)
        elif key == "CHANNELS":
            if not stack or slot[stack[-1]] < 0:
                raise DataError(f"{path}: line {lineno}: CHANNELS outside a joint")
            if len(t) < 2 or not t[1].isdigit() or int(t[1]) != len(t) - 2:
                raise DataError(
                    f"{path}: line {lineno}: CHANNELS needs a count and that many names, e.g. "
                    f"'CHANNELS 3 Zrotation Xrotation Yrotation', got {' '.join(t[1:])!r}"
                )
            bad = [c for c in t[2:] if c.lower() not in _BVH_CHANNELS]
            if bad:
                raise DataError(f"{path}: line {lineno}: unknown channel {bad[0]!r} (use Xposition ... Zrotation)")
            chans[stack[-1]] = [c.lower() for c in t[2:]]
        else:
            raise DataError(f"{path}: line {lineno}: unknown keyword {t[0]!r} in HIERARCHY")
        i += 1
    if stack or pending is not None:
        raise DataError(f"{path}: the HIERARCHY ends inside joint {names[(stack or [pending])[-1]]!r} (missing '}}')")
    if not names:
        raise DataError(f"{path}: no ROOT in HIERARCHY")
    if i >= len(lines):
        raise DataError(f"{path}: no MOTION section after the HIERARCHY (the file may be truncated)")
    header = lines[i + 1 : i + 3]
    ok = len(header) == 2 and header[0][1][0].lower() == "frames:"
    if not ok or [x.lower() for x in header[1][1][:2]] != ["frame", "time:"]:
        raise DataError(f"{path}: line {lines[i][0]}: MOTION must be followed by 'Frames: N' and 'Frame Time: SECONDS'")
    (ln_n, tn), (ln_t, tt) = header
    if len(tn) != 2 or not tn[1].isdigit():
        raise DataError(f"{path}: line {ln_n}: 'Frames:' needs a whole number, got {' '.join(tn[1:])!r}")
    n_frames = int(tn[1])
    frame_time = _floats(path, ln_t, "Frame Time", tt[2:], 1)[0]
    if not 0 < frame_time < math.inf:
        raise DataError(f"{path}: line {ln_t}: Frame Time must be > 0 seconds and finite, got {frame_time}")
    width = sum(len(c) for c in chans)
    rows = lines[i + 3 :]
    if len(rows) != n_frames:
        raise DataError(
            f"{path}: 'Frames: {n_frames}' (line {ln_n}) but {len(rows)} frame lines follow"
            + (" (the file may be truncated)" if len(rows) < n_frames else "")
        )
    if n_frames == 0:
        raise DataError(f"{path}: no frames ('Frames: 0')")
    for lineno, t in rows:
        if len(t) != width:
            raise DataError(
                f"{path}: line {lineno}: {len(t)} values, the HIERARCHY declares {width} channels"
                + (" (the line may be truncated)" if len(t) < width else "")
            )
    try:
        vals = np.array([[float(v) for v in t] for _, t in rows])
    except ValueError:
        for lineno, t in rows:
            _floats(path, lineno, "frame", t)
        raise
    if not np.isfinite(vals).all():
        r, c = np.argwhere(~np.isfinite(vals))[0]
        raise DataError(f"{path}: line {rows[r][0]}, value {c + 1}: non-finite value {vals[r, c]!r}")
    out = np.zeros((n_frames, 3 + 3 * n_slots))
    col = 0
    moved = []
    for j, cs in enumerate(chans):
        block = vals[:, col : col + len(cs)]
        col += len(cs)
        rot = [k for k, c in enumerate(cs) if c.endswith("rotation")]
        pos = [k for k, c in enumerate(cs) if c.endswith("position")]
        if pos and parent[j] < 0:
            for k in pos:
                out[:, "xyz".index(cs[k][0])] = block[:, k]
        elif pos and np.ptp(block[:, pos], axis=0).max() > 1e-6 * max(1.0, np.abs(block[:, pos]).max()):
            moved.append(names[j])
        if slot[j] >= 0:
            seq = "".join(cs[k][0].upper() for k in rot)  # intrinsic, in the listed order
            out[:, 3 + 3 * slot[j] : 6 + 3 * slot[j]] = _inverse_expmap(seq, block[:, rot], degrees=True)
    if moved:
        warnings.warn(
            f"{path}: the position channels of {', '.join(moved[:5])}{' ...' if len(moved) > 5 else ''} move; only "
            "the root's position is kept (the layout holds one position), their offsets come from OFFSET",
            stacklevel=2,
        )
    if fps is None:
        fps = 1.0 / frame_time
        fps = float(round(fps)) if abs(fps - round(fps)) < 1e-2 else fps
    skel = Skeleton(tuple(names), np.array(parent, np.int64), np.asarray(offset, np.float64), np.array(slot, np.int64))
    slots = [n for n, s in zip(names, slot) if s >= 0]
    return Motion(out.astype(np.float32), float(fps), _channel_names(slots), skel, str(path))


# -------------------------------------------------------------------------------------------------------- any


def read_motion(path: str | os.PathLike, asf=None, fps: float | None = None) -> Motion:
    """A .amc (with its ``asf``, found beside it when None) or .bvh file."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".amc":
        return read_amc(p, asf, fps)
    if suffix == ".bvh":
        if asf is not None:
            raise DataError(f"{p}: a BVH file holds its own skeleton; drop the .asf")
        return read_bvh(p, fps)
    if suffix == ".asf":
        raise DataError(f"{p}: an .asf file is a skeleton, not a motion; pass the .amc motion and --asf {p}")
    raise DataError(f"{p}: not a motion-capture file ({', '.join(SUFFIXES)})")


def is_motion_file(path) -> bool:
    return Path(path).suffix.lower() in (*SUFFIXES, ".asf")
