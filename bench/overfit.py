"""The overfitting figures of the README: tutorial_a trained on 200 MNIST training images (20 per class), tested
on the 10,000 test images, with and without augmentation and dropout, over 3 seeds. Prints, per setting and seed,
the accuracy on the 200 training images, on the test images, and the gap; then the medians.

    python bench/overfit.py [--n 200] [--epochs 30] [--seeds 0 1 2]

The same run as the trainer's (cnnviz.train.train, its defaults: SGD + Nesterov momentum, one-cycle to lr 0.075,
label smoothing 0.1), batch 32; `uptime` is printed with it (the time per run depends on the load, the figures
do not).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cnnviz import arch, data  # noqa: E402
from cnnviz import train as tr  # noqa: E402
from cnnviz.trainconfig import TrainConfig  # noqa: E402

SETTINGS = {"plain": {}, "augmentation": {"augment": True}, "dropout 0.5": {"dropout": 0.5},
            "augmentation + dropout 0.5": {"augment": True, "dropout": 0.5}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--epochs", type=float, default=30)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = ap.parse_args()
    print(f"uptime: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    train, test = data.load("mnist", "train"), data.load("mnist", "test")
    rows = []
    for name, extra in SETTINGS.items():
        gaps, tests = [], []
        for seed in args.seeds:
            config = TrainConfig(train_images=args.n, epochs=args.epochs, batch_size=32, seed=seed, live_every_s=0,
                                 snapshots_per_epoch=0, val_every=0, **extra)
            start = time.perf_counter()
            r = tr.train(arch.PRESETS["tutorial_a"], config, train, test)
            seen, held = r.train_evaluation.accuracy, r.evaluation.accuracy
            gaps.append(seen - held)
            tests.append(held)
            print(f"{name:28} seed {seed}: train {seen:6.2f}%  test {held:6.2f}%  gap {seen - held:5.2f}  "
                  f"({time.perf_counter() - start:.1f} s)", flush=True)
        rows.append((name, statistics.median(tests), statistics.median(gaps), min(gaps), max(gaps)))
    print(f"\nmedians over seeds {args.seeds}, {args.n} training images, {args.epochs:g} epochs:")
    print("| setting | test accuracy | train − test gap (points) |\n|---|---|---|")
    for name, held, gap, lo, hi in rows:
        print(f"| {name} | {held:.1f}% | {gap:.1f} ({lo:.1f}–{hi:.1f}) |")
    print(f"uptime after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
