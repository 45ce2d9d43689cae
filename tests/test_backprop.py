"""cnnviz.backprop: the hand-worked backward pass equals torch's autograd (every parameter, every layer's output,
the input) for every preset, shipped checkpoints and odd geometries; a weight's terms add up to its gradient;
the caller's model is never changed. (The shown lines: tests/test_backprop_lines.py.)"""
from __future__ import annotations

import copy
import math
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnviz import arch, backprop, checkpoints
from cnnviz.arch import Spec

TOL = 1e-5


def _conv(c: int, k: int, stride: int = 1, padding: int = 0, dilation: int = 1, **more) -> dict:
    return {"type": "conv", "out_channels": c, "kernel_size": k, "stride": stride, "padding": padding,
            "dilation": dilation, **more}


# Geometries no preset has: strides, dilations, padded and overlapping pools, sigmoid, batch norm, no bias.
ODD = {
    "strided": Spec.from_json({"input_shape": [1, 28, 28], "layers": [
        _conv(6, 3, stride=2, padding=1), {"type": "relu"},
        _conv(4, 3, padding=2, dilation=2), {"type": "sigmoid"},
        {"type": "maxpool", "kernel_size": 3, "stride": 2, "padding": 1, "dilation": 1},
        {"type": "avgpool", "kernel_size": 2, "stride": 1, "padding": 1},
        {"type": "flatten"}, {"type": "linear", "out_features": 10}]}),
    "dilated_pool": Spec.from_json({"input_shape": [1, 28, 28], "layers": [
        _conv(3, 5, stride=3, padding=4, dilation=3, bias=False), {"type": "tanh"},
        {"type": "maxpool", "kernel_size": 2, "stride": 1, "padding": 1, "dilation": 2},
        {"type": "flatten"}, {"type": "linear", "out_features": 7, "bias": False}]}),
    "batchnorm": Spec.from_json({"input_shape": [1, 28, 28], "layers": [
        _conv(4, 3), {"type": "batchnorm"}, {"type": "relu"}, {"type": "maxpool", "kernel_size": 2},
        {"type": "flatten"}, {"type": "linear", "out_features": 16}, {"type": "batchnorm"}, {"type": "tanh"},
        {"type": "dropout", "p": 0.5}, {"type": "linear", "out_features": 10}]}),
}


def _odd_model(name: str) -> torch.nn.Module:
    torch.manual_seed(3)
    model = arch.build(ODD[name])
    for m in model.modules():  # batch norm with statistics and scales that are not the identity
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            with torch.no_grad():
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.3, 0.3)
    return model.eval()


@pytest.fixture(scope="module")
def digits() -> torch.Tensor:
    """Real MNIST test digits #0-#2 (a 7, a 2, a 1), normalised: (3, 1, 28, 28)."""
    from cnnviz import data
    return data.load("mnist", "test", download=False).images[:3]


def _autograd(model: torch.nn.Module, x: torch.Tensor, label: int):
    """torch's own gradients: every parameter, every layer's output, the input."""
    model = copy.deepcopy(model).eval()
    x = x.clone().requires_grad_(True)
    outs, h = {}, x
    for name, module in model.named_children():
        h = module(h)
        h.retain_grad()
        outs[name] = h
    loss = F.cross_entropy(h, torch.tensor([label]))
    loss.backward()
    params = {n: p.grad for n, p in model.named_parameters()}
    return float(loss.detach()), params, {n: o.grad[0] for n, o in outs.items()}, x.grad[0]


def _agree(ours: torch.Tensor, torch_grad: torch.Tensor, what: str) -> None:
    assert ours.shape == torch_grad.shape, what
    assert float((ours - torch_grad.double()).abs().max()) <= TOL, what
    scale = float(torch_grad.abs().max())
    if scale > 0:  # not only tiny numbers agreeing: within 1e-4 of the gradient's own size as well
        assert float((ours - torch_grad.double()).abs().max()) <= 1e-4 * scale + 1e-9, what


def _check_against_autograd(model: torch.nn.Module, x: torch.Tensor, label: int) -> backprop.Step:
    s = backprop.step(model, x, label, lr=0.05)
    loss, grads, outs, xg = _autograd(model, x, label)
    assert abs(s.loss - loss) < TOL
    assert list(s.grads) == [n for n, _ in model.named_parameters()]
    for name, g in grads.items():
        _agree(s.grads[name], g, name)
    for p in s.passages:
        _agree(p.grad_out, outs[p.layer], f"∂L/∂{p.layer}")
    _agree(s.input_grad, xg, "∂L/∂x")
    assert [p.layer for p in s.passages] == list(reversed(model.spec.layer_names()))
    return s


@pytest.mark.parametrize("preset", list(arch.PRESETS))
def test_every_gradient_of_every_untrained_preset_equals_autograd(preset, digits):
    model = backprop.untrained(preset)
    for i, label in ((0, 7), (1, 4)):  # the right label and a wrong one
        _check_against_autograd(model, digits[i:i + 1], label)


@pytest.mark.parametrize("name", ["tutorial_a", "tutorial_b", "lenet5", "conv32_64"])
def test_every_gradient_of_a_shipped_checkpoint_equals_autograd(name, digits):
    model, _ = checkpoints.load(name)
    s = _check_against_autograd(model, digits[:1], 3)  # a 7 called a 3: large gradients, not ~0
    assert float(s.probs_before[3]) < 0.5 and s.loss > 0.5


@pytest.mark.parametrize("name", list(ODD))
def test_strides_dilations_padding_batchnorm_equal_autograd(name, digits):
    model = _odd_model(name)
    for label in (0, 6):
        _check_against_autograd(model, digits[1:2], label)


def test_the_callers_model_is_not_changed_and_the_step_is_plain_sgd(digits):
    model, _ = checkpoints.load("keras_small")  # has dropout: the step must not use it
    model.train()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    s = backprop.step(model, digits[:1], 2, lr=0.1)
    assert model.training  # its mode is the caller's
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())
    for n, p in model.named_parameters():
        assert torch.equal(s.before[n], p.detach())
        torch.testing.assert_close(s.after[n], (p.detach().double() - 0.1 * s.grads[n]).float(), rtol=0, atol=1e-7)
    updated = copy.deepcopy(model).eval()
    updated.load_state_dict(s.after, strict=False)
    with torch.no_grad():
        before = torch.softmax(model.eval()(digits[:1])[0].double(), 0)
        after = torch.softmax(updated(digits[:1])[0].double(), 0)
    torch.testing.assert_close(s.probs_before, before, rtol=0, atol=1e-6)
    torch.testing.assert_close(s.probs_after, after, rtol=0, atol=1e-6)
    assert s.loss_after == pytest.approx(-math.log(float(after[2])), abs=1e-5)
    assert float(s.probs_after[2]) > float(s.probs_before[2])  # the right class went up


def test_shapes_and_what_is_kept(digits):
    s = backprop.step(backprop.untrained("tutorial_a"), digits[:1], 7)
    assert s.probs_before.shape == s.probs_after.shape == (10,) and s.logits.shape == (10,)
    assert s.inputs["conv2"].shape == (16, 14, 14) and s.outputs["conv2"].shape == (32, 14, 14)
    assert s.passage("conv2").grad_out.shape == (32, 14, 14) and s.passage("conv2").grad_in.shape == (16, 14, 14)
    assert s.input_grad.shape == (1, 28, 28)
    assert {n: tuple(g.shape) for n, g in s.grads.items()} == {
        "conv1.weight": (16, 1, 5, 5), "conv1.bias": (16,), "conv2.weight": (32, 16, 5, 5), "conv2.bias": (32,),
        "fc1.weight": (10, 1568), "fc1.bias": (10,)}
    np.testing.assert_allclose(backprop.output_gradient(s), (s.probs_before - F.one_hot(torch.tensor(7), 10)).numpy())


def test_max_pooling_sends_the_gradient_to_the_max_of_each_window_only(digits):
    s = backprop.step(backprop.untrained("tutorial_a"), digits[:1], 7)
    p = s.passage("pool2")
    inp = s.inputs["pool2"]                                    # (32, 14, 14)
    windows = inp.reshape(32, 7, 2, 7, 2).permute(0, 1, 3, 2, 4).reshape(32, 7, 7, 4)
    mask = p.mask.reshape(32, 7, 2, 7, 2).permute(0, 1, 3, 2, 4).reshape(32, 7, 7, 4)
    assert (mask.sum(dim=-1) == 1).all()                       # one winner per 2x2 window
    assert torch.equal(windows[mask].reshape(32, 7, 7), windows.amax(dim=-1))   # and it is the max
    assert (p.grad_in[~p.mask] == 0).all()
    torch.testing.assert_close(p.grad_in[p.mask].reshape(-1).sort().values,
                               p.grad_out.reshape(-1).sort().values)


def test_average_pooling_splits_the_gradient_in_four_and_relu_stops_it_where_off(digits):
    s = backprop.step(backprop.untrained("tutorial_b"), digits[:1], 7)
    p = s.passage("pool1")
    torch.testing.assert_close(p.grad_in, torch.kron(p.grad_out, torch.ones(2, 2, dtype=torch.float64)) / 4)
    r = s.passage("relu1")
    assert torch.equal(r.mask, s.outputs["relu1"] > 0)
    assert (r.grad_in[~r.mask] == 0).all() and torch.equal(r.grad_in[r.mask], r.grad_out[r.mask])


def _indices(shape: tuple[int, ...], rng: np.random.Generator, n: int = 5) -> list[tuple[int, ...]]:
    return [tuple(0 for _ in shape), tuple(v - 1 for v in shape)] + [
        tuple(int(rng.integers(v)) for v in shape) for _ in range(n)]


def _pairs(s, name: str, index: tuple[int, ...]) -> list[tuple[float, float]]:
    """(input value, upstream gradient) pairs of backprop.terms, whose products add up to the gradient."""
    t = backprop.terms(s, name, index)
    return [(float(a), float(b)) for a, b in zip(t.inputs, t.upstream)]


@pytest.mark.parametrize("which", list(arch.PRESETS) + list(ODD))
def test_weight_terms_add_up_to_the_gradient(which, digits):
    model = _odd_model(which) if which in ODD else backprop.untrained(which)
    s = backprop.step(model, digits[2:3], 5)
    rng = np.random.default_rng(21)
    for name in backprop.weight_names(s):
        for index in _indices(tuple(s.grads[name].shape), rng):
            pairs = _pairs(s, name, index)
            total = math.fsum(a * b for a, b in pairs)
            assert total == pytest.approx(float(s.grads[name][index]), rel=1e-9, abs=1e-12), (name, index)
            layer = name.rsplit(".", 1)[0]
            if name.endswith(".weight") and s.inputs[layer].dim() == 3:
                assert len(pairs) == s.outputs[layer][0].numel()  # one term per output position
            elif name.endswith(".weight") and "bn" not in layer:
                assert len(pairs) == 1                            # a dense weight: one pair


def test_conv_terms_read_the_input_where_the_kernel_sits(digits):
    """conv1 of tutorial_a, padding 2: weight (o, 0, u, v) meets input[i + u - 2, j + v - 2] at position (i, j)."""
    s = backprop.step(backprop.untrained("tutorial_a"), digits[:1], 7)
    t = backprop.terms(s, "conv1.weight", (3, 0, 0, 4))
    x = s.inputs["conv1"][0].double()
    padded = F.pad(x, (2, 2, 2, 2))
    assert t.grid == (28, 28) and len(t.positions) == 784
    for m, (i, j) in enumerate(t.positions):
        assert t.inputs[m] == float(padded[i, j + 4])
        assert (t.sources[m] is None) == (i < 2 or j + 2 > 27)
        assert t.upstream[m] == float(s.passage("conv1").grad_out[3, i, j])


def test_the_strongest_weight_is_picked_first(digits):
    s = backprop.step(backprop.untrained("tutorial_a"), digits[:1], 7)
    o, c, u, v = backprop.strongest(s, "conv2.weight")
    assert abs(float(s.grads["conv2.weight"][o, c, u, v])) == float(s.grads["conv2.weight"].abs().max())


@pytest.mark.parametrize("preset, lr", [("logistic", 0.05), ("tutorial_a", 0.05), ("keras_small", 0.01)])
def test_more_steps_make_the_loss_fall_and_start_where_step_ends(preset, lr, digits):
    model = backprop.untrained(preset)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    s = backprop.step(model, digits[:1], 7, lr=lr)
    losses = backprop.steps(model, digits[:1], 7, lr=lr, n=10)
    assert len(losses) == 11
    assert losses[0] == pytest.approx(s.loss, abs=1e-5) and losses[1] == pytest.approx(s.loss_after, abs=1e-4)
    assert losses[-1] < losses[0] and all(b <= a + 1e-6 for a, b in zip(losses, losses[1:]))
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())


@pytest.mark.parametrize("call, message", [
    (lambda m, x: backprop.step(m, x, 10), "not one of the model's 10 classes"),
    (lambda m, x: backprop.step(m, x, -1), "label"),
    (lambda m, x: backprop.step(m, x, 1, lr=0.0), "learning rate"),
    (lambda m, x: backprop.step(m, x, 1, lr=float("nan")), "learning rate"),
    (lambda m, x: backprop.step(m, x[:, :, :14], 1), "shape"),
    (lambda m, x: backprop.step(torch.nn.Linear(2, 2), x, 1), "no spec"),
    (lambda m, x: backprop.steps(m, x, 1, n=0), "n must be"),
    (lambda m, x: backprop.terms(backprop.step(m, x, 1), "conv9.weight", (0,)), "no parameter"),
    (lambda m, x: backprop.terms(backprop.step(m, x, 1), "conv1.weight", (16, 0, 0, 0)), "0..15"),
    (lambda m, x: backprop.untrained("nope"), "no preset"),
])
def test_bad_arguments_are_value_errors_that_say_what(call, message, digits):
    with pytest.raises(ValueError, match=re.escape(message)):
        call(backprop.untrained("tutorial_a"), digits[:1])
