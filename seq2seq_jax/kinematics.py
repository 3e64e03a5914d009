"""Forward kinematics of the 38-joint CMU skeleton of the 117-value exponential-map files.

The kinematic tree (parents and bone offsets) is shipped as ``cmu_skeleton.json``. Frame layout: values 0-2
the root position, then 3 exponential-map values per joint (joint j uses 3+3j .. 5+3j). Row-vector
convention: ``R_world[j] = R(expmap_j) @ R_world[parent]``, ``xyz[j] = offset[j] @ R_world[parent] +
xyz[parent]``, the root adding the root position.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np

from seq2seq_jax.data.sources import DataError

SKELETON_PATH = Path(__file__).with_name("cmu_skeleton.json")


@functools.cache
def skeleton():
    """(parent_J, offset_Jx3) of the CMU skeleton."""
    d = json.loads(SKELETON_PATH.read_text())
    return np.asarray(d["parent"], np.int64), np.asarray(d["offset"], np.float64)


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


def forward_kinematics(frames_TxV: np.ndarray) -> np.ndarray:
    """Joint positions (T, 38, 3) from 117-value frames."""
    f = np.asarray(frames_TxV, np.float64)
    parent, offset = skeleton()
    J = len(parent)
    if f.ndim != 2 or f.shape[1] != 3 + 3 * J:
        raise DataError(f"forward kinematics needs frames of {3 + 3 * J} values (CMU layout), got shape {f.shape}")
    rot = expmap_to_rotmat(f[:, 3:].reshape(len(f), J, 3))
    xyz = np.zeros((len(f), J, 3))
    R = np.zeros((len(f), J, 3, 3))
    for j in range(J):
        p = parent[j]
        if p < 0:
            R[:, j] = rot[:, j]
            xyz[:, j] = f[:, :3] + offset[j]
        else:
            R[:, j] = rot[:, j] @ R[:, p]
            xyz[:, j] = np.einsum("k,tkl->tl", offset[j], R[:, p]) + xyz[:, p]
    return xyz.astype(np.float32)


def bones():
    """(child, parent) joint pairs to draw."""
    parent, _ = skeleton()
    return [(j, int(p)) for j, p in enumerate(parent) if p >= 0]
