"""The issue's stress cases for saving, as numbers: two processes saving under one default name at the
same moment for many rounds, and SIGKILL at random moments while saving over a name.

    python bench/checkpoint_stress.py --rounds 200 --kills 100

Prints models lost, folders whose weights and card disagree, kills that landed mid-swap (the old model
put back by the next listing), leftovers, and the save time (median, p95), with `uptime`.
"""
from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from cnnviz import checkpoints as ck  # noqa: E402
from cnnviz.arch import PRESETS, build  # noqa: E402


def pair(seed: int) -> tuple[torch.nn.Module, dict]:
    torch.manual_seed(seed)
    model = build(PRESETS["logistic"])
    mark = round(float(sum(p.detach().double().sum() for p in model.parameters())), 6)
    return model, {"name": "m", "spec": PRESETS["logistic"].to_json(), "dataset": "mnist",
                   "normalize": [0.1307, 0.3081], "test_accuracy": 50.0, "seed": seed, "fingerprint": mark}


def whole(name: str) -> bool:
    model, card = ck.load(name)
    return abs(sum(float(p.detach().double().sum()) for p in model.parameters()) - card.extra["fingerprint"]) < 1e-4


def race(rounds: int) -> None:
    pairs = [pair(1), pair(2)]
    start = time.time() + 0.5
    pids = []
    for i in range(2):
        pid = os.fork()
        if pid == 0:
            time.sleep(max(0.0, start - time.time()))
            for _ in range(rounds):
                ck.save(*pairs[i])
            os._exit(0)
        pids.append(pid)
    for pid in pids:
        os.waitpid(pid, 0)
    names = [n for n in ck.available() if n == "m" or n.startswith("m-")]
    bad = sum(not whole(n) for n in names)
    print(f"race: 2 processes x {rounds} saves of 'm' at once -> {len(names)} checkpoints "
          f"({2 * rounds - len(names)} lost), {bad} with weights and card of different saves")


def kills(n: int, base: Path) -> None:
    pairs = {1: pair(1), 2: pair(2)}
    ck.save(*pairs[1], overwrite=True)
    times = []
    for i in range(20):
        t0 = time.perf_counter()
        ck.save(*pairs[1 + i % 2], overwrite=True)
        times.append(time.perf_counter() - t0)
    one = statistics.median(times)
    rng = random.Random(0)
    restored = bad = missing = leftovers = 0
    for r in range(n):
        pid = os.fork()
        if pid == 0:
            i = r
            while True:
                ck.save(*pairs[1 + i % 2], overwrite=True)
                i += 1
        time.sleep(rng.uniform(0, 3 * one))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        done = ck.cleanup(base)
        restored += sum(d.startswith("restored") for d in done)
        if "m" not in ck.available():
            missing += 1
            continue
        bad += not whole("m")
        leftovers += len([p for p in base.iterdir() if p.name.startswith(".")])
    p95 = statistics.quantiles(times, n=20)[-1]
    print(f"kill: {n} SIGKILLs while saving over 'm' -> {missing} times the name was empty, {bad} mixes, "
          f"{restored} kills landed mid-swap (old model put back), {leftovers} leftovers after the listing")
    print(f"save over a name (logistic, 7,850 parameters): median {one * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms")


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__)
    args.add_argument("--rounds", type=int, default=200)
    args.add_argument("--kills", type=int, default=100)
    opts = args.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["CNNVIZ_USER_CHECKPOINTS"] = str(Path(tmp) / "race")
        race(opts.rounds)
        os.environ["CNNVIZ_USER_CHECKPOINTS"] = str(Path(tmp) / "kill")
        kills(opts.kills, Path(tmp) / "kill")
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
