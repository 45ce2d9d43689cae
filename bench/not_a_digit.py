"""How often the "not a digit?" warning (cnnviz.novelty) fires: false alarms on MNIST, hits on other things.

    python bench/not_a_digit.py [--n 2000] [--checkpoint tutorial_a ...]

MNIST test digits are drawn as 280x280 canvases as the brush draws them (scale 3-10, anywhere, some
thick; the same renderer as bench/draw_latency.py), NOT the 2,000 digits the thresholds were chosen on
(those were the first 2,000 of the same shuffled order; these are the next n). Against them:
scribbles (1-3 random brush strokes), letters (41 letters that share no shape with a digit, 5 DejaVu
fonts, random size and weight) and photos (skimage.data pictures, random square crops, through the
upload path). Prints the share flagged for each, per model, and the load average.
"""
from __future__ import annotations

import argparse
import io
import os
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cnnviz import checkpoints, data, novelty, preprocess  # noqa: E402

FONTS = Path("/usr/share/fonts/truetype/dejavu")
LETTERS = "ABCDEFHJKLMNPQRTUVWXYabcdefhkmnpqrtuvwxy"  # no O, I, l, S, Z, G, g, o, s, z, i, j, e: digit look-alikes
PHOTOS = ("astronaut", "camera", "chelsea", "coffee", "coins", "rocket", "page", "moon", "text", "horse",
          "hubble_deep_field", "immunohistochemistry", "brick", "grass", "gravel", "cat", "clock", "retina")


def mnist(n: int, skip: int, rng: np.random.Generator) -> list[np.ndarray]:
    raw = data.load("mnist", "test", download=False).raw()[:, 0].numpy()
    out = []
    for i in np.random.default_rng(0).permutation(len(raw))[skip:skip + n]:
        scale = float(rng.uniform(3, 10))
        room = max(0, 280 - round(28 * scale))
        top, left = (int(v) for v in rng.integers(0, room + 1, size=2))
        out.append(preprocess.render_canvas(raw[i], scale, top, left, thicken=int(rng.integers(0, 4))))
    return out


def scribble(rng: np.random.Generator) -> np.ndarray:
    img = Image.new("RGBA", (280, 280), (0, 0, 0, 255))
    pen = ImageDraw.Draw(img)
    for _ in range(rng.integers(1, 4)):
        points = [tuple(rng.uniform(30, 250, 2))]
        for _ in range(rng.integers(3, 12)):
            points.append(tuple(np.clip(np.array(points[-1]) + rng.normal(0, 60, 2), 5, 275)))
        pen.line(points, fill="white", width=int(rng.integers(12, 28)), joint="curve")
    return np.asarray(img)


def letter(char: str, font: str, rng: np.random.Generator) -> np.ndarray:
    img = Image.new("RGBA", (280, 280), (0, 0, 0, 255))
    face = ImageFont.truetype(str(FONTS / font), int(rng.integers(120, 200)))
    ImageDraw.Draw(img).text((60, 20), char, font=face, fill="white", stroke_width=int(rng.integers(0, 6)),
                             stroke_fill="white")
    return np.asarray(img)


def photos(rng: np.random.Generator, names: tuple[str, ...] = PHOTOS) -> list[bytes]:
    import skimage.data
    out = []
    for name in names:
        picture = np.asarray(getattr(skimage.data, name)(), dtype=None)
        if picture.dtype == bool:
            picture = picture.astype(np.uint8) * 255
        if picture.dtype != np.uint8:
            picture = (255 * (picture - picture.min()) / (np.ptp(picture) + 1e-9)).astype(np.uint8)
        for _ in range(4):
            h, w = picture.shape[:2]
            side = int(min(h, w) * rng.uniform(0.4, 1.0))
            y, x = rng.integers(0, h - side + 1), rng.integers(0, w - side + 1)
            buf = io.BytesIO()
            Image.fromarray(picture[y:y + side, x:x + side]).save(buf, format="PNG")
            out.append(buf.getvalue())
    return out


def prepared(kind: str, items: list) -> list[np.ndarray]:
    out = []
    for item in items:
        try:
            out.append((preprocess.from_upload(item) if kind == "photos" else preprocess.to_mnist(item)).pixels)
        except ValueError:
            pass  # refused before any answer (a dot, a blank picture): no warning needed
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--checkpoint", nargs="*", default=["tutorial_a", "tutorial_b", "tutorial_c", "keras_small",
                                                              "conv32_64", "lenet5"])
    args = parser.parse_args()
    torch.set_num_threads(1)
    rng = np.random.default_rng(1)
    fonts = [f for f in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSerif.ttf", "DejaVuSansMono.ttf",
                         "DejaVuSerif-Bold.ttf") if (FONTS / f).exists()]
    sets = {"MNIST test digits (false alarms)": prepared("mnist", mnist(args.n, 2000, rng)),
            "scribbles": prepared("scribbles", [scribble(rng) for _ in range(300)]),
            "letters": prepared("letters", [letter(c, f, rng) for c in LETTERS for f in fonts]),
            "photos": prepared("photos", photos(rng))}
    print(f"not-a-digit warning (cnnviz.novelty), load average {os.getloadavg()[0]:.2f}")
    print("model        " + "  ".join(f"{k.split(' (')[0]} ({len(v)})" for k, v in sets.items()))
    for name in args.checkpoint:
        model, card = checkpoints.load(name)
        rates = []
        for pix in sets.values():
            x = (torch.from_numpy(np.stack(pix))[:, None] - card.normalize[0]) / card.normalize[1]
            with torch.no_grad():
                probs = torch.softmax(model(x), 1).numpy()
            smoothing = novelty.smoothing_of(card)  # a smoothed model's "unsure" threshold is lower
            rates.append(np.mean([novelty.judge(p, q, smoothing).unlike for p, q in zip(pix, probs)]))
        print(f"{name:12s} " + "  ".join(f"{r:7.1%}" for r in rates))


if __name__ == "__main__":
    main()
