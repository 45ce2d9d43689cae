"""cnnviz.evaluate: counting right and wrong, the tutorials' per-class table, filters."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from cnnviz import data
from cnnviz.evaluate import (
    Evaluation,
    accuracy_text,
    evaluate,
    misclassified,
    per_class_lines,
    percent_decimals,
    percent_text,
)


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


@pytest.mark.parametrize("correct, total, text", [
    (4, 4, "4 of 4 held-out drawings (100%)"),        # not "100.00%" of 1,000 test images
    (11, 12, "11 of 12 held-out drawings (92%)"),     # under 1,000: no decimals
    (985, 1000, "985 of 1,000 held-out drawings (98.5%)"),   # under 10,000: one
    (9913, 10_000, "9,913 of 10,000 held-out drawings (99.13%)"),  # 10,000 and more: two
    (199, 200, "199 of 200 held-out drawings (>99%)"),  # a miss is never rounded up to 100%
    (1, 999, "1 of 999 held-out drawings (<1%)"),       # nor a hit down to 0%
    (0, 3, "0 of 3 held-out drawings (0%)")])
def test_an_accuracy_names_its_count_and_only_the_decimals_the_count_justifies(correct, total, text):
    assert accuracy_text(correct, total, "held-out drawings") == text
    assert accuracy_text(correct, total) == text.replace("held-out drawings", "test images")


@pytest.mark.parametrize("correct, total, match", [(5, 4, "correct=5, total=4"), (0, 0, "total=0"),
                                                   (-1, 3, "correct=-1")])
def test_an_impossible_count_is_named(correct, total, match):
    with pytest.raises(ValueError, match=match):
        accuracy_text(correct, total)


def test_decimals_follow_the_count():
    assert [percent_decimals(n) for n in (1, 999, 1000, 9999, 10_000, 60_000)] == [0, 0, 1, 1, 2, 2]
    assert percent_text(1, 3) == "33%" and percent_text(1000, 3000) == "33.3%"
    assert percent_text(1, 3000) == "<0.1%" and percent_text(2999, 3000) == ">99.9%"
