"""Make the shipped example dataset `datasets/shapes` (circle, square, triangle; 20 drawings each).

    python tools/make_shapes.py [--out datasets] [--per-class 20] [--seed 0]

Each shape is drawn the way a hand drags a mouse across the app's 280x280 canvas: a wobbly
path with a round brush 14-26 px wide, not quite closed, of any size and anywhere on the canvas.
The canvas picture then takes exactly the path a drawing on the "Make a dataset" page takes:
`owndata.add_drawing` -> `preprocess.to_mnist` (crop, longer side to 20 px, centre of mass) -> PNG.
"""
from __future__ import annotations

import argparse
import math
import os
import shutil
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from cnnviz import owndata  # noqa: E402

SIDE = 280


def _wobble(points: np.ndarray, rng: np.random.Generator, amount: float) -> np.ndarray:
    """Smooth hand tremor: low-pass filtered noise added along the path."""
    noise = rng.normal(0, amount, points.shape)
    kernel = np.ones(7) / 7
    smooth = np.stack([np.convolve(noise[:, i], kernel, mode="same") for i in range(2)], 1)
    return points + smooth * 2.5


def circle(rng: np.random.Generator) -> np.ndarray:
    """An ellipse-ish loop, started anywhere, a little short of or past closed."""
    r, aspect = rng.uniform(45, 110), rng.uniform(0.8, 1.2)
    start, sweep = rng.uniform(0, 2 * math.pi), rng.uniform(1.85, 2.08) * math.pi
    t = start + np.linspace(0, sweep, 80)
    radial = 1 + 0.06 * np.sin(2 * t + rng.uniform(0, 6)) + rng.uniform(-0.04, 0.04)
    return np.stack([r * aspect * radial * np.cos(t), r * radial * np.sin(t)], 1)


def _polygon(corners: np.ndarray, rng: np.random.Generator, per_side: int = 25) -> np.ndarray:
    """Straight-ish sides through the corners, the last side ending near (not exactly at) the start."""
    pts = []
    for a, b in zip(corners, np.roll(corners, -1, axis=0)):
        s = np.linspace(0, 1, per_side, endpoint=False)[:, None]
        bow = np.sin(np.pi * s) * rng.normal(0, 4)  # a side is never perfectly straight
        normal = np.array([-(b - a)[1], (b - a)[0]]) / (np.linalg.norm(b - a) + 1e-9)
        pts.append(a + (b - a) * s + bow * normal)
    pts.append(corners[:1] + rng.normal(0, 5, (1, 2)))
    return np.concatenate(pts)


def _rotate(points: np.ndarray, degrees: float) -> np.ndarray:
    a = math.radians(degrees)
    return points @ np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]]).T


def square(rng: np.random.Generator) -> np.ndarray:
    """Four corners of a rough square, slightly tilted."""
    half, aspect = rng.uniform(40, 100), rng.uniform(0.85, 1.15)
    corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], float) * [half * aspect, half]
    corners += rng.normal(0, 5, corners.shape)
    start = int(rng.integers(4))  # people start a square at any corner
    return _rotate(_polygon(np.roll(corners, start, axis=0), rng), rng.uniform(-10, 10))


def triangle(rng: np.random.Generator) -> np.ndarray:
    """Three corners of a rough upright triangle."""
    r = rng.uniform(50, 115)
    angles = np.deg2rad([-90, 30, 150]) + rng.normal(0, 0.08, 3)
    corners = np.stack([r * np.cos(angles), r * np.sin(angles) * rng.uniform(0.85, 1.1)], 1)
    return _rotate(_polygon(corners, rng, 33), rng.uniform(-12, 12))


SHAPES = {"circle": circle, "square": square, "triangle": triangle}


def render(points: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draw the path with a round white brush on the black canvas: (280, 280, 4) uint8, as the canvas returns."""
    span = points.max(0) - points.min(0)
    room = np.maximum(SIDE - 30 - span, 0)
    offset = 15 + rng.uniform(0, 1, 2) * room - points.min(0)
    pts = _wobble(points, rng, 1.2) + offset
    width = int(rng.integers(14, 27))
    img = Image.new("RGBA", (SIDE, SIDE), (0, 0, 0, 255))
    draw = ImageDraw.Draw(img)
    xy = [tuple(p) for p in pts]
    draw.line(xy, fill=(255, 255, 255, 255), width=width, joint="curve")
    for x, y in (xy[0], xy[-1]):  # round caps
        draw.ellipse([x - width / 2, y - width / 2, x + width / 2, y + width / 2], fill=(255, 255, 255, 255))
    return np.asarray(img)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(owndata.SHIPPED), help="folder to hold shapes/ (default: datasets/)")
    p.add_argument("--per-class", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    work = Path(args.out) / ".make-shapes"
    shutil.rmtree(work, ignore_errors=True)
    os.environ["CNNVIZ_USER_DATA"] = str(work)  # made as a user dataset, then moved where it ships
    owndata.create("making", list(SHAPES))  # (the name "shapes" is the shipped one's)
    rng = np.random.default_rng(args.seed)
    for cls, shape in SHAPES.items():
        made = 0
        while made < args.per_class:
            try:
                owndata.add_drawing("making", cls, render(shape(rng), rng))
                made += 1
            except ValueError:  # the same picture as one already kept, after preparation: draw another
                continue
    target = Path(args.out) / "shapes"
    shutil.rmtree(target, ignore_errors=True)
    os.rename(work / "making", target)
    shutil.rmtree(work, ignore_errors=True)
    size = sum(f.stat().st_size for f in target.rglob("*.png"))
    print(f"{target}: {args.per_class} drawings x {len(SHAPES)} classes, {size / 1024:.0f} kB")


if __name__ == "__main__":
    main()
