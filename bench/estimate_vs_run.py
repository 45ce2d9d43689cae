"""The training-time estimate against the run it estimates, on this machine.

    python bench/estimate_vs_run.py [--presets logistic tutorial_a keras_small] [--epochs 1.5] [--max-batches N]

For each preset: the estimate both pages show (cnnviz.traintime.verdict, timed in this process as the
server times it), then the same run as the trainer's Start button makes it (its own spawned process through
cnnviz.worker, live view, snapshots and held-out curve on, tested at the end). Prints estimate, the loop's
measured seconds (what the trainer's summary line says), the whole run's wall time (spawn and test
included), their ratios, and `uptime` before and after: the target is a ratio within 0.7-1.3.
OMP_WAIT_POLICY=PASSIVE as in the app (app.py sets it before torch loads), unless set already.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as app.py sets it before torch starts
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from cnnviz import data, traintime, worker  # noqa: E402
from cnnviz import train as tr  # noqa: E402
from cnnviz.arch import PRESETS  # noqa: E402
from cnnviz.device import describe, pick_device  # noqa: E402
from cnnviz.trainconfig import (
    TrainConfig,  # noqa: E402
    total_batches,  # noqa: E402
)


def uptime() -> str:
    """The `uptime` line (load averages), or os.getloadavg() where there is no uptime command."""
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return f"load average {os.getloadavg()}"


def estimate(preset: str, config: TrainConfig, train: data.Split, test: data.Split) -> float:
    """The estimate the pages show for this run, in seconds."""
    return traintime.verdict(PRESETS[preset], config, len(train), len(test)).estimate.seconds


def run(preset: str, config: TrainConfig, train: data.Split, test: data.Split) -> tuple[float, float]:
    """(the loop's measured s, the whole run's wall s): the run as the trainer's Start button makes it."""
    t0 = time.perf_counter()
    result = worker.run(tr.train, (PRESETS[preset], config, train, test))
    return result.train_seconds, time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--presets", nargs="+", default=["logistic", "tutorial_a", "keras_small"])
    p.add_argument("--epochs", type=float, default=TrainConfig.epochs)
    p.add_argument("--max-batches", type=int, default=None)
    args = p.parse_args()
    config = TrainConfig(epochs=args.epochs, max_batches=args.max_batches)  # the trainer's defaults otherwise
    train, test = data.load("mnist", "train"), data.load("mnist", "test")
    print(f"{total_batches(len(train), config)} batches of {config.batch_size} on {describe(pick_device())}")
    print(f"before: {uptime()}", flush=True)
    # every estimate first, as a page shows it before Start: a finished run's process can take seconds to exit
    # (cnnviz.worker._reap), and timing beside it would measure that instead
    estimates = {preset: estimate(preset, config, train, test) for preset in args.presets}
    print(f"estimated: {uptime()}", flush=True)
    for preset in args.presets:
        est, (loop, wall) = estimates[preset], run(preset, config, train, test)
        print(f"  {preset}: estimate {est:.1f} s, trained {loop:.1f} s (ratio {est / loop:.2f}), whole run "
              f"{wall:.1f} s (ratio {est / wall:.2f}); {uptime()}", flush=True)
        time.sleep(3)  # let its process exit before the next run starts
    print(f"after: {uptime()}")


if __name__ == "__main__":
    main()
