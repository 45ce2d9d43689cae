"""Datasets as in-memory tensors: torchvision's MNIST family, loaded once, normalised once.

`load("mnist", "train")` returns the whole split as ONE float tensor (N, 1, 28, 28),
so training takes batches by index and never decodes a PIL image in its hot loop.
Reading never writes: the idx files are read as they lie (.gz or not), so opening a
page creates no folder. Downloading is a separate, explicit act (`download`, or a
`Downloader` thread the page starts from a button) with a timeout on every socket
read and an overall deadline. When the files are missing, `DatasetMissing` says
where to put them, relative to the data folder (no absolute server paths).
"""
from __future__ import annotations

import gzip
import hashlib
import importlib
import os
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from cnnviz.messages import no_paths
from cnnviz.preprocess import MNIST_NORMALIZE

SPLITS = ("train", "test")
SIZES = {"train": 60_000, "test": 10_000}  # images per split, the same for every dataset of the MNIST family
# The four files of every dataset of the family, as torchvision names them (tests/test_data.py checks its
# `resources`): here so that a page can ask what is on disk without importing torchvision, which brings
# torch._dynamo with it (~1.9 s of the server's cold start, `python -X importtime`); only a download needs it.
FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
         "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


class DatasetInfo(NamedTuple):
    """A dataset cnnviz knows: its torchvision class's name, (mean, std) of its training pixels, display facts."""

    folder: str  # the torchvision class (MNIST, FashionMNIST, KMNIST), also the sub-folder of the data root it reads
    norm: tuple[float, float]
    title: str
    classes: tuple[str, ...]

    @property
    def cls(self) -> type:
        """The torchvision dataset class (its download mirrors and checksums); imports torchvision."""
        return getattr(importlib.import_module("torchvision.datasets"), self.folder)

    @property
    def files(self) -> tuple[str, ...]:
        """The four files torchvision expects under <root>/<folder>/raw/ (as distributed, .gz)."""
        return FILES

    @property
    def size_mb(self) -> int:
        """About how many MB a download fetches (the four .gz files)."""
        return 30 if self.folder != "MNIST" else 11


_DIGITS = tuple(str(d) for d in range(10))
DATASETS: dict[str, DatasetInfo] = {
    "mnist": DatasetInfo("MNIST", MNIST_NORMALIZE, "MNIST handwritten digits", _DIGITS),
    "fashion-mnist": DatasetInfo("FashionMNIST", (0.2860, 0.3530), "Fashion-MNIST clothing",
                                 ("T-shirt", "Trouser", "Pullover", "Dress", "Coat",
                                  "Sandal", "Shirt", "Sneaker", "Bag", "Boot")),
    "kmnist": DatasetInfo("KMNIST", (0.1918, 0.3483), "Kuzushiji-MNIST (cursive Japanese)",
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

    def subset(self, n: int) -> Split:
        """The first `n` examples (a view, no copy)."""
        return Split(self.name, self.split, self.images[:n], self.labels[:n], self.mean, self.std)

    def to(self, device: torch.device | str) -> Split:
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


def shown_folder(name: str) -> str:
    """The raw folder as a visitor may see it: relative to the data folder, never an absolute server path."""
    base = "$CNNVIZ_DATA" if os.environ.get("CNNVIZ_DATA") else "data"
    return f"{base}/{info(name).folder}/raw/"


def missing_message(name: str, root: Path | str | None = None) -> str:
    """One plain sentence saying where the files of `name` must go (file names, folder relative to the data folder)."""
    listed = ", ".join(info(name).files)
    return (f"{info(name).title} is not on this computer. Download it on the page *Train a CNN*, or put its "
            f"four files ({listed}; .gz or unpacked) in {shown_folder(name)} "
            "(the data folder is ./data, or the folder named "
            f"by the environment variable CNNVIZ_DATA).")


def _file(folder: Path, gz_name: str) -> Path | None:
    """The unpacked file if present, else the .gz, else None."""
    for candidate in (folder / gz_name.removesuffix(".gz"), folder / gz_name):
        if candidate.is_file():
            return candidate
    return None


def read_idx(path: Path) -> torch.Tensor:
    """One idx file (MNIST's format; .gz or not) as a uint8 tensor; ValueError when it is not one."""
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    if len(raw) < 4 or raw[:2] != b"\0\0" or raw[2] != 0x08:
        raise ValueError(f"{path.name} is not an idx file of unsigned bytes")
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    body = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(shape)):
        raise ValueError(f"{path.name} holds {body.size} bytes, its header says {shape}")
    return torch.from_numpy(body.reshape(shape).copy())


def load(name: str = "mnist", split: str = "train", root: Path | str | None = None,
         download: bool = False) -> Split:
    """The whole split as one normalised tensor; reads only (download=True fetches first); DatasetMissing if absent."""
    meta = info(name)
    if split not in SPLITS:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    root = Path(root if root is not None else data_root())
    if download and not available(name, root):
        download_files(name, root)
    folder = raw_folder(name, root)
    prefix = "train" if split == "train" else "t10k"
    images_f, labels_f = (_file(folder, f"{prefix}-{kind}.gz") for kind in ("images-idx3-ubyte", "labels-idx1-ubyte"))
    if images_f is None or labels_f is None:
        raise DatasetMissing(missing_message(name, root))
    try:
        pixels, labels = read_idx(images_f), read_idx(labels_f)  # (N, 28, 28) uint8, (N,) uint8
    except (OSError, ValueError, EOFError) as err:  # gzip raises EOFError / BadGzipFile (an OSError)
        raise DatasetMissing(f"{meta.title}: a file in {shown_folder(name)} is damaged ({no_paths(err)}). "
                             f"Delete it and download again.") from err
    mean, std = meta.norm
    images = ((pixels.float().div_(255.0) - mean) / std).unsqueeze(1).contiguous()  # (N, 1, 28, 28)
    return Split(name, split, images, labels.long(), mean, std)


def download_files(name: str, root: Path | str | None = None, timeout: float = 20.0, deadline: float = 600.0,
             mirrors: tuple[str, ...] | None = None) -> None:
    """Fetch the missing files of `name` into its raw folder (md5-checked, atomic renames).

    `timeout` bounds every connect and read, `deadline` the whole download; DatasetMissing
    names the file and each mirror's error when no mirror delivers.
    """
    meta = info(name)
    folder = raw_folder(name, root)
    folder.mkdir(parents=True, exist_ok=True)  # the only place cnnviz creates the data folder
    end = time.monotonic() + deadline
    for filename, md5 in meta.cls.resources:
        if _file(folder, filename) is not None:
            continue
        errors = []
        for mirror in mirrors or meta.cls.mirrors:
            try:
                _fetch(mirror + filename, folder / filename, md5, timeout, end)
                break
            except (OSError, ValueError) as err:  # URLError, socket.timeout, md5 mismatch, deadline
                errors.append(f"{mirror}: {err}")
        else:
            raise DatasetMissing(f"Could not download {filename} of {meta.title}: " + "; ".join(errors))


def _fetch(url: str, dest: Path, md5: str, timeout: float, end: float) -> None:
    part = dest.with_name(dest.name + ".part")
    digest = hashlib.md5()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, part.open("wb") as out:
            while chunk := response.read(1 << 16):
                if time.monotonic() > end:
                    raise TimeoutError("the download took longer than its deadline")
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != md5:
            raise ValueError(f"checksum mismatch (got md5 {digest.hexdigest()})")
        os.replace(part, dest)
    finally:
        part.unlink(missing_ok=True)


@dataclass(frozen=True)
class DownloadStatus:
    """Where a dataset stands: state "ready", "missing", "downloading" or "failed", and what to tell the user."""

    state: str
    message: str


class Downloader:
    """Downloads in background threads, one per dataset at a time; every session sees the same state.

    The lock guards only the state dict (held for microseconds), never the network: a page that
    asks `status()` is never blocked by a slow mirror. A failure is kept until the files appear.
    """

    def __init__(self, root: Path | str | None = None, timeout: float = 20.0, deadline: float = 600.0,
                 mirrors: tuple[str, ...] | None = None) -> None:
        self._root, self._timeout, self._deadline, self._mirrors = root, timeout, deadline, mirrors
        self._lock = threading.Lock()
        self._state: dict[str, DownloadStatus] = {}
        self._threads: dict[str, threading.Thread] = {}

    def _folder_root(self) -> Path:
        return Path(self._root) if self._root is not None else data_root()

    def status(self, name: str) -> DownloadStatus:
        """Ready when the files are on disk; else downloading / failed (with the reason) / missing."""
        if available(name, self._folder_root()):
            return DownloadStatus("ready", f"{info(name).title} is ready.")
        with self._lock:
            known = self._state.get(name)
        return known or DownloadStatus("missing", missing_message(name))

    def start(self, name: str) -> DownloadStatus:
        """Start downloading `name` unless it is on disk or already downloading; returns the new status."""
        info(name)
        with self._lock:
            busy = name in self._threads and self._threads[name].is_alive()
            if not busy and not available(name, self._folder_root()):
                self._state[name] = DownloadStatus(
                    "downloading", f"Downloading {info(name).title} (about {info(name).size_mb} MB)…")
                self._threads[name] = threading.Thread(target=self._run, args=(name,), daemon=True,
                                                       name=f"cnnviz-download-{name}")
                self._threads[name].start()
        return self.status(name)

    def _run(self, name: str) -> None:
        try:
            download_files(name, self._folder_root(), self._timeout, self._deadline, self._mirrors)
            result = DownloadStatus("ready", f"{info(name).title} is ready.")
        except Exception as err:  # shown to every session until the files appear; never swallowed
            result = DownloadStatus("failed", f"Download failed: {err} " + missing_message(name))
        with self._lock:
            self._state[name] = result

    def wait(self, name: str, timeout: float | None = None) -> DownloadStatus:
        """Block until the download of `name` ends (for scripts and tests); returns its status."""
        with self._lock:
            thread = self._threads.get(name)
        if thread is not None:
            thread.join(timeout)
        return self.status(name)


def normalize(pixels01: torch.Tensor, name: str = "mnist") -> torch.Tensor:
    """Pixels in [0, 1] -> the normalised values the network was trained on."""
    mean, std = info(name).norm
    return (pixels01 - mean) / std
