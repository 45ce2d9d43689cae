"""Own datasets end to end at the library level: a drawing saved on *Make a dataset* and the same drawing on
*Draw a digit* reach the network as the same tensor, with the same class order; the held-out drawings never
leak into the training split; and a model trained on the fewest drawings the page asks for reads NEW
drawings right (bench/own_few_drawings.py measures how many that is)."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from cnnviz import arch, checkpoints, owndata, ownsplits, preprocess, registry
from cnnviz import train as tr
from cnnviz.card import Card
from cnnviz.trainconfig import TrainConfig

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import own_few_drawings as few  # noqa: E402  # the bench's own drawings: the test checks what the docs report


@pytest.fixture(autouse=True)
def user_data(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "user_data"
    monkeypatch.setenv("CNNVIZ_USER_DATA", str(folder))
    return folder


def _drawn(classes: tuple[str, ...], n: int, seed: int = 0, name: str = "drawn") -> dict[str, list[np.ndarray]]:
    """A dataset `name` of `n` canvas drawings per class (saved through add_drawing); the canvases by class."""
    rng = np.random.default_rng(seed)
    owndata.create(name, list(classes))
    canvases: dict[str, list[np.ndarray]] = {c: [] for c in classes}
    for cls in classes:
        while len(canvases[cls]) < n:
            rgba = few.canvas(cls, rng)
            try:
                owndata.add_drawing(name, cls, rgba)
            except ValueError:  # the same picture as one kept already
                continue
            canvases[cls].append(rgba)
    return canvases


def _card(key: str, train_split, test_split, tmp_path: Path) -> tuple[torch.nn.Module, Card]:
    """A one-batch run saved and loaded back: the model and card *Draw a digit* uses."""
    spec = registry.fit_spec(arch.PRESETS["tutorial_a"], key)
    result = tr.train(spec, TrainConfig(dataset=key, max_batches=1, live_every_s=0), train_split, test_split)
    return checkpoints.load(checkpoints.save(result.model, Card.from_result(result, "m", "test"), tmp_path / "m"))


def test_the_dataset_and_draw_give_the_network_the_same_tensor_for_the_same_canvas(tmp_path):
    canvases = _drawn(("ring", "bar"), 5)  # typed unsorted: the folders (and labels) are sorted
    key = registry.PREFIX + "drawn"
    train_split, test_split = ownsplits.splits(key, copies=1)  # no augmented copies: the saved drawings as they are
    _, card = _card(key, train_split, test_split, tmp_path)
    assert card.classes == ("bar", "ring") and card.normalize == tuple(owndata.NORMALIZE)
    seen = torch.cat([train_split.images, test_split.images])   # (10, 1, 28, 28), as the training loop sees them
    labels = torch.cat([train_split.labels, test_split.labels])
    step = 1 / 255 / card.normalize[1]  # one grey level of the saved 8-bit PNG, normalised
    for cls, drawings in canvases.items():
        for rgba in drawings:
            on_draw = preprocess.to_mnist(rgba).normalized(card.normalize)  # (1, 1, 28, 28): Draw's input
            gap = (seen - on_draw).abs().amax(dim=(1, 2, 3))
            k = int(gap.argmin())
            assert float(gap[k]) <= 0.5 * step + 1e-6, f"{cls}: nearest saved example differs by {float(gap[k]):.3f}"
            assert card.classes[int(labels[k])] == cls  # the label the model learned is the class Draw names


def test_held_out_drawings_and_their_copies_never_reach_the_training_split():
    _drawn(("bar", "ring"), 10)
    pixels, labels, _ = ownsplits.read_all(owndata.open_dataset("drawn"))
    train_idx, test_idx = ownsplits.stratified_split(labels, 0.2, 0)
    assert not set(train_idx) & set(test_idx) and len(test_idx) == 4  # 2 of each class's 10 held out
    train_split, test_split = ownsplits.splits("drawn", 0)
    mean, std = owndata.NORMALIZE
    # the held-out drawings as drawn (not augmented), and no training drawing is one of them
    assert torch.allclose(test_split.images[:, 0] * std + mean, torch.from_numpy(pixels[test_idx]), atol=1e-6)
    assert all(not np.array_equal(pixels[t], pixels[k]) for t in test_idx for k in train_idx)
    # the training split (originals, then augmented copies) is made from the training drawings alone
    copies = len(train_split) // len(train_idx)
    alone = ownsplits.augment(torch.from_numpy(pixels[train_idx]).unsqueeze(1), copies, 0)
    assert torch.allclose(train_split.images * std + mean, alone, atol=1e-6)
    assert torch.equal(train_split.labels, torch.from_numpy(np.tile(labels[train_idx], copies)))


@pytest.mark.slow
def test_the_fewest_drawings_the_page_asks_for_teach_new_bars_and_rings(tmp_path):
    """owndata.MIN_EXAMPLES drawings of a bar and of a ring (the browser test's classes), trained with the
    trainer's defaults, read at least 90% of 40 new drawings of each right on Draw's path (bench/own_few_drawings.py:
    100% of new drawings from 2 per class up, in 5 of 5 tries each)."""
    classes = ("bar", "ring")
    _drawn(classes, owndata.MIN_EXAMPLES, seed=7)
    model, card, _ = few.train_and_save("drawn", 0, tmp_path)
    right = few.read_right(model, card, classes, 40, np.random.default_rng(99))
    assert min(right.values()) >= 0.9, right
