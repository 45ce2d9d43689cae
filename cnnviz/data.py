"""Datasets as in-memory tensors: torchvision's MNIST family, loaded once, normalised once.

`load("mnist", "train")` returns the whole split as ONE float tensor (N, 1, 28, 28),
so training takes batches by index and never decodes a PIL image in its hot loop.
torchvision does the reading (and, for users with internet, the download into
`data_root()`); when the files are missing and cannot be fetched, `DatasetMissing`
says exactly where to put them.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import torch
from torchvision import datasets as tvd

SPLITS = ("train", "test")


class DatasetInfo(NamedTuple):
    """A dataset cnnviz knows: torchvision class, (mean, std) of its training pixels, display facts."""

    cls: type
    norm: tuple[float, float]
    title: str
    classes: tuple[str, ...]

    @property
    def folder(self) -> str:
        """The sub-folder of the data root torchvision reads: MNIST, FashionMNIST, KMNIST."""
        return self.cls.__name__

    @property
    def files(self) -> tuple[str, ...]:
        """The four files torchvision expects under <root>/<folder>/raw/ (as distributed, .gz)."""
        return tuple(name for name, _ in self.cls.resources)


_DIGITS = tuple(str(d) for d in range(10))
DATASETS: dict[str, DatasetInfo] = {
    "mnist": DatasetInfo(tvd.MNIST, (0.1307, 0.3081), "MNIST handwritten digits", _DIGITS),
    "fashion-mnist": DatasetInfo(tvd.FashionMNIST, (0.2860, 0.3530), "Fashion-MNIST clothing",
                                 ("T-shirt", "Trouser", "Pullover", "Dress", "Coat",
                                  "Sandal", "Shirt", "Sneaker", "Bag", "Boot")),
    "kmnist": DatasetInfo(tvd.KMNIST, (0.1918, 0.3483), "Kuzushiji-MNIST (cursive Japanese)",
                          ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo")),
}


class DatasetMissing(ValueError):
    """The dataset's files are not on disk and could not be downloaded."""


@dataclass(frozen=True)
class Split:
    """One split in memory: normalised images (N, 1, 28, 28) float32 and labels (N,) int64."""

    name: str
    split: str
    images: torch.Tensor
    labels: torch.Tensor
    mean: float
    std: float

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    @property
    def classes(self) -> tuple[str, ...]:
        return DATASETS[self.name].classes

    def raw(self, index: int | slice | torch.Tensor = slice(None)) -> torch.Tensor:
        """Images in [0, 1] for display (undoes the normalisation): (n, 1, 28, 28)."""
        return (self.images[index] * self.std + self.mean).clamp(0.0, 1.0)

    def subset(self, n: int) -> "Split":
        """The first `n` examples (a view, no copy)."""
        return Split(self.name, self.split, self.images[:n], self.labels[:n], self.mean, self.std)

    def to(self, device: torch.device | str) -> "Split":
        """The same split on another device (the GPU when training there)."""
        return Split(self.name, self.split, self.images.to(device), self.labels.to(device), self.mean, self.std)


def data_root() -> Path:
    """Where datasets live: $CNNVIZ_DATA, else ./data."""
    return Path(os.environ.get("CNNVIZ_DATA") or "data")


def info(name: str) -> DatasetInfo:
    """The DatasetInfo for `name`; ValueError naming the known ones otherwise."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    return DATASETS[name]


def raw_folder(name: str, root: Path | str | None = None) -> Path:
    """<root>/<folder>/raw, where torchvision reads the files."""
    return Path(root if root is not None else data_root()) / info(name).folder / "raw"


def available(name: str, root: Path | str | None = None) -> bool:
    """True when all four files of `name` are on disk (uncompressed or .gz)."""
    folder = raw_folder(name, root)
    return all((folder / f).is_file() or (folder / f.removesuffix(".gz")).is_file() for f in info(name).files)


def missing_message(name: str, root: Path | str | None = None) -> str:
    """One plain sentence saying where the files of `name` must go."""
    folder = raw_folder(name, root)
    listed = ", ".join(str(folder / f) for f in info(name).files)
    return (f"{info(name).title} is not on this computer and could not be downloaded. "
            f"Put its four files here: {listed} "
            f"(or set CNNVIZ_DATA to a folder holding {info(name).folder}/raw/).")


def load(name: str = "mnist", split: str = "train", root: Path | str | None = None,
         download: bool = True) -> Split:
    """The whole split as one normalised tensor; downloads when allowed, DatasetMissing when impossible."""
    meta = info(name)
    if split not in SPLITS:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    root = Path(root if root is not None else data_root())
    try:
        ds = meta.cls(str(root), train=(split == "train"), download=download)
    except Exception as err:  # torchvision raises RuntimeError / URLError / OSError for missing or unreachable files
        raise DatasetMissing(missing_message(name, root)) from err
    pixels = ds.data  # (N, 28, 28) uint8, read straight from the idx file
    mean, std = meta.norm
    images = ((pixels.float().div_(255.0) - mean) / std).unsqueeze(1).contiguous()  # (N, 1, 28, 28)
    return Split(name, split, images, ds.targets.long(), mean, std)


def normalize(pixels01: torch.Tensor, name: str = "mnist") -> torch.Tensor:
    """Pixels in [0, 1] -> the normalised values the network was trained on."""
    mean, std = info(name).norm
    return (pixels01 - mean) / std
