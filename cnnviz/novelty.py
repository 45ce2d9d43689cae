"""Is this input like the training digits? A plain "not a digit?" warning beside the answer.

A network trained only on digits names a digit for anything: a scribble, a letter, a photo. Three
signs that the input is unlike MNIST, any one of them is enough:

1. the model is unsure: top probability below LOW_TOP (lower for a model trained with label smoothing,
   which is less sure of everything: `low_top`);
2. the ink is unlike MNIST's: the share of the 28x28 field above half brightness lies outside
   INK_RANGE (2,000 MNIST test digits drawn on the canvas: 0.5-99.5th percentiles 0.066-0.33);
3. the picture is far from every digit's shape: its distance from the span of MNIST's 40 main
   shapes (principal components of 20,000 training digits, shipped in mnist_shapes.npz, 63 kB)
   above FAR.

Thresholds were chosen on 2,000 MNIST test digits drawn as canvases and checked on 2,000 others
(bench/not_a_digit.py prints the false alarms and the hit rates on scribbles, letters and photos).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

LOW_TOP = 0.5
INK_RANGE = (0.06, 0.34)
FAR = 4.6             # 99.3rd percentile of the distance over the calibration digits
SHAPES = Path(__file__).with_name("mnist_shapes.npz")
COMPONENTS = 40


@dataclass(frozen=True)
class Novelty:
    """The three signs, measured, and what they add up to."""

    top: float
    ink: float
    distance: float
    reasons: tuple[str, ...]

    @property
    def unlike(self) -> bool:
        """True when any sign says the input is unlike the training digits."""
        return bool(self.reasons)

    def message(self) -> str | None:
        """One plain sentence for the page, or None for an ordinary digit."""
        if not self.reasons:
            return None
        return ("This does not look like the digits the model learned from (" + "; ".join(self.reasons) +
                "). It can only answer with a digit, so treat the answer as a guess.")


@lru_cache(maxsize=1)
def _shapes() -> tuple[np.ndarray, np.ndarray]:
    with np.load(SHAPES) as f:
        return f["mean"].astype(np.float64), f["components"].astype(np.float64)  # (784,), (K, 784)


def distance(pixels: np.ndarray) -> float:
    """How far a (28, 28) picture in [0, 1] is from the span of MNIST's main shapes (root of the squared residual)."""
    pixels = np.asarray(pixels, dtype=np.float64)
    if pixels.shape != (28, 28):
        raise ValueError(f"distance needs a (28, 28) picture, got shape {pixels.shape}")
    mean, comps = _shapes()
    centred = pixels.reshape(-1) - mean
    residual = centred - (comps @ centred) @ comps
    return float(np.sqrt((residual ** 2).sum()))


def low_top(smoothing: object = 0.0) -> float:
    """The "unsure" threshold for a model trained with label smoothing `smoothing` (a card's value; anything
    but a number in [0, 1) counts as 0). Such a model aims at 1 - e + e/K for its answer, not 1, and is less
    sure of every input: LOW_TOP - 2e, at least 0.1. At e = 0.1 (the trainer's default) that is 0.3:
    on tutorial_a trained so, 1.9% false alarms on canvas-drawn MNIST, 43% of scribbles, 40% of letters,
    99% of photos flagged, against 1.5 / 41 / 37 / 97% for the shipped tutorial_a at 0.5 (at 0.5 the
    smoothed model raised 4.8% false alarms): bench/not_a_digit.py."""
    ok = isinstance(smoothing, (int, float)) and not isinstance(smoothing, bool) and 0 <= smoothing < 1
    return max(0.1, LOW_TOP - 2 * float(smoothing)) if ok else LOW_TOP


def smoothing_of(card: dict) -> object:
    """The label smoothing a checkpoint's card says its model was trained with (older cards: none, 0)."""
    return card.get("label_smoothing", 0.0)


def for_card(card: dict, pixels: np.ndarray, probs: np.ndarray) -> str | None:
    """The page's "not a digit?" sentence for the model a card describes, or None: judged at that model's own
    "unsure" threshold, and only for MNIST models (another dataset's pictures are not meant to be digits)."""
    if card.get("dataset", "mnist") != "mnist":
        return None
    return judge(pixels, probs, smoothing_of(card)).message()


def judge(pixels: np.ndarray, probs: np.ndarray, smoothing: object = 0.0) -> Novelty:
    """The three signs for one prepared (28, 28) input and the model's (K,) probabilities; `smoothing` is
    the label smoothing the model was trained with (its card's "label_smoothing"; old cards have none)."""
    pixels = np.asarray(pixels, dtype=np.float64)
    top = float(np.max(probs))
    ink = float((pixels > 0.5).mean())
    far = distance(pixels)
    reasons = []
    if top < low_top(smoothing):
        reasons.append(f"the model is unsure: {apart(top, low_top(smoothing), percent=True)} at most")
    if not INK_RANGE[0] <= ink <= INK_RANGE[1]:
        edge = INK_RANGE[0] if ink < INK_RANGE[0] else INK_RANGE[1]
        reasons.append(f"{apart(ink, edge, percent=True)} of the field is ink, "
                       f"digits have {INK_RANGE[0]:.0%}-{INK_RANGE[1]:.0%}")
    if far > FAR:
        reasons.append(f"its shape is far from every digit's ({apart(far, FAR)} vs at most {FAR} for 99% of digits)")
    return Novelty(top, ink, far, tuple(reasons))


def apart(value: float, limit: float, percent: bool = False) -> str:
    """`value` with the fewest decimals (0 for a percentage, 1 otherwise, up to 6) that keep it from printing
    as `limit` does: a distance of 4.6004 over the limit 4.6 is "4.6004", never "4.6"; beyond that, "just over"
    or "just under" `limit`."""
    first = 0 if percent else 1
    for digits in range(first, first + 6):
        text, edge = (f"{v:.{digits}%}" if percent else f"{v:.{digits}f}" for v in (value, limit))
        if text != edge:
            return text
    shown = f"{limit:.{first}%}" if percent else f"{limit:g}"
    return f"just {'over' if value > limit else 'under'} {shown}"


def fit(images: np.ndarray, components: int = COMPONENTS, out: Path = SHAPES) -> Path:
    """Compute MNIST's main shapes from (N, 28, 28) training digits in [0, 1] and save them (float16)."""
    flat = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
    mean = flat.mean(axis=0)
    _, _, vt = np.linalg.svd(flat - mean, full_matrices=False)
    np.savez_compressed(out, mean=mean.astype(np.float16), components=vt[:components].astype(np.float16))
    _shapes.cache_clear()
    return out


if __name__ == "__main__":  # python -m cnnviz.novelty: rebuild mnist_shapes.npz from the first 20,000 training digits
    from cnnviz import data
    print(fit(data.load("mnist", "train", download=False).raw()[:20_000, 0].numpy()))
