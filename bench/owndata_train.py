"""Own dataset: from the files of 3 classes x 20 drawings to a trained, tested model, as the trainer does it.

    python bench/owndata_train.py [--dataset shapes] [--presets tutorial_a keras_small] [--seeds 0 1 2]

Each run times the whole path a click on *Start training* takes for an own dataset: read the PNGs,
stratified split (80/20, seeded), augmentation, training with the trainer's default settings
(SGD + momentum, one-cycle lr 0.075, label smoothing 0.1, batch 128, 1.5 epochs) and the held-out evaluation. Prints the
seconds and the held-out accuracy of every run, then the median and the worst time per preset.
Target on the 2-core CPU: <= 20 s to a usable model (held-out accuracy well above chance).
OMP_WAIT_POLICY=PASSIVE as in the app (app.py sets it before torch loads), unless set already.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as app.py sets it before torch starts (in-app training)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from cnnviz import arch, owndata, ownsplits, registry  # noqa: E402
from cnnviz import train as tr  # noqa: E402
from cnnviz.device import describe, pick_device  # noqa: E402
from cnnviz.trainconfig import TrainConfig  # noqa: E402


def one_run(key: str, preset: str, seed: int) -> tuple[float, float, int, int]:
    """(seconds, held-out accuracy %, training images, test images) for one click on Start training."""
    t0 = time.perf_counter()
    train_split, test_split = ownsplits.splits(key, seed)
    spec = registry.fit_spec(arch.PRESETS[preset], key)
    result = tr.train(spec, TrainConfig(dataset=key, seed=seed), train_split, test_split)
    return time.perf_counter() - t0, result.test_accuracy, len(train_split), len(test_split)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="shapes")
    p.add_argument("--presets", nargs="+", default=["tutorial_a", "keras_small"])
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    args = p.parse_args()
    key = registry.PREFIX + args.dataset
    ds = owndata.open_dataset(key)
    print(f"{ds.name}: {ds.counts} on {describe(pick_device())}; load average {os.getloadavg()}")
    for preset in args.presets:
        times, accs = [], []
        for seed in args.seeds:
            seconds, acc, n_train, n_test = one_run(key, preset, seed)
            times.append(seconds)
            accs.append(acc)
            print(f"  {preset} seed {seed}: {seconds:.1f} s, held-out {acc:.1f}% ({n_train} augmented training "
                  f"images, {n_test} held out); load {os.getloadavg()[0]:.2f}", flush=True)
        print(f"{preset}: median {statistics.median(times):.1f} s, worst {max(times):.1f} s; held-out accuracy "
              f"median {statistics.median(accs):.1f}%, worst {min(accs):.1f}% (chance {100 / len(ds.classes):.0f}%)")


if __name__ == "__main__":
    main()
