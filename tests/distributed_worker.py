"""One process of tests/test_multiprocess.py: trains a tiny model data-parallel across the processes.

python tests/distributed_worker.py PROCESS_ID NUM_PROCESSES PORT WORKDIR   # NUM_PROCESSES 1: no distribution
"""

import json
import sys

pid, n, port, workdir = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
if n > 1:
    from seq2seq_jax import sharding

    sharding.start_distributed(f"127.0.0.1:{port}", n, pid)

import jax  # noqa: E402
import numpy as np  # noqa: E402

from seq2seq_jax import train  # noqa: E402
from seq2seq_jax.config import ModelConfig, TrainConfig  # noqa: E402
from seq2seq_jax.data.normalize import NormStats  # noqa: E402

x = np.sin(np.arange(400)[:, None] / np.array([3.0, 5.0, 7.0, 11.0]))
norm = NormStats.fit(x)
mc = ModelConfig(dim=4, hidden=8, source=6, target=4)
tc = TrainConfig(iterations=20, save_every=10, log_every=5, batch=8)
r = train.train(mc, tc, norm.apply(x), norm, workdir, {"toy": 1}, progress=False, data_parallel=n > 1)
print(
    json.dumps(
        {
            "process": jax.process_index(),
            "processes": jax.process_count(),
            "devices": jax.device_count(),
            "losses": [h["loss"] for h in r.history],
            "step": r.step,
        }
    ),
    flush=True,
)
