"""Pictures for the playground: photos bundled with scikit-image, exact synthetic patterns, crops, MNIST digits.

Everything returns float32 pixels in [0, 1]: (H, W) grey or (H, W, 3) RGB.
All photos listed here ship inside scikit-image and load offline (no pooch download).
"""
from __future__ import annotations

from typing import Protocol

import numpy as np
import torch

# skimage.data names that load with no download; a test loads every one
PHOTOS: tuple[str, ...] = ("camera", "astronaut", "chelsea", "coffee", "coins", "moon", "rocket",
                           "brick", "text", "clock", "immunohistochemistry")

PATTERNS: tuple[str, ...] = ("vertical edge", "horizontal edge", "checkerboard", "dot", "diagonal line",
                             "cross", "gradient")

PATTERN_SIZES = (3, 64)  # smallest and largest side the page offers


def photo(name: str) -> np.ndarray:
    """A bundled scikit-image photo as float32 in [0, 1]; ValueError for a name not in PHOTOS."""
    if name not in PHOTOS:
        raise ValueError(f"unknown photo {name!r}; choose one of {', '.join(PHOTOS)}")
    from skimage import data  # imported here: scikit-image takes a moment to import

    pixels = np.asarray(getattr(data, name)())
    if pixels.ndim == 3 and pixels.shape[2] == 4:
        pixels = pixels[..., :3]  # drop alpha
    scale = 1.0 if pixels.dtype == bool else 255.0
    return (pixels.astype(np.float32) / scale).clip(0.0, 1.0)


def pattern(name: str, size: int = 9) -> np.ndarray:
    """An exact (size, size) test pattern of 0s and 1s (or a ramp); ValueError for a bad name or size."""
    low, high = PATTERN_SIZES
    if not isinstance(size, (int, np.integer)) or not low <= size <= high:
        raise ValueError(f"pattern size must be a whole number from {low} to {high}, got {size!r}")
    r, c = np.mgrid[0:size, 0:size]
    half = size // 2
    shapes = {
        "vertical edge": c >= half,
        "horizontal edge": r >= half,
        "checkerboard": (r // max(1, size // 4) + c // max(1, size // 4)) % 2 == 1,
        "dot": (r == half) & (c == half),
        "diagonal line": r == c,
        "cross": (r == half) | (c == half),
        "gradient": c / max(1, size - 1),
    }
    if name not in shapes:
        raise ValueError(f"unknown pattern {name!r}; choose one of {', '.join(PATTERNS)}")
    return np.asarray(shapes[name], dtype=np.float32)


def crop(image: np.ndarray, top: int, left: int, height: int, width: int | None = None) -> np.ndarray:
    """image[top:top+height, left:left+width] (a copy); ValueError if the box leaves the picture."""
    width = height if width is None else width
    h, w = image.shape[:2]
    if height < 1 or width < 1 or top < 0 or left < 0 or top + height > h or left + width > w:
        raise ValueError(f"a {height}x{width} crop at row {top}, column {left} does not fit "
                         f"inside the {h}x{w} picture")
    return np.array(image[top:top + height, left:left + width])


def crop_at(image: np.ndarray, size: int, row_frac: float = 0.5, col_frac: float = 0.5) -> np.ndarray:
    """A size x size crop centred at a fraction of the height/width, kept inside; whole picture if it is smaller."""
    h, w = image.shape[:2]
    ch, cw = min(size, h), min(size, w)
    top = int(round(np.clip(row_frac, 0, 1) * h - ch / 2))
    left = int(round(np.clip(col_frac, 0, 1) * w - cw / 2))
    return crop(image, min(max(top, 0), h - ch), min(max(left, 0), w - cw), ch, cw)


class _DigitSplit(Protocol):
    labels: torch.Tensor

    def raw(self, index: int) -> torch.Tensor: ...

    def __len__(self) -> int: ...


def digit(split: _DigitSplit, index: int) -> tuple[np.ndarray, int]:
    """One MNIST digit from a cnnviz.data Split: (28, 28) float32 pixels in [0, 1] and its label."""
    if not 0 <= index < len(split):
        raise ValueError(f"digit index {index} is outside 0..{len(split) - 1}")
    pixels = split.raw(index).reshape(28, 28).numpy().astype(np.float32)
    return pixels, int(split.labels[index])


def describe(image: np.ndarray) -> str:
    """'512x512 RGB' / '28x28 grey'."""
    kind = "RGB" if image.ndim == 3 else "grey"
    return f"{image.shape[0]}x{image.shape[1]} {kind}"
