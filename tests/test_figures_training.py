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
    with pytest.raises(ValueError, match="at least one progress event"):
        fig.curves([])  # the page shows a placeholder instead of empty axes with made-up ticks


def test_curves_axes_read_plainly():
    history = _history(5)  # losses 1 .. 0.2, epochs 0.2 .. 1 of a 1-epoch run
    f = fig.curves(history[:2])
    assert list(f.layout.xaxis.range) == [0, 1.0] and list(f.layout.xaxis2.range) == [0, 1.0]  # the whole run
    loss_axis = fig.curves(history).layout.yaxis
    assert loss_axis.type == "log" and list(loss_axis.tickvals) == [0.2, 0.5, 1.0]
    assert loss_axis.minor.showgrid is False
    titles = [a.text for a in fig.curves(history).layout.annotations]
    assert titles == ["loss: 1 → 0.2", "accuracy: 55.0% (held-out 80.0%)"]


@pytest.mark.parametrize("lo, hi, ticks", [
    (0.02 / 1.3, 2.3 * 1.3, [0.02, 0.05, 0.1, 0.2, 0.5, 1, 2]),  # a loss falling from 2.3 to 0.02
    (0.05, 0.09, [0.05, 0.06, 0.07, 0.08, 0.09]),                  # a narrow range: finer steps
    (1.2, 3.5, [1.5, 2, 3]),
    (0.01, 1e30, [0.01, 1e4, 1e10, 1e16, 1e22, 1e28])])            # a blow-up: powers of ten only
def test_log_ticks(lo, hi, ticks):
    assert fig.log_ticks(lo, hi) == pytest.approx(ticks)


def test_log_ticks_refuse_a_bad_range():
    with pytest.raises(ValueError, match="lo=0"):
        fig.log_ticks(0, 1)


def test_confusion_shows_counts():
    m = np.array([[5, 1], [0, 4]])
    f = fig.confusion(m, ["0", "1"])
    assert f.data[0].text.tolist() == m.tolist() and list(f.data[0].x) == ["0", "1"]
    assert f.layout.xaxis.showgrid is False and f.layout.yaxis.showgrid is False  # no lines across the cells


def test_labelled_grid_is_one_heatmap_with_coloured_captions():
    images = np.random.default_rng(0).random((10, 28, 28))
    f = fig.labelled_grid(images, [1, 2] * 5, [1, 3] * 5, [str(d) for d in range(10)], cols=4)
    assert len(f.data) == 1 and f.data[0].z.shape == (3 * 34 - 6, 4 * 34 - 6)
    captions = [(a.text, a.font.color) for a in f.layout.annotations]
    assert captions[0] == ("1 (1)", fig.RIGHT) and captions[1] == ("2 (3)", fig.WRONG)
    with pytest.raises(ValueError, match="shape"):
        fig.labelled_grid(np.zeros((28, 28)), [], [], [])


def test_a_blown_up_loss_stays_on_the_chart_and_a_nan_is_marked():
    history = _history(3) + [Progress(4, 5, 0.8, 3602.0, 10.0, 0.0, 0.4, 0.0), Progress(5, 5, 1.0, float("nan"),
                                                                                       10.0, 0.0, 0.5, 0.0)]
    f = fig.curves(history)
    assert 3602.0 in list(f.data[0].y)  # the climb is drawn, not dropped
    nan_marks = [t for t in f.data if t.name == "loss is NaN"]
    assert len(nan_marks) == 1 and list(nan_marks[0].x) == [1.0]
    assert 10 ** f.layout.yaxis.range[1] == pytest.approx(3602.0 * 1.3)  # the axis reaches the peak
    assert "peak 3.6e+03" in f.layout.annotations[0].text


@pytest.mark.parametrize("lo, hi, most, ticks", [
    (6, 101, 5, [20, 40, 60, 80, 100]),  # an accuracy axis
    (0, 2, 5, [0, 0.5, 1, 1.5, 2]),      # epochs
    (90, 100, 5, [90, 95, 100]),
    (0, 0.3, 5, [0, 0.1, 0.2, 0.3]),
    (0, 3.3, 5, [0, 1, 2, 3])])
def test_linear_ticks_are_round_and_few(lo, hi, most, ticks):
    assert fig.linear_ticks(lo, hi, most) == pytest.approx(ticks)


def test_linear_ticks_refuse_a_bad_range():
    with pytest.raises(ValueError, match="lo < hi"):
        fig.linear_ticks(1, 1)


def test_the_plan_is_what_the_plotly_figure_draws():
    history = _history(5)
    plan, f = fig.curve_plan(history), fig.curves(history)
    assert list(f.data[0].y) == plan.loss and list(f.data[3].y) == plan.val_acc
    assert list(f.layout.yaxis.tickvals) == plan.loss_ticks and tuple(f.layout.yaxis2.range) == plan.acc_range
    assert plan.epochs == 1.0 and plan.broken == []


def test_the_held_out_curve_names_its_real_count():
    """An own dataset of 4 held-out drawings was labelled 'held-out (1,000 test images)' at '100.0%'."""
    own = [Progress(b, 4, b / 4, 1.0 / b, 50.0, 1000.0, 0.1 * b, 0.0, val_loss=0.5, val_accuracy=100.0, val_total=4,
                    val_what="held-out drawings") for b in range(1, 5)]
    plan = fig.curve_plan(own)
    assert plan.val_name == "4 held-out drawings"
    assert plan.acc_title == "accuracy: 50.0% (held-out 100%)"  # not 100.0%: the count is 4 (in the legend)
    assert [t.name for t in fig.curves(own).data][:2] == [fig.TRAIN_NAME, "4 held-out drawings"]
    mnist = [Progress(1, 9, 0.1, 1.0, 50.0, 1000.0, 0.1, 0.0, val_loss=0.5, val_accuracy=98.5, val_total=1000)]
    assert fig.curve_plan(mnist).val_name == "held-out (1,000 test images)"
    assert fig.curve_plan(mnist).acc_title.endswith("(held-out 98.5%)")


def test_class_names_are_text_in_the_confusion_matrix_and_the_captions():
    """Plotly renders <a href>, <b>, <img ...> in ticks and annotations; a class name is text."""
    names = ['<a href="http://evil/">a</a>', "<b>b</b>"]
    f = fig.confusion(np.eye(2, dtype=int), names)
    shown = ['&lt;a href="http://evil/"&gt;a&lt;/a&gt;', "&lt;b&gt;b&lt;/b&gt;"]
    assert list(f.data[0].x) == list(f.data[0].y) == shown
    grid = fig.labelled_grid(np.zeros((2, 28, 28)), [0, 1], [1, 1], names)
    assert [a.text for a in grid.layout.annotations][1] == "&lt;b&gt;b&lt;/b&gt; (&lt;b&gt;b&lt;/b&gt;)"
    assert not [a.text for a in grid.layout.annotations if "<" in a.text]
