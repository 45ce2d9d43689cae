"""How many drawings per class does an own dataset need before *Draw a digit* reads new drawings right?

    python bench/own_few_drawings.py [--per-class 3 5 8 12 20] [--trials 6] [--fresh 50] [--pairs bar-ring ...]

For each pair of classes and each number N of drawings per class, `--trials` times: N drawings of each class
rendered like a mouse on the app's canvas (tools/make_shapes.py: a wobbly path with a round brush 14-26 px wide,
any size, anywhere; bars of any length and a slant), saved through *Make a dataset*'s own path
(`owndata.add_drawing`), split and augmented as the trainer does (`ownsplits.splits`), trained with the trainer's
defaults (tutorial_a, TrainConfig()), saved and loaded as a checkpoint, then asked about `--fresh` NEW drawings of
each class through Draw's path (`preprocess.to_mnist(...).normalized(card.normalize)`).

Prints per N: the new drawings read right (median and worst trial), the share of trials where every class got at
least 90% right, the trainer's held-out accuracy beside it, and `uptime`.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as app.py sets it before torch starts
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

import make_shapes  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from cnnviz import arch, checkpoints, owndata, ownsplits, preprocess, registry  # noqa: E402
from cnnviz import train as tr  # noqa: E402
from cnnviz.card import Card  # noqa: E402
from cnnviz.trainconfig import TrainConfig  # noqa: E402


def bar(rng: np.random.Generator) -> np.ndarray:
    """A roughly vertical stroke of any length, slanted up to ~15 degrees either way, a little bowed."""
    half, tilt = rng.uniform(50, 115), rng.uniform(-15, 15)
    s = np.linspace(-1, 1, 40)[:, None]
    line = np.concatenate([np.sin(np.pi * (s + 1) / 2) * rng.normal(0, 4), s * half], 1)
    return make_shapes._rotate(line, tilt)


SHAPES = {**make_shapes.SHAPES, "bar": bar, "ring": make_shapes.circle}


def canvas(kind: str, rng: np.random.Generator) -> np.ndarray:
    """(280, 280, 4) uint8: one drawing of `kind` as the canvas returns it."""
    return make_shapes.render(SHAPES[kind](rng), rng)


def make_dataset(name: str, classes: tuple[str, ...], n: int, rng: np.random.Generator) -> None:
    """`n` drawings of each class, saved through Make a dataset's path."""
    owndata.create(name, list(classes))
    for cls in classes:
        made = 0
        while made < n:
            try:
                owndata.add_drawing(name, cls, canvas(cls, rng))
                made += 1
            except ValueError:  # the same picture after preparation as one already kept: drawn again
                continue


def train_and_save(name: str, seed: int, folder: Path) -> tuple[torch.nn.Module, Card, float]:
    """(the checkpoint as Draw loads it, its card, the trainer's held-out accuracy) for the trainer's defaults."""
    key = registry.PREFIX + name
    train_split, test_split = ownsplits.splits(key, seed)
    spec = registry.fit_spec(arch.PRESETS["tutorial_a"], key)
    result = tr.train(spec, TrainConfig(dataset=key, seed=seed, augment=True), train_split, test_split)
    out = checkpoints.save(result.model, Card.from_result(result, name, "bench/own_few_drawings.py"), folder / name)
    model, card = checkpoints.load(out)
    return model, card, result.test_accuracy


def read_right(model: torch.nn.Module, card: Card, classes: tuple[str, ...], fresh: int,
               rng: np.random.Generator) -> dict[str, float]:
    """Per class, the share of `fresh` new drawings Draw reads as that class."""
    out = {}
    for cls in classes:
        x = torch.cat([preprocess.to_mnist(canvas(cls, rng)).normalized(card.normalize) for _ in range(fresh)])
        with torch.no_grad():
            answers = model(x).argmax(1)
        out[cls] = float((answers == card.classes.index(cls)).float().mean())
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--per-class", nargs="+", type=int, default=[3, 5, 8, 12, 20])
    p.add_argument("--trials", type=int, default=6)
    p.add_argument("--fresh", type=int, default=50)
    p.add_argument("--pairs", nargs="+", default=["bar-ring", "circle-square-triangle"])
    args = p.parse_args()
    torch.set_num_threads(1)
    owndata.MIN_EXAMPLES = min(owndata.MIN_EXAMPLES, *args.per_class)  # measured below the page's floor too
    work = Path(tempfile.mkdtemp(prefix="own-few-"))
    os.environ["CNNVIZ_USER_DATA"] = str(work / "data")
    for pair in args.pairs:
        classes = tuple(sorted(pair.split("-")))
        for n in args.per_class:
            rows = []
            for trial in range(args.trials):
                rng = np.random.default_rng(1000 * n + trial)
                name = f"{pair}-{n}-{trial}"
                make_dataset(name, classes, n, rng)
                model, card, held = train_and_save(name, trial, work / "ckpt")
                right = read_right(model, card, classes, args.fresh, rng)
                rows.append((statistics.mean(right.values()), min(right.values()), held))
                print(f"  {pair} N={n} trial {trial}: new drawings read right {rows[-1][0]:.0%} (worst class "
                      f"{rows[-1][1]:.0%}), trainer's held-out {held:.0f}%", flush=True)
            means = [r[0] for r in rows]
            good = sum(r[1] >= 0.9 for r in rows)
            print(f"{pair} N={n}: new drawings read right median {statistics.median(means):.0%}, worst trial "
                  f"{min(means):.0%}; every class >= 90% in {good}/{len(rows)} trials; held-out reported median "
                  f"{statistics.median(r[2] for r in rows):.0f}%", flush=True)
    print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
