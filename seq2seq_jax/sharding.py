"""Device meshes: a batch split over devices (data parallel), or stacked models split over them."""

from __future__ import annotations

import os

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P


def _mesh(devices, axis: str) -> Mesh:
    return Mesh(np.asarray(devices if devices is not None else jax.devices()), (axis,))


def data_mesh(devices=None) -> Mesh:
    """A 1-D mesh over all (or the given) devices, axis ``"data"``: the batch is split over it."""
    return _mesh(devices, "data")


def model_mesh(devices=None) -> Mesh:
    """A 1-D mesh over all (or the given) devices, axis ``"models"``: stacked models are split over it."""
    return _mesh(devices, "models")


def replicate(tree, mesh: Mesh):
    """Places every leaf of ``tree`` on all devices of ``mesh`` (parameters, optimiser state, sampler)."""
    return jax.device_put(tree, NamedSharding(mesh, P()))


def batch_constraint(win, mesh: Mesh | None):
    """Inside a jitted step: the windows split over the mesh's ``"data"`` axis (no-op without a mesh)."""
    return win if mesh is None else jax.lax.with_sharding_constraint(win, NamedSharding(mesh, P("data")))


def shard_models(stacked_state, sampler, mesh: Mesh):
    """(state, sampler) placed for ``multi.make_multi_train_step`` over ``mesh`` (``model_mesh()``): the stacked
    models split along their leading axis; a shared sampler on every device, a stacked one
    (``WindowSampler.stack``) split like the models. The number of models must be divisible by the number
    of devices."""
    n = jax.tree.leaves(stacked_state)[0].shape[0]
    if n % mesh.size:
        raise ValueError(
            f"{n} models cannot be split evenly over the {mesh.size} devices of the mesh; "
            f"use a multiple of {mesh.size} models or fewer devices"
        )
    split = NamedSharding(mesh, P("models"))
    sampler = jax.device_put(sampler, split) if sampler.data_NxD.ndim == 3 else replicate(sampler, mesh)
    return jax.device_put(stacked_state, split), sampler


def use_cpu_devices(k: int) -> None:
    """Makes JAX see ``k`` CPU devices with XLA's multi-threaded Eigen off, so that models split over them
    (``shard_models``) run side by side instead of sharing the cores op by op. Must run before JAX's first
    use (before any array is created)."""
    try:
        jax.config.update("jax_num_cpu_devices", k)
    except RuntimeError:
        raise RuntimeError(
            "the number of CPU devices must be set before JAX starts; set it first thing in the script"
        ) from None
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false").strip()


def start_distributed(coordinator: str, num_processes: int, process_id: int) -> None:
    """Joins this process to a multi-process (multi-host) JAX run: ``jax.devices()`` then spans every
    process's devices and ``data_mesh()`` splits each batch over all of them. Call it first, before any JAX
    use, on every process with the same ``coordinator`` ("HOST:PORT" of process 0) and ``num_processes``.
    CPU processes exchange gradients through gloo."""
    try:
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
        jax.distributed.initialize(coordinator_address=coordinator, num_processes=num_processes, process_id=process_id)
    except RuntimeError as err:
        raise RuntimeError(
            f"could not join the distributed run at {coordinator} as process {process_id} of {num_processes}: {err}"
        ) from None
