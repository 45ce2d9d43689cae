"""Which datasets there are and what kind each is: the one place that asks "your own, or the MNIST family?".

A dataset key is a torchvision dataset's name ('mnist', 'fashion-mnist', 'kmnist': cnnviz.data) or
'own:NAME' for one of your own datasets (cnnviz.owndata). Everything that differs between the two kinds
(the class names, how many, the mean/std, what the test images are called, a checkpoint's name) is
answered here; the rest of the library asks these functions instead of looking at the key.
"""
from __future__ import annotations

import re

from cnnviz.arch import Spec, with_num_classes

PREFIX = "own:"  # an own dataset's key: "own:shapes" (never clashes with a torchvision name)


def is_own(key: str) -> bool:
    """True for a key naming one of your own datasets ('own:shapes')."""
    return str(key).startswith(PREFIX)


def keys() -> list[str]:
    """Every dataset a network can be trained on: the MNIST family first, then your own ('own:shapes', ...)."""
    from cnnviz import data, owndata

    return list(data.DATASETS) + [PREFIX + name for name in owndata.available()]


def test_items(key: str) -> str:
    """What a dataset's test images are called beside a count: 'held-out drawings' (own), else 'test images'."""
    return "held-out drawings" if is_own(key) else "test images"


def class_names(key: str) -> tuple[str, ...]:
    """The dataset's class names, in label order; ValueError for an unknown dataset."""
    from cnnviz import data, owndata

    return owndata.open_dataset(key).classes if is_own(key) else data.info(key).classes


def num_classes(key: str) -> int:
    """How many class scores a network needs for dataset `key` ('mnist', 'own:shapes', ...)."""
    return len(class_names(key))


def normalization(key: str) -> tuple[float, float]:
    """The (mean, std) the dataset's pixels are normalised with (own drawings: MNIST's, as they are prepared
    like MNIST)."""
    from cnnviz import data

    return data.info("mnist" if is_own(key) else key).norm


def fit_spec(spec: Spec, key: str) -> Spec:
    """`spec` with one output per class of an own dataset (MNIST-family datasets: unchanged)."""
    return with_num_classes(spec, num_classes(key)) if is_own(key) else spec


def model_name(key: str, network: str | None, seed: int) -> str:
    """A checkpoint name that says what it learned: 'shapes-tutorial_a-seed0' (checkpoint names are ASCII)."""
    base = f"{network or 'custom'}-seed{seed}"
    if not is_own(key):
        return base
    ascii_name = re.sub(r"[^A-Za-z0-9_.-]+", "_", key.removeprefix(PREFIX)).strip("_.-") or "own"
    return f"{ascii_name}-{base}"[:64]
