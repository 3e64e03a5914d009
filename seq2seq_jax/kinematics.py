"""Forward kinematics of exponential-map frames: the joint positions a video draws.

A frame is the root position (values 0-2), then 3 exponential-map values per joint "slot". A ``Skeleton`` says
which joint uses which slot, its parent and its bone offset. Row-vector convention throughout (the one of the
CMU files): ``R_local[j] = A[j] @ R(expmap_j) @ A[j].T`` (A: the ASF bone axes, the identity elsewhere),
``R_world[j] = R_local[j] @ R_world[parent]``, and ``xyz[j] = offset[j] @ R_world[parent] + xyz[parent]``, or
``@ R_world[j]`` for skeletons whose offsets are bones that turn with their own joint (ASF: a bone's rotation
moves its end). ``R`` is Rodrigues' formula.

Skeletons: ``cmu117()`` (the 38-joint skeleton of the 117-value files, shipped as ``cmu_skeleton.json``),
and the ones ``data.motion`` reads from ASF and BVH files.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from pathlib import Path

import numpy as np

from seq2seq_jax.data.sources import DataError

SKELETON_PATH = Path(__file__).with_name("cmu_skeleton.json")


@dataclasses.dataclass(frozen=True, eq=False)
class Skeleton:
    """A kinematic tree over exponential-map frames.

    Attributes:
      names: joint names.
      parent: parent joint index of each joint (-1: the root).
      offset: (J, 3) bone offset of each joint, in the units of the root position.
      slot: (J,) which exp-map triple of the frame turns the joint (triple s is values 3+3s .. 5+3s); -1: none
        (a fixed joint, e.g. a BVH end site).
      axis: (J, 3, 3) the frame each joint's rotation is expressed in (ASF ``axis``); None: the parent's.
      offset_by: "parent" (the offset turns with the parent, BVH and the 117 files) or "own" (ASF bones).
    """

    names: tuple[str, ...]
    parent: np.ndarray
    offset: np.ndarray
    slot: np.ndarray
    axis: np.ndarray | None = None
    offset_by: str = "parent"

    @property
    def values(self) -> int:
        """Values per frame."""
        return 3 + 3 * (int(self.slot.max()) + 1)

    def bones(self) -> list[tuple[int, int]]:
        """(child, parent) joint pairs to draw."""
        return [(j, int(p)) for j, p in enumerate(self.parent) if p >= 0]


@functools.cache
def cmu117() -> Skeleton:
    """The 38-joint skeleton of the 117-value CMU files (every joint has its own slot, in order)."""
    d = json.loads(SKELETON_PATH.read_text())
    parent = np.asarray(d["parent"], np.int64)
    names = tuple(d.get("names") or (str(j) for j in range(len(parent))))
    return Skeleton(names, parent, np.asarray(d["offset"], np.float64), np.arange(len(parent)))


def skeleton():
    """(parent_J, offset_Jx3) of the 117-value CMU skeleton."""
    s = cmu117()
    return s.parent, s.offset


def expmap_to_rotmat(r_Nx3: np.ndarray) -> np.ndarray:
    """Rotation matrices (N, 3, 3) from exponential maps by Rodrigues' formula."""
    r = np.asarray(r_Nx3, np.float64)
    theta = np.linalg.norm(r, axis=-1, keepdims=True)
    axis = r / np.maximum(theta, 1e-12)
    x, y, z = axis[..., 0], axis[..., 1], axis[..., 2]
    zero = np.zeros_like(x)
    K = np.stack([np.stack([zero, -z, y], -1), np.stack([z, zero, -x], -1), np.stack([-y, x, zero], -1)], -2)
    th = theta[..., None]
    eye = np.broadcast_to(np.eye(3), K.shape)
    return eye + np.sin(th) * K + (1 - np.cos(th)) * (K @ K)


UP_AXIS = 1  # the vertical axis of the CMU files and of most BVH files (Y up)
FLOOR_AXES = tuple(i for i in range(3) if i != UP_AXIS)  # the two across it, in order


def upright_root(frames_TxV: np.ndarray) -> np.ndarray:
    """The frames with the root's six channels replaced by three that stay the same wherever the body stands on the
    floor and whichever way it faces: the root's height, and how far the world's up direction leans towards each
    of the root's two axes across ``UP_AXIS`` (its tilt, two degrees of freedom).

    Values 0-2 of a frame are the root position and 3-5 its exponential map (the layout of this module, of the CMU
    files and of ``data.motion``), with axis ``UP_AXIS`` vertical. The exponential map is of the inverse of the
    root's rotation (row-vector convention), so its matrix ``M`` turns world vectors into root axes and ``M[:, 1]``
    is the world's up direction seen from the root: it changes when the body leans, bends down or lies, never
    when it turns about the vertical or walks. Its component along the root's own up axis is left out: for an
    upright body it is fixed by the other two (the vector has length 1) and, z-scored, would weigh second-order
    changes of the tilt like the tilt itself. Values 6 on are returned unchanged.

    Raises:
      DataError: fewer than 7 values per frame (no joint after the root).
    """
    f = np.asarray(frames_TxV)
    if f.ndim != 2 or f.shape[1] < 7:
        raise DataError(
            "the upright root reads values 0-2 of a frame as the root position and 3-5 as its exponential map, then "
            f"the joints; frames of shape {f.shape} have no joint after them: use root='keep' (the channels as "
            "they are) for data in another layout"
        )
    up = expmap_to_rotmat(f[:, 3:6])[:, :, UP_AXIS]
    lean = up[:, FLOOR_AXES]
    return np.concatenate([f[:, UP_AXIS : UP_AXIS + 1], lean, f[:, 6:]], axis=1).astype(f.dtype)


def turn_about_vertical(frames_TxV: np.ndarray, angle: float, shift=(0.0, 0.0)) -> np.ndarray:
    """The frames of a body turned by ``angle`` radians about the vertical axis (``UP_AXIS``) through the origin of
    the floor, then moved by ``shift`` (along ``FLOOR_AXES``): the root position (values 0-2) and
    the root's exponential map (3-5; of the inverse rotation, as in ``upright_root``) change, the joints' angles do
    not. The same motion, done facing another way and elsewhere (the joint positions of ``forward_kinematics`` turn
    and move with it).

    Raises:
      DataError: fewer than 6 values per frame.
    """
    from scipy.spatial.transform import Rotation

    f = np.asarray(frames_TxV)
    if f.ndim != 2 or f.shape[1] < 6:
        raise DataError(
            "turning reads values 0-2 of a frame as the root position and 3-5 as its exponential map; frames of "
            f"shape {f.shape} have no root in that layout"
        )
    turn = Rotation.from_rotvec(angle * np.eye(3)[UP_AXIS])
    g = f.astype(np.float64)  # a copy
    g[:, :3] = turn.apply(g[:, :3])
    g[:, FLOOR_AXES] += np.asarray(shift, np.float64)
    g[:, 3:6] = (turn * Rotation.from_rotvec(g[:, 3:6]).inv()).inv().as_rotvec()
    return g.astype(f.dtype)


def heading(frames_TxV: np.ndarray) -> np.ndarray:
    """heading_T: the direction (radians, in (-pi, pi]) the root faces on the floor, the angle about the vertical
    (``UP_AXIS``) of the root's forward axis (its third; the row of ``upright_root``'s matrix ``M`` for it, taken
    across the floor). ``turn_about_vertical(frames, angle)`` adds ``angle`` to it.

    Raises:
      DataError: fewer than 6 values per frame.
    """
    f = np.asarray(frames_TxV)
    if f.ndim != 2 or f.shape[1] < 6:
        raise DataError(f"the heading reads values 3-5 of a frame as the root's exponential map; got shape {f.shape}")
    fwd = expmap_to_rotmat(f[:, 3:6])[:, 2, :]  # the root's forward axis in world coordinates
    a, b = FLOOR_AXES
    return np.arctan2(fwd[:, a], fwd[:, b])


def forward_kinematics(frames_TxV: np.ndarray, skel: Skeleton | None = None) -> np.ndarray:
    """Joint positions (T, J, 3) of the frames (default skeleton: the 117-value CMU one)."""
    s = cmu117() if skel is None else skel
    f = np.asarray(frames_TxV, np.float64)
    if f.ndim != 2 or f.shape[1] != s.values:
        raise DataError(f"forward kinematics needs frames of {s.values} values (this skeleton), got shape {f.shape}")
    T, J = len(f), len(s.parent)
    rot = expmap_to_rotmat(f[:, 3:].reshape(T, -1, 3))
    xyz = np.zeros((T, J, 3))
    R = np.zeros((T, J, 3, 3))
    eye = np.broadcast_to(np.eye(3), (T, 3, 3))
    for j in range(J):
        local = rot[:, s.slot[j]] if s.slot[j] >= 0 else eye
        if s.axis is not None:
            local = s.axis[j] @ local @ s.axis[j].T
        p = s.parent[j]
        if p < 0:
            R[:, j] = local
            xyz[:, j] = f[:, :3] + s.offset[j]
        else:
            R[:, j] = local @ R[:, p]
            turn = R[:, j] if s.offset_by == "own" else R[:, p]
            xyz[:, j] = np.einsum("k,tkl->tl", s.offset[j], turn) + xyz[:, p]
    return xyz.astype(np.float32)
