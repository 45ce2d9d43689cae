"""cnnviz.figures.learn: each figure is a valid plotly figure built from the Step's own numbers, never drawn."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest
import torch

from cnnviz import backprop
from cnnviz.figures import learn as figs

LABELS = tuple(str(d) for d in range(10))


@pytest.fixture(scope="module")
def step() -> backprop.Step:
    torch.manual_seed(0)
    x = torch.rand(1, 1, 28, 28) * 2 - 0.4
    return backprop.step(backprop.untrained("tutorial_a"), x, 7)


def _valid(fig: go.Figure) -> go.Figure:
    assert isinstance(fig, go.Figure)
    go.Figure(fig.to_dict())  # plotly's full validation, skipped when the figure was built
    return fig


def test_output_gradient_bars_are_p_minus_y(step):
    fig = _valid(figs.output_gradient(step, LABELS))
    np.testing.assert_allclose(fig.data[0].y, backprop.output_gradient(step))
    assert fig.data[0].marker.color[7] == figs.RIGHT and fig.data[0].y[7] < 0


@pytest.mark.parametrize("layer, panels", [("pool2", 3), ("relu1", 3), ("conv2", 2), ("pool1", 3)])
def test_a_passage_shows_the_gradient_in_and_out(step, layer, panels):
    fig = _valid(figs.passage(step, layer, channel=2))
    p = step.passage(layer)
    assert len(fig.data) == panels
    np.testing.assert_allclose(fig.data[0].z, p.grad_out[2].numpy())
    np.testing.assert_allclose(fig.data[-1].z, p.grad_in[min(2, p.grad_in.shape[0] - 1)].numpy())
    if p.mask is not None:
        np.testing.assert_array_equal(fig.data[1].z, p.mask[2].double().numpy())


@pytest.mark.parametrize("layer", ["fc1", "flatten"])
def test_flat_passages_are_bars(step, layer):
    fig = _valid(figs.passage(step, layer))
    p = step.passage(layer)
    assert [t.type for t in fig.data] == ["bar", "bar"]
    np.testing.assert_allclose(fig.data[1].y, p.grad_in.reshape(-1).numpy())


def test_filter_gradient_cells_carry_their_index_and_value(step):
    fig = _valid(figs.filter_gradient(step, "conv2.weight", 5, mark=(3, 1, 2)))
    points = fig.data[1]
    assert len(points.customdata) == 16 * 25
    for n in (0, 77, 399):
        c, u, v = points.customdata[n]
        assert float(points.text[n]) == pytest.approx(float(step.grads["conv2.weight"][5, c, u, v]), rel=1e-3)
        assert fig.data[0].z[points.y[n]][points.x[n]] == pytest.approx(float(step.grads["conv2.weight"][5, c, u, v]))
    assert len(fig.layout.shapes) == 1


def test_dense_gradient_marks_the_picked_input(step):
    fig = _valid(figs.dense_gradient(step, "fc1.weight", 7, mark=12))
    np.testing.assert_allclose(fig.data[0].y, step.grads["fc1.weight"][7].numpy())
    assert fig.data[0].marker.color[12] == figs.RIGHT


def test_term_maps_multiply_to_the_gradient(step):
    t = backprop.terms(step, "conv2.weight", backprop.strongest(step, "conv2.weight"))
    fig = _valid(figs.term_maps(t))
    a, g, prod = (np.asarray(d.z, dtype=np.float64) for d in fig.data)
    np.testing.assert_allclose(a * g, prod)
    assert prod.sum() == pytest.approx(t.grad, rel=1e-9) and len(fig.layout.shapes) == 8
    with pytest.raises(ValueError, match="dense"):
        figs.term_maps(backprop.terms(step, "fc1.weight", (0, 0)))


def test_kernel_before_after_and_change(step):
    fig = _valid(figs.kernel_change(step, "conv1.weight", 4))
    before, after, change = (np.asarray(d.z, dtype=np.float64) for d in fig.data)
    np.testing.assert_allclose(before, step.before["conv1.weight"][4, 0].numpy(), rtol=1e-6)
    np.testing.assert_allclose(change, after - before, atol=1e-7)


def test_probabilities_change_and_loss_curve(step):
    fig = _valid(figs.probabilities_change(step, LABELS))
    np.testing.assert_allclose(fig.data[1].y, step.probs_after.numpy())
    curve = _valid(figs.loss_curve([2.3, 0.5, 0.01]))
    assert list(curve.data[0].x) == [0, 1, 2] and curve.layout.yaxis.type == "log"
    assert _valid(figs.loss_curve([2.3, 2.0])).layout.yaxis.type == "linear"
    with pytest.raises(ValueError):
        figs.loss_curve([])
