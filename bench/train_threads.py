"""Thread count and OpenMP wait policy for training on a small shared CPU: idle and beside a busy neighbour.

    python bench/train_threads.py [--batches 60] [--repeats 2]

Each setting trains tutorial_a (batch 128, cnnviz's trainer) in a FRESH process, because OMP_WAIT_POLICY is
read once, when torch starts its OpenMP pool. "busy neighbour" is one extra process spinning on a core for
the whole measurement (the browser, the server, another student's run on a classroom laptop). Prints the
median img/s of each setting and `uptime` (other load on the machine counts too).
"""
from __future__ import annotations

import argparse
import itertools
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHILD = """
import sys, torch
sys.path.insert(0, {root!r})
from cnnviz import data, train as tr
from cnnviz.trainconfig import TrainConfig
from cnnviz.arch import PRESETS
torch.set_num_threads({threads})
split = data.load("mnist", "train").subset(20_000)
tr.train(PRESETS["tutorial_a"], TrainConfig(max_batches=5, val_every=0, snapshots_per_epoch=0), split)  # warm-up
r = tr.train(PRESETS["tutorial_a"], TrainConfig(max_batches={batches}, val_every=0, snapshots_per_epoch=0), split)
print(r.images_per_s)
"""
SPIN = "import time\nend = time.time() + 600\nwhile time.time() < end: pass\n"


def measure(policy: str | None, threads: int, batches: int) -> float:
    """img/s of one fresh training process with this OMP_WAIT_POLICY (None: torch's default) and thread count."""
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if policy:
        env["OMP_WAIT_POLICY"] = policy
    code = CHILD.format(root=str(ROOT), threads=threads, batches=batches)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batches", type=int, default=60)
    p.add_argument("--repeats", type=int, default=2)
    args = p.parse_args()
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(), flush=True)
    for busy in (False, True):
        spin = subprocess.Popen([sys.executable, "-c", SPIN]) if busy else None
        try:
            for policy, threads in itertools.product((None, "PASSIVE"), (1, 2)):
                runs = [measure(policy, threads, args.batches) for _ in range(args.repeats)]
                print(f"{'busy neighbour' if busy else 'no neighbour  '}  OMP_WAIT_POLICY={policy or 'default':8} "
                      f"threads={threads}: median {statistics.median(runs):7,.0f} img/s  "
                      f"(runs: {', '.join(f'{r:,.0f}' for r in runs)})", flush=True)
        finally:
            if spin is not None:
                spin.kill()
                spin.wait()
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
