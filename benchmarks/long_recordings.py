"""Seconds per stage and peak memory of ``seq2seq_jax.segment`` as the recording grows, each size in a fresh process.

    python benchmarks/long_recordings.py                      # 2,000 .. 400,000 frames
    python benchmarks/long_recordings.py --frames 2000 20000

A synthetic 4-channel recording at 50 fps (six equal segments of sines, sawtooth and noise regimes), k = 3,
hidden 32, 200 training steps; prints frames, training / embedding / segmentation seconds, the peak resident
memory of the process and the Hungarian accuracy against the regimes.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time


def recording(n: int, fps: float = 50.0, seed: int = 0):
    """(x_Tx4, labels_T): six segments of equal length, the three regimes twice (the same structure at every
    length, so that only the length changes)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    t = np.arange(n) / fps
    lab = (np.arange(n) * 6 // n) % 3
    waves = [
        np.sin(2 * np.pi * 1.0 * t[:, None] + np.arange(4)),
        (t[:, None] * 0.7 + np.arange(4) / 4) % 1.0 * 2 - 1,
        rng.normal(size=(n, 4)),
    ]
    x = np.choose(lab[:, None], waves) + 0.05 * rng.normal(size=(n, 4))
    return x.astype(np.float32), lab


def one(n: int, max_cpd_samples: int | None) -> dict:
    import seq2seq_jax
    from seq2seq_jax import metrics, presets
    from seq2seq_jax.segmentation import SegmentConfig

    x, lab = recording(n)
    seg = presets.GENERIC.segment
    if max_cpd_samples:
        seg = SegmentConfig(**{**vars(seg), "max_cpd_samples": max_cpd_samples})
    t0 = time.perf_counter()
    res = seq2seq_jax.segment(x, 3, fps=50.0, hidden=32, iterations=200, source=50, target=25, seg=seg)
    return {
        "frames": n,
        **res.seconds,
        "total": time.perf_counter() - t0,
        "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
        "acc_hungarian": float(metrics.accuracy_hungarian(lab, res.labels)),
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--frames", type=int, nargs="+", default=[2000, 20_000, 40_000, 100_000, 400_000])
    p.add_argument(
        "--max_cpd_samples",
        type=int,
        default=None,
        help="override SegmentConfig.max_cpd_samples (e.g. 10**9: no cap, the behaviour before it)",
    )
    p.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)  # a single size, in this process
    a = p.parse_args(argv)
    if a.one:
        print(json.dumps(one(a.one, a.max_cpd_samples)))
        return 0
    print(f"{'frames':>8s} {'train s':>8s} {'embed s':>8s} {'segment s':>9s} {'peak GB':>8s} {'Hungarian':>9s}")
    for n in a.frames:
        cap = ["--max_cpd_samples", str(a.max_cpd_samples)] if a.max_cpd_samples else []
        proc = subprocess.run([sys.executable, __file__, "--one", str(n), *cap], capture_output=True, text=True)
        if proc.returncode:
            print(f"{n:8d} failed: {proc.stderr[-500:]}")
            continue
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        print(
            f"{n:8d} {r['train']:8.1f} {r['embed']:8.1f} {r['segment']:9.1f} {r['peak_rss_gb']:8.2f} "
            f"{r['acc_hungarian']:9.3f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
