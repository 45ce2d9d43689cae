"""What the server-side cost benches (bench/*_cost.py) share: one call timed many times, as median and p95.

Both import it from the repository root (the bench scripts put it on sys.path).
"""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_p95_ms(fn: Callable[[], object], n: int) -> tuple[float, float]:
    """(median, p95) milliseconds of `fn()` over `n` calls, after one call to warm up."""
    fn()  # warm
    runs = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - t) * 1000)
    runs.sort()
    return statistics.median(runs), runs[int(0.95 * (len(runs) - 1))]
