"""How often "not one of your classes?" (cnnviz.novelty, models of your own classes) fires.

    python bench/not_one_of_yours.py [--presets tutorial_a keras_small] [--seeds 0 1 2]

Two own datasets, each trained as the trainer trains them (TrainConfig's defaults, the run's augmented
split; the class shapes go into the card at the end of train.train):

- the shipped `shapes` (circle, square, triangle: 60 real drawings, 12 held out), against its held-out
  drawings and 20 augmented copies of each (false alarms), MNIST test digits drawn on the canvas and
  scribbles (bench/not_a_digit.py's generators);
- check, plus, wave drawn with PIL strokes of random place, size, tilt and brush (40 each, 8 held out), against
  60 fresh drawings of each (false alarms), circles drawn the same way, MNIST digits and scribbles.

Prints the share flagged for each set, per preset and seed, and the load average.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import not_a_digit  # noqa: E402

from cnnviz import arch, novelty, owndata, ownsplits, preprocess  # noqa: E402
from cnnviz import train as tr  # noqa: E402
from cnnviz.card import Card  # noqa: E402
from cnnviz.trainconfig import TrainConfig  # noqa: E402

SYNTHETIC = ("check", "plus", "wave")


def _polylines(kind: str, rng: np.random.Generator) -> list[list[tuple[float, float]]]:
    """The strokes of one shape, in [-1, 1] units."""
    if kind == "check":
        return [[(-0.6, 0.0), (-0.2, 0.5), (0.7, -0.7)]]
    if kind == "plus":
        return [[(-0.7, 0.0), (0.7, 0.0)], [(0.0, -0.7), (0.0, 0.7)]]
    if kind == "wave":
        a = rng.uniform(0.25, 0.45)
        return [[(t, a * math.sin(t * math.pi * 1.5)) for t in np.linspace(-0.8, 0.8, 30)]]
    if kind == "circle":
        e = rng.uniform(0.7, 1.0)
        return [[(0.7 * math.cos(t), 0.7 * e * math.sin(t)) for t in np.linspace(0, 2 * math.pi, 40)]]
    raise ValueError(f"no shape {kind!r}")


def shape_canvas(kind: str, rng: np.random.Generator) -> np.ndarray:
    """(280, 280, 4) uint8: one shape drawn with a round brush, as the canvas returns it."""
    img = Image.new("RGBA", (280, 280), (0, 0, 0, 255))
    pen = ImageDraw.Draw(img)
    size, (cx, cy), width, tilt = rng.uniform(50, 100), rng.uniform(100, 180, 2), int(rng.integers(12, 28)), \
        rng.uniform(-0.3, 0.3)
    for line in _polylines(kind, rng):
        xy = [(cx + size * (x * math.cos(tilt) - y * math.sin(tilt)),
               cy + size * (x * math.sin(tilt) + y * math.cos(tilt)))
              for x, y in line]
        pen.line(xy, fill="white", width=width, joint="curve")
    return np.asarray(img)


def drawings(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """(n, 28, 28) float32 in [0, 1]: n drawings of a shape through the Draw page's preparation."""
    return np.stack([preprocess.to_mnist(shape_canvas(kind, rng)).pixels for _ in range(n)]).astype(np.float32)


def own_splits(pixels: np.ndarray, labels: np.ndarray, classes: tuple[str, ...],
               seed: int = 0) -> tuple[ownsplits.OwnSplit, ownsplits.OwnSplit]:
    """(augmented training split, held-out split) of drawings in memory, exactly as ownsplits.splits makes them."""
    ds = owndata.OwnDataset("synthetic", Path("."), classes, tuple(() for _ in classes), False)
    train_idx, test_idx = ownsplits.stratified_split(labels, 0.2, seed)
    copies = ownsplits.copies_for(len(train_idx))
    train_x = ownsplits.augment(torch.from_numpy(pixels[train_idx]).unsqueeze(1), copies, seed)
    return (ownsplits._split(ds, "train", train_x, np.tile(labels[train_idx], copies)),
            ownsplits._split(ds, "test", pixels[test_idx], labels[test_idx]))


def train_own(train: ownsplits.OwnSplit, test: ownsplits.OwnSplit, preset: str = "tutorial_a",
              seed: int = 0) -> tuple[torch.nn.Module, dict]:
    """(model, card) trained as the trainer trains an own dataset (TrainConfig's defaults)."""
    spec = arch.with_num_classes(arch.PRESETS[preset], len(train.classes))
    config = TrainConfig(dataset=train.name, seed=seed, live_every_s=0, snapshots_per_epoch=0, val_every=0)
    result = tr.train(spec, config, train, test)
    return result.model, Card.from_result(result, f"{preset}-{seed}", how="bench/not_one_of_yours.py")


def flagged(model: torch.nn.Module, card: dict, pixels: np.ndarray) -> np.ndarray:
    """(N,) bool: would the Draw page warn "not one of your classes?" for each (28, 28) picture."""
    mean, std = card.normalize
    x = (torch.from_numpy(np.asarray(pixels, dtype=np.float32))[:, None] - mean) / std
    with torch.no_grad():
        probs = torch.softmax(model(x), 1).numpy()
    feats = novelty.features(model, x, novelty.ClassShapes.from_card(card).layer)
    return np.array([novelty.for_card(card, p, q, f) is not None for p, q, f in zip(pixels, probs, feats)])


def held_out_pixels(test: ownsplits.OwnSplit, copies: int = 20) -> np.ndarray:
    """A held-out split's drawings in [0, 1] and `copies` - 1 augmented copies of each."""
    mean, std = owndata.NORMALIZE
    return ownsplits.augment(test.images * std + mean, copies, seed=5)[:, 0].numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="*", default=["tutorial_a", "keras_small", "lenet5"])
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    args = parser.parse_args()
    torch.set_num_threads(1)
    rng = np.random.default_rng(1)
    digits = np.stack(not_a_digit.prepared("mnist", not_a_digit.mnist(500, 2000, rng)))
    scribbles = np.stack(not_a_digit.prepared("scribbles", [not_a_digit.scribble(rng) for _ in range(300)]))
    synthetic = [drawings(k, 40, rng) for k in SYNTHETIC]
    fresh = np.concatenate([drawings(k, 60, rng) for k in SYNTHETIC])
    circles = drawings("circle", 300, rng)
    print(f"not-one-of-your-classes warning (cnnviz.novelty), load average {os.getloadavg()[0]:.2f}")
    for seed in args.seeds:
        shipped = ownsplits.splits("shapes", seed)
        mine = own_splits(np.concatenate(synthetic), np.repeat(np.arange(3), 40), SYNTHETIC, seed)
        for preset in args.presets:
            model, card = train_own(*shipped, preset, seed)
            rates = {f"shapes held-out ({len(shipped[1])} + copies)": flagged(model, card, held_out_pixels(shipped[1])),
                     "MNIST digits": flagged(model, card, digits), "scribbles": flagged(model, card, scribbles)}
            model, card = train_own(*mine, preset, seed)
            rates |= {"check/plus/wave fresh": flagged(model, card, fresh),
                      "circles": flagged(model, card, circles), "MNIST digits ": flagged(model, card, digits)}
            print(f"seed {seed} {preset:12s} " + "  ".join(f"{k}: {v.mean():.1%}" for k, v in rates.items()))


if __name__ == "__main__":
    main()
