"""What a trained model gets right and wrong: accuracy, per-class table, confusion, misclassified, filters."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cnnviz.data import Split


@dataclass(frozen=True)
class Evaluation:
    """A model's predictions on a split. `confusion[t, p]` counts true class t predicted as p."""

    predictions: np.ndarray  # (N,) int64
    labels: np.ndarray       # (N,) int64
    confusion: np.ndarray    # (K, K) int64
    loss: float

    @property
    def correct(self) -> int:
        return int(np.trace(self.confusion))

    @property
    def total(self) -> int:
        return int(self.confusion.sum())

    @property
    def accuracy(self) -> float:
        """Percent correct."""
        return 100.0 * self.correct / max(self.total, 1)

    def per_class(self) -> list[tuple[int, int]]:
        """(correct, total) for each class."""
        return [(int(self.confusion[k, k]), int(self.confusion[k].sum())) for k in range(len(self.confusion))]

    def per_class_accuracy(self) -> list[float]:
        """Percent correct for each class (0 for a class with no examples)."""
        return [100.0 * c / t if t else 0.0 for c, t in self.per_class()]


@torch.no_grad()
def predict_logits(model: nn.Module, images: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Logits (N, K) in fp32, in batches, on the model's device; the model is left in eval mode."""
    model.eval()
    device = next(model.parameters()).device
    outs = [model(images[i:i + batch_size].to(device)).float() for i in range(0, len(images), batch_size)]
    return torch.cat(outs)


def evaluate(model: nn.Module, split: Split, num_classes: int = 10, batch_size: int = 1000) -> Evaluation:
    """Predict every image of `split` (fp32) and count: accuracy, loss, confusion matrix."""
    logits = predict_logits(model, split.images, batch_size)
    labels = split.labels.to(logits.device)
    loss = float(F.cross_entropy(logits, labels))
    preds = logits.argmax(1)
    confusion = torch.bincount(labels * num_classes + preds, minlength=num_classes ** 2)
    return Evaluation(preds.cpu().numpy(), labels.cpu().numpy(),
                      confusion.reshape(num_classes, num_classes).cpu().numpy(), loss)


def percent_decimals(total: int) -> int:
    """Decimals a percentage of `total` items can honestly show: 0 under 1,000, 1 under 10,000, else 2."""
    if not isinstance(total, (int, np.integer)) or total < 1:
        raise ValueError(f"a percentage needs a whole number of items >= 1, got total={total!r}")
    return 0 if total < 1_000 else 1 if total < 10_000 else 2


def percent_text(correct: int, total: int) -> str:
    """`correct` of `total` as a percentage with only the decimals `total` justifies: '100%', '98.5%', '99.13%'.

    It never rounds a miss up to 100% or a hit down to 0% (199 of 200 is '>99%', not '100%')."""
    if not 0 <= correct <= total:
        raise ValueError(f"correct must be from 0 to total, got correct={correct!r}, total={total!r}")
    digits = percent_decimals(total)
    step = 10.0 ** -digits
    text = f"{100.0 * correct / total:.{digits}f}"
    if correct < total and float(text) >= 100:
        return f">{100 - step:.{digits}f}%"
    if correct > 0 and float(text) <= 0:
        return f"<{step:.{digits}f}%"
    return f"{text}%"


def accuracy_text(correct: int, total: int, what: str = "test images") -> str:
    """'4 of 4 held-out drawings (100%)': the real count, then the percentage its size justifies."""
    return f"{correct:,} of {total:,} {what} ({percent_text(correct, total)})"


def per_class_lines(ev: Evaluation, classes: tuple[str, ...] | None = None) -> list[str]:
    """The tutorials' table: 'Test Accuracy of 0: 99% (787/790)', one line per class."""
    names = classes or tuple(str(k) for k in range(len(ev.confusion)))
    return [f"Test Accuracy of {names[k]}: {100 * c // t if t else 0}% ({c}/{t})"
            for k, (c, t) in enumerate(ev.per_class())]


def misclassified(ev: Evaluation, limit: int = 36) -> np.ndarray:
    """Indices of the first `limit` wrongly predicted examples."""
    return np.flatnonzero(ev.predictions != ev.labels)[:limit]
