"""Named image kernels (identity, edge, blur, sharpen, emboss) and validation of a user's own grid.

Every kernel is a read-only (k, k) float64 array, applied as PyTorch does:
cross-correlation, i.e. the kernel is laid on the picture without flipping it.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _frozen(rows: Sequence[Sequence[float]], scale: float = 1.0) -> np.ndarray:
    arr = np.asarray(rows, dtype=np.float64) * scale
    arr.setflags(write=False)  # shared by every page run: nobody may change them in place
    return arr


_BINOMIAL_5 = np.array([1.0, 4.0, 6.0, 4.0, 1.0])

# canonical name -> kernel; the order is the order the page lists them in
NAMED: dict[str, np.ndarray] = {
    "identity": _frozen([[0, 0, 0], [0, 1, 0], [0, 0, 0]]),
    "sobel_x": _frozen([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]),
    "sobel_y": _frozen([[-1, -2, -1], [0, 0, 0], [1, 2, 1]]),
    "prewitt_x": _frozen([[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]]),
    "prewitt_y": _frozen([[-1, -1, -1], [0, 0, 0], [1, 1, 1]]),
    "laplacian": _frozen([[0, 1, 0], [1, -4, 1], [0, 1, 0]]),
    "outline": _frozen([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]),
    "box_blur_3x3": _frozen(np.ones((3, 3)), 1 / 9),
    "box_blur_5x5": _frozen(np.ones((5, 5)), 1 / 25),
    "gaussian_3x3": _frozen([[1, 2, 1], [2, 4, 2], [1, 2, 1]], 1 / 16),
    "gaussian_5x5": _frozen(np.outer(_BINOMIAL_5, _BINOMIAL_5), 1 / 256),
    "sharpen": _frozen([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
    "emboss": _frozen([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]),
}

# the tutorials' group words, each standing for its most common kernel
ALIASES: dict[str, str] = {
    "edge": "outline",
    "blur": "box_blur_3x3",
    "box_blur": "box_blur_3x3",
    "gaussian": "gaussian_3x3",
}

KERNELS: dict[str, np.ndarray] = {**NAMED, **{alias: NAMED[name] for alias, name in ALIASES.items()}}

GROUPS: dict[str, tuple[str, ...]] = {
    "identity": ("identity",),
    "edge": ("sobel_x", "sobel_y", "prewitt_x", "prewitt_y", "laplacian", "outline"),
    "blur": ("box_blur_3x3", "box_blur_5x5", "gaussian_3x3", "gaussian_5x5"),
    "sharpen": ("sharpen",),
    "emboss": ("emboss",),
}

DESCRIPTIONS: dict[str, str] = {
    "identity": "Copies the picture: 1 in the centre, 0 elsewhere.",
    "sobel_x": "Vertical edges: right neighbours minus left ones, centre row weighted twice.",
    "sobel_y": "Horizontal edges: lower neighbours minus upper ones, centre column weighted twice.",
    "prewitt_x": "Vertical edges, like Sobel x with equal weights.",
    "prewitt_y": "Horizontal edges, like Sobel y with equal weights.",
    "laplacian": "Edges in every direction: 4 neighbours minus 4x the centre; 0 on flat areas.",
    "outline": "The tutorials' 'edge detect': 8x the centre minus its 8 neighbours; 0 on flat areas.",
    "box_blur_3x3": "Mean of the 3x3 neighbourhood (weights 1/9).",
    "box_blur_5x5": "Mean of the 5x5 neighbourhood (weights 1/25).",
    "gaussian_3x3": "Weighted mean, centre counts most (weights /16).",
    "gaussian_5x5": "Wider Gaussian blur (binomial weights /256).",
    "sharpen": "5x the centre minus its 4 neighbours: boosts differences, keeps flat areas.",
    "emboss": "Diagonal difference: looks like a relief lit from the top left.",
}


def group_of(name: str) -> str:
    """The group ("edge", "blur", ...) a canonical kernel name belongs to."""
    for group, names in GROUPS.items():
        if name in names:
            return group
    raise ValueError(f"unknown kernel {name!r}; known: {', '.join(KERNELS)}")


def get(name: str) -> np.ndarray:
    """A writable copy of a named kernel (canonical name or alias); ValueError for an unknown name."""
    if name not in KERNELS:
        raise ValueError(f"unknown kernel {name!r}; known: {', '.join(KERNELS)}")
    return KERNELS[name].copy()


def parse_custom(grid: object, sizes: Sequence[int] = (3, 5)) -> np.ndarray:
    """A user's grid (nested lists, array or DataFrame) -> (k, k) float64; ValueError naming the bad cells."""
    values = getattr(grid, "values", grid)  # a pandas DataFrame from st.data_editor
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"every kernel cell must be a number ({err})") from err
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.shape[0] not in sizes:
        allowed = " or ".join(f"{k}x{k}" for k in sizes)
        raise ValueError(f"a custom kernel must be {allowed}, got shape {arr.shape}")
    bad = [f"row {r + 1}, column {c + 1}" for r, c in zip(*np.nonzero(~np.isfinite(arr)))]
    if bad:
        raise ValueError(f"kernel cells must be finite numbers; empty or not a number at: {'; '.join(bad)}")
    return arr


def label(name: str) -> str:
    """'box_blur_3x3' -> 'box blur 3x3' for menus."""
    return name.replace("_", " ")


def custom_start(size: int, kept: Sequence[Sequence[float]] | None = None) -> np.ndarray:
    """The grid a custom size x size kernel starts from: the kept one when it has that size, else the identity."""
    if size not in (3, 5):
        raise ValueError(f"a custom kernel is 3x3 or 5x5, not {size}x{size}")
    if kept is not None and len(kept) == size:
        return parse_custom(kept)
    return np.pad(NAMED["identity"], (size - 3) // 2)
