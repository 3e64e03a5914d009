"""The one timing rule of the benchmarks: the median wall time of ``fn`` over ``reps`` calls after ``warmup``."""

from __future__ import annotations

import statistics
import time


def median_seconds(fn, reps: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def median_ms(fn, reps: int, warmup: int = 1) -> float:
    return 1000 * median_seconds(fn, reps, warmup)
