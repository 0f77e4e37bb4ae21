"""The one timing rule of the speed benchmarks, standard library only: the TorchQuantum
worker imports it too, from its own venv, where neither qimage nor PennyLane is."""

from __future__ import annotations

import statistics
import time


def timed(fn, min_time: float, repeats: int = 3, warm_up: bool = True) -> float:
    """Median seconds per call, after one warm-up, over ``repeats`` calls and ``min_time``."""
    if warm_up:
        fn()
    times, start = [], time.perf_counter()
    while len(times) < repeats or time.perf_counter() - start < min_time:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)
