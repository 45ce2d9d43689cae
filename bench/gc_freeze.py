"""What Streamlit's `gc.collect(2)` after every script run costs with torch, plotly and pandas loaded, before
and after `cnnviz.warmup.freeze_imports()`.

    python bench/gc_freeze.py [--n 15]

Imports what app.py imports, times `gc.collect(2)` n times (median, p95), freezes, times it again; prints both,
their ratio, the number of frozen objects and `uptime`. Each stroke on Draw costs at least one such collection
(`runner.postScriptGC`, on by default).
"""
from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def collect_ms(n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        gc.collect(2)
        out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=15)
    n = p.parse_args().n
    import streamlit  # noqa: F401  (the server has it loaded too)

    from cnnviz import warmup

    for name in warmup.HEAVY:
        __import__(name)
    before = collect_ms(n)
    warmup.freeze_imports()
    after = collect_ms(n)
    b, a = statistics.median(before), statistics.median(after)
    p95 = lambda xs: sorted(xs)[int(0.95 * (len(xs) - 1))]  # noqa: E731
    print(f"gc.collect(2) with the app's imports: {b:.1f} ms (p95 {p95(before):.1f}) before freeze, "
          f"{a * 1000:.0f} us (p95 {p95(after) * 1000:.0f} us) after; {gc.get_freeze_count():,} objects frozen")
    print("uptime:", os.popen("uptime").read().strip())


if __name__ == "__main__":
    main()
