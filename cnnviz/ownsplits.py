"""Training on your own datasets: every example read back, a stratified held-out split, and augmented copies
of the training drawings (tens of drawings become thousands of images), as tensors shaped like MNIST's."""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from cnnviz import data, owndata
from cnnviz.messages import no_paths
from cnnviz.owndata import OwnDataset


@dataclass(frozen=True)
class OwnSplit(data.Split):
    """A Split of an own dataset: same tensors as MNIST's, its class names carried along."""

    class_names: tuple[str, ...] = ()

    @property
    def classes(self) -> tuple[str, ...]:
        return self.class_names

    def subset(self, n: int) -> OwnSplit:
        """The first `n` examples (a view, no copy)."""
        return replace(self, images=self.images[:n], labels=self.labels[:n])

    def to(self, device: torch.device | str) -> OwnSplit:
        """The same split on another device."""
        return replace(self, images=self.images.to(device), labels=self.labels.to(device))



def read_pixels(path: Path) -> np.ndarray:
    """One example file -> (28, 28) float32 in [0, 1]; ValueError when it is not a 28x28 picture."""
    try:
        with Image.open(path) as img:
            arr = np.asarray(img.convert("L"), dtype=np.float32) / 255.0
    except (OSError, SyntaxError, ValueError) as err:
        raise ValueError(f"{path.name} cannot be read as a picture ({no_paths(err)})") from err
    if arr.shape != (owndata.SIDE, owndata.SIDE):
        raise ValueError(f"{path.name} is {arr.shape[1]}x{arr.shape[0]}, not {owndata.SIDE}x{owndata.SIDE}")
    return arr


def read_all(ds: OwnDataset) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Every example: pixels (N, 28, 28) in [0, 1], labels (N,), and a note per unreadable file (skipped)."""
    pixels, labels, notes = [], [], []
    for k, files in enumerate(ds.files):
        for path in files:
            try:
                pixels.append(read_pixels(path))
                labels.append(k)
            except ValueError as err:
                notes.append(f"{ds.classes[k]}/{err}: skipped")
    stack = np.stack(pixels) if pixels else np.zeros((0, owndata.SIDE, owndata.SIDE), np.float32)
    return stack, np.asarray(labels, dtype=np.int64), notes


def stratified_split(labels: np.ndarray, test_fraction: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, test indices): the same fraction of every class held out (at least one), seeded."""
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be between 0 and 1, got {test_fraction}")
    rng = np.random.default_rng(seed)
    train, test = [], []
    for k in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == k))
        n_test = min(max(1, round(len(idx) * test_fraction)), len(idx) - 1)
        test.extend(idx[:n_test])
        train.extend(idx[n_test:])
    return np.sort(np.asarray(train, dtype=np.int64)), np.sort(np.asarray(test, dtype=np.int64))


def augment(pixels: torch.Tensor, copies: int, seed: int = 0, shift: float = 2.0, degrees: float = 12.0,
            scale: float = 0.1) -> torch.Tensor:
    """(N, 1, 28, 28) in [0, 1] -> (N * copies, 1, 28, 28): the originals, then copies shifted by up to `shift`
    px, rotated by up to `degrees`, scaled by up to `scale`, with strokes made thinner or thicker (seeded)."""
    if copies < 1:
        raise ValueError(f"copies must be >= 1, got {copies}")
    gen = torch.Generator().manual_seed(seed)
    x = pixels.repeat(copies - 1, 1, 1, 1)  # (M, 1, 28, 28)
    if not len(x):
        return pixels.clone()
    m = len(x)
    u = lambda: torch.rand(m, generator=gen) * 2 - 1  # noqa: E731  uniform in [-1, 1]
    angle, zoom = u() * math.radians(degrees), 1 + u() * scale
    tx, ty = u() * shift * 2 / owndata.SIDE, u() * shift * 2 / owndata.SIDE  # affine_grid works in [-1, 1] units
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    theta = torch.stack([torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1)  # (M, 2, 3)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    width = torch.randint(0, 3, (m,), generator=gen)  # 0 thinner, 1 as drawn, 2 thicker
    thick = torch.maximum(x, 0.8 * F.max_pool2d(x, 3, 1, 1))
    thin = 0.5 * x + 0.5 * -F.max_pool2d(-x, 3, 1, 1)
    x = torch.where((width == 2)[:, None, None, None], thick, torch.where((width == 0)[:, None, None, None], thin, x))
    return torch.cat([pixels, x.clamp_(0.0, 1.0)])


def copies_for(n_train: int, target: int = 2400, most: int = 100) -> int:
    """How many augmented copies make about `target` training images (tens of drawings -> thousands)."""
    return max(1, min(most, math.ceil(target / max(n_train, 1))))


def _split(ds: OwnDataset, part: str, pixels: np.ndarray, labels: np.ndarray) -> OwnSplit:
    mean, std = owndata.NORMALIZE
    images = ((torch.from_numpy(pixels).float() - mean) / std).unsqueeze(1).contiguous() if pixels.ndim == 3 \
        else ((pixels - mean) / std).contiguous()
    return OwnSplit(ds.key, part, images, torch.as_tensor(labels, dtype=torch.long), mean, std, ds.classes)


def splits(name_or_key: str, seed: int = 0, test_fraction: float = 0.2,
           copies: int | None = None) -> tuple[OwnSplit, OwnSplit]:
    """(augmented training split, held-out test split) of a dataset; ValueError when it is not ready to train."""
    ds = owndata.open_dataset(name_or_key)
    if problems := ds.problems():
        raise ValueError(" ".join(problems))
    pixels, labels, _ = read_all(ds)
    train_idx, test_idx = stratified_split(labels, test_fraction, seed)
    copies = copies or copies_for(len(train_idx))
    raw = torch.from_numpy(pixels[train_idx]).unsqueeze(1)  # (n, 1, 28, 28)
    train_x = augment(raw, copies, seed)
    train_y = np.tile(labels[train_idx], copies)
    return _split(ds, "train", train_x, train_y), _split(ds, "test", pixels[test_idx], labels[test_idx])


