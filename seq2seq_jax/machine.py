"""Which machine a figure came from: the CPU (model and the matrix extensions that decide fp32/bf16 speed), its
cores, JAX and its devices. Written into every results.json and printed after every run, so that a figure names
its machine without anyone reading it off by hand (two machines of this project were once confused that way)."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def cpu_info(cpuinfo: str | None = None) -> dict:
    """CPU model and whether it has AVX-512, AVX-512 BF16 and AMX (read from ``/proc/cpuinfo``, or the text
    given; elsewhere only the model that ``platform`` reports)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return {"model": platform.processor() or platform.machine()}
    lines = cpuinfo.splitlines()
    model_name = next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("model name")), "")
    flags = set(next((ln.split(":", 1)[1].split() for ln in lines if ln.startswith("flags")), []))
    return {
        "model": model_name or platform.processor() or platform.machine(),
        "avx512f": "avx512f" in flags,
        "avx512_bf16": "avx512_bf16" in flags,
        "amx_bf16": "amx_bf16" in flags,
    }


def describe() -> dict:
    """The machine: ``cpu_info``, the cores, JAX's version, backend, device kind and device count."""
    import jax

    dev = jax.devices()[0]
    return {
        "cpu": cpu_info(),
        "cores": os.cpu_count(),
        "jax": jax.__version__,
        "backend": jax.default_backend(),
        "device": getattr(dev, "device_kind", str(dev)),
        "n_devices": jax.device_count(),
    }


def summary(info: dict) -> str:
    """One line for a run's output, e.g. "Intel(R) Xeon(R) Processor, 2 cores (AVX-512 yes, AMX yes), cpu"."""
    cpu = info.get("cpu", {})
    ext = f"AVX-512 {'yes' if cpu.get('avx512f') else 'no'}, AMX {'yes' if cpu.get('amx_bf16') else 'no'}"
    backend = info.get("backend", "?")
    device = "" if backend == "cpu" else f" ({info.get('device', '?')} x {info.get('n_devices', '?')})"
    return f"{cpu.get('model') or '?'}, {info.get('cores', '?')} cores ({ext}), {backend}{device}"
