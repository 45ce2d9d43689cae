"""The tutorials' table, reproduced: what the trainer's "Reproduce the tutorials" button runs, from the command line.

    python bench/tutorials.py [--seed 0]

Trains Models A, B and C (tutorial_a/b/c) with the tutorials' recipe (plain ToTensor() pixels in [0, 1], fp32,
SGD lr 0.01 without momentum, batch 100, 3,000 iterations), then the same networks on normalised inputs: six runs
through `cnnviz.tutorials.reproduce_tutorials` on the real MNIST ($CNNVIZ_DATA), the same call the page makes. Prints
each run's test accuracy and time, then the table the page shows (published, reproduced, difference, normalised),
whether each reproduced figure is within 1 point of the published one, and `uptime`.
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as app.py and the CLI

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import replace  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cnnviz import data, tutorials  # noqa: E402
from cnnviz import train as tr  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    print("uptime before:", os.popen("uptime").read().strip(), flush=True)
    train_split, test_split = data.load("mnist", "train"), data.load("mnist", "test")
    t0, results = time.perf_counter(), []

    def progress(ev: tr.Progress) -> None:
        if ev.batch == ev.total_batches:
            print(f"  {ev.job}: {ev.batch:,} batches, {ev.images_per_s:,.0f} img/s", flush=True)

    results = tutorials.reproduce_tutorials(train_split, test_split, progress,
                                            config=replace(tutorials.TUTORIAL_CONFIG, seed=args.seed))
    for r in results:
        print(f"{r.spec.name}{' normalised' if r.config.normalize else ''}: {r.test_accuracy:.2f}% in "
              f"{r.train_seconds:.1f} s ({r.precision})", flush=True)
    table = tutorials.tutorial_table(results)
    for row in table:
        print(f"{row['']:<58}" + "".join(f"{'' if row[k] is None else row[k]:>12}" for k in tutorials.PUBLISHED))
    gaps = table[2]
    print("within 1 point of the published figure: " +
          ", ".join(f"{k} {'yes' if v is not None and abs(v) <= 1 else 'NO'}" for k, v in gaps.items() if k))
    print(f"total {time.perf_counter() - t0:.0f} s; uptime after:", os.popen("uptime").read().strip())


if __name__ == "__main__":
    main()
