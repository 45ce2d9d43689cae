"""What the live view costs the training: tutorial_a with and without it, alternating windows in one process.

    python bench/train_liveview.py [--windows 4] [--window-batches 300]

"with" = what the trainer page runs: a live frame about once a second (first-layer filters + the 16-digit
grid's guesses, one forward of 16 images) and a weight snapshot every quarter epoch. "without" = neither.
Both skip the held-out curve (val_every=0), which the page also draws (every 100 batches) but is not the live
view. Prints each window, the medians, and the cost in percent (target < 5%), with `uptime`.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as app.py does, before torch loads

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from cnnviz import data  # noqa: E402
from cnnviz import train as tr  # noqa: E402
from cnnviz.arch import PRESETS  # noqa: E402
from cnnviz.trainconfig import TrainConfig  # noqa: E402


def window(train_split: data.Split, test_split: data.Split, batches: int, live: bool) -> tuple[float, int, int]:
    """(img/s, live frames, snapshots) of one window of `batches` batches of 128."""
    config = TrainConfig(max_batches=batches, val_every=0, live_every_s=1.0 if live else 0,
                            snapshots_per_epoch=4 if live else 0)
    result = tr.train(PRESETS["tutorial_a"], config, train_split, test_split if live else None)
    return result.images_per_s, sum(e.frame is not None for e in result.history), len(result.snapshots)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--windows", type=int, default=4)
    p.add_argument("--window-batches", type=int, default=300)
    args = p.parse_args()
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(), flush=True)
    train_split, test_split = data.load("mnist", "train"), data.load("mnist", "test")
    window(train_split, test_split, 10, True)  # warm-up
    with_, without = [], []
    for w in range(args.windows):  # alternate, so other load on the machine slows both alike
        for live in (w % 2 == 0, w % 2 == 1):
            rate, frames, snaps = window(train_split, test_split, args.window_batches, live)
            (with_ if live else without).append(rate)
            print(f"window {w + 1} {'with   ' if live else 'without'} live view: {rate:,.0f} img/s"
                  + (f" ({frames} frames, {snaps} snapshots)" if live else ""), flush=True)
    a, b = statistics.median(with_), statistics.median(without)
    print(f"median: with {a:,.0f} img/s, without {b:,.0f} img/s: the live view costs {100 * (1 - a / b):.1f}% "
          f"(target < 5%)")
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
