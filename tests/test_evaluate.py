"""cnnviz.evaluate: counting right and wrong, the tutorials' per-class table, filters."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from cnnviz import data
from cnnviz.arch import PRESETS, build
from cnnviz.evaluate import Evaluation, evaluate, first_layer_filters, misclassified, per_class_lines


class Fixed(nn.Module):
    """Predicts class = the first pixel's value, rounded: lets a test choose every prediction."""

    def __init__(self):
        super().__init__()
        self.dummy = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return nn.functional.one_hot(x[:, 0, 0, 0].round().long(), 3).float() * 10 + self.dummy


def _split(preds, labels):
    images = torch.zeros(len(preds), 1, 28, 28)
    images[:, 0, 0, 0] = torch.tensor(preds, dtype=torch.float32)
    return data.Split("mnist", "test", images, torch.tensor(labels), 0.0, 1.0)


def test_confusion_and_accuracy():
    ev = evaluate(Fixed(), _split([0, 1, 2, 2, 1], [0, 1, 2, 1, 1]), num_classes=3, batch_size=2)
    assert ev.confusion.tolist() == [[1, 0, 0], [0, 2, 1], [0, 0, 1]]
    assert ev.accuracy == 80.0 and ev.correct == 4 and ev.total == 5
    assert ev.per_class() == [(1, 1), (2, 3), (1, 1)]
    assert misclassified(ev).tolist() == [3]


def test_per_class_lines_match_the_tutorials():
    confusion = np.zeros((10, 10), dtype=np.int64)
    confusion[0, 0], confusion[0, 6] = 787, 3
    ev = Evaluation(np.zeros(0), np.zeros(0), confusion, 0.0)
    assert per_class_lines(ev)[0] == "Test Accuracy of 0: 99% (787/790)"
    assert per_class_lines(ev)[1] == "Test Accuracy of 1: 0% (0/0)"


def test_first_layer_filters():
    assert first_layer_filters(build(PRESETS["tutorial_a"])).shape == (16, 5, 5)
    with pytest.raises(ValueError, match="no convolution layer"):
        first_layer_filters(build(PRESETS["logistic"]))
