"""cnnviz.figures.training: figures are built from plain data and never drawn."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from cnnviz.figures import training as fig
from cnnviz.train import Progress


def _history(n=5):
    return [Progress(b, n, b / n, 1.0 / b, 50 + b, 1000.0, 0.1 * b, 0.1 * (n - b),
                     val_loss=0.5 if b % 2 == 0 else None, val_accuracy=80.0 if b % 2 == 0 else None)
            for b in range(1, n + 1)]


def test_curves_have_train_and_held_out_traces():
    f = fig.curves(_history())
    assert isinstance(f, go.Figure) and len(f.data) == 4
    assert list(f.data[0].y) == [1.0, 0.5, 1 / 3, 0.25, 0.2]
    assert list(f.data[1].x) == [0.4, 0.8]
    assert len(fig.curves([]).data) == 4  # an empty run still draws (empty) axes


def test_confusion_shows_counts():
    m = np.array([[5, 1], [0, 4]])
    f = fig.confusion(m, ["0", "1"])
    assert f.data[0].text.tolist() == m.tolist() and list(f.data[0].x) == ["0", "1"]


def test_labelled_grid_is_one_heatmap_with_coloured_captions():
    images = np.random.default_rng(0).random((10, 28, 28))
    f = fig.labelled_grid(images, [1, 2] * 5, [1, 3] * 5, [str(d) for d in range(10)], cols=4)
    assert len(f.data) == 1 and f.data[0].z.shape == (3 * 32 - 4, 4 * 32 - 4)
    captions = [(a.text, a.font.color) for a in f.layout.annotations]
    assert captions[0] == ("1 (1)", fig.RIGHT) and captions[1] == ("2 (3)", fig.WRONG)
    with pytest.raises(ValueError, match="shape"):
        fig.labelled_grid(np.zeros((28, 28)), [], [], [])


def test_filters_tile_into_one_heatmap():
    f = fig.filters(np.random.default_rng(0).normal(size=(16, 5, 5)))
    assert len(f.data) == 1 and f.data[0].z.shape == (2 * 6 - 1, 8 * 6 - 1)
