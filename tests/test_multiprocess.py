"""Data-parallel training across real processes (jax.distributed, coordinator on 127.0.0.1, gloo on CPUs)."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np

WORKER = Path(__file__).with_name("distributed_worker.py")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(pid, n, port, workdir):
    env = {**os.environ, "XLA_FLAGS": "", "JAX_PLATFORMS": "cpu"}  # one CPU device per process
    return subprocess.Popen(
        [sys.executable, str(WORKER), str(pid), str(n), str(port), str(workdir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _result(proc):
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def test_two_processes_train_data_parallel_to_the_losses_of_one(tmp_path):
    port = _free_port()
    procs = [_run(i, 2, port, tmp_path / "two") for i in range(2)]
    alone = _result(_run(0, 1, 0, tmp_path / "one"))
    two = [_result(p) for p in procs]
    assert [r["process"] for r in two] == [0, 1] and all(r["processes"] == 2 and r["devices"] == 2 for r in two)
    assert alone["devices"] == 1 and all(r["step"] == 20 for r in two + [alone])
    np.testing.assert_allclose(two[0]["losses"], two[1]["losses"], rtol=0, atol=0)  # one replicated model
    np.testing.assert_allclose(two[0]["losses"], alone["losses"], rtol=1e-5)  # the batch split over processes
    assert sorted(p.name for p in (tmp_path / "two" / "checkpoints").iterdir()) == ["10", "20"]
