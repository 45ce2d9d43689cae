"""cnnviz.explain: the displayed arithmetic of one unit recomputes the model's own numbers, for every layer
of every shipped model; the receptive field equals the gradient footprint."""
from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
from conftest import SHOWN_NUMBER, written_like

from cnnviz import arch, checkpoints, explain, preprocess, probe

SHIPPED = ("tutorial_a", "tutorial_b", "tutorial_c", "keras_small", "conv32_64", "lenet5")
TOL = 1e-5


@pytest.fixture(scope="module")
def digit() -> torch.Tensor:
    """A real MNIST test digit (#0, a 7) drawn on the canvas, prepared as the page does."""
    from cnnviz import data
    pixels = data.load("mnist", "test", download=False).raw(0)[0].numpy()
    return preprocess.to_mnist(preprocess.render_canvas(pixels, 6, 40, 60)).tensor


def _units(shape: tuple[int, ...], rng: np.random.Generator, n: int = 6) -> list[tuple[int, ...]]:
    """Corners (where padding shows) plus random units of an output shape."""
    corners = [tuple(0 for _ in shape), tuple(v - 1 for v in shape)]
    return corners + [tuple(int(rng.integers(v)) for v in shape) for _ in range(n)]


def _check_arithmetic(e: explain.Explanation) -> None:
    """Recompute the final number from the displayed parts only."""
    if e.type == "conv":
        np.testing.assert_allclose(e.products, e.patch * e.weights, rtol=1e-12)
        np.testing.assert_allclose(e.channel_sums, e.products.sum(axis=(1, 2)), rtol=1e-12, atol=1e-12)
        assert abs(float(e.channel_sums.sum()) + e.bias - e.pre) < 1e-9
    elif e.type == "maxpool":
        assert e.pre == float(e.window.max())
    elif e.type == "avgpool":
        assert abs(float(e.window.mean()) - e.pre) < 1e-12
    elif e.type == "linear":
        assert abs(sum(t.product for t in e.terms) + e.rest + e.bias - e.pre) < 1e-9
        products = [abs(t.product) for t in e.terms]
        assert products == sorted(products, reverse=True) and len(e.terms) == min(explain.TOP_TERMS, len(e.terms)
                                                                                     + e.n_rest)
    if e.activation:
        assert abs({"relu": max(e.pre, 0.0), "tanh": np.tanh(e.pre)}[e.activation] - e.value) < 1e-12
    else:
        assert e.value == e.pre


@pytest.mark.parametrize("name", SHIPPED)
def test_every_layer_of_every_shipped_model_recomputes_the_captured_activation(name, digit):
    model, card = checkpoints.load(name)
    acts = probe.activations(model, digit)
    rng = np.random.default_rng(0)
    kinds = set()
    for layer, out in acts.items():
        for index in _units(tuple(out.shape[1:]), rng):
            e = explain.unit(model, digit, acts, layer, index)
            kinds.add(e.type)
            assert abs(e.value - float(out[(0, *index)] if e.shown == layer else acts[e.shown][(0, *index)])) < TOL
            before = acts[e.source] if e.type in explain.ACTIVATIONS else out  # an activation's input, else its output
            if e.type not in ("flatten",):
                assert abs(e.pre - float(before[(0, *index)])) < TOL * max(1.0, abs(e.pre))
            _check_arithmetic(e)
            assert e.lines and e.lines[-1].split(" = ")[-1].rstrip("%")  # a final number is written out
    assert kinds == {layer.type for layer in model.spec.layers}  # every layer type of this model was explained


def test_conv_patch_is_the_previous_layer_with_zero_padding(digit):
    model, _ = checkpoints.load("tutorial_a")
    acts = probe.activations(model, digit)
    e = explain.unit(model, digit, acts, "conv2", (3, 0, 13))  # padding 2: rows -2..2, cols 11..15
    assert (e.top, e.left, e.source) == (-2, 11, "pool1")
    src = acts["pool1"][0].double().numpy()
    np.testing.assert_array_equal(e.patch[:, :2], 0.0)                 # above the map
    np.testing.assert_array_equal(e.patch[:, :, 3:], 0.0)              # right of it (cols 14, 15)
    np.testing.assert_allclose(e.patch[:, 2:, :3], src[:, 0:3, 11:14])
    assert e.patch.shape == e.weights.shape == (16, 5, 5) and e.channel_sums.shape == (16,)
    assert e.activation == "relu" and e.shown == "relu2"


def test_output_layer_shows_softmax_with_the_logits(digit):
    model, _ = checkpoints.load("tutorial_a")
    acts = probe.activations(model, digit)
    e = explain.unit(model, digit, acts, "fc1", (7,))
    probs = probe.probabilities(acts["fc1"])
    assert abs(e.softmax.probs[7] - probs[7]) < TOL and e.softmax.probs.argmax() == 7
    assert e.terms[0].source.startswith("pool2[") and e.n_rest == 1568 - explain.TOP_TERMS
    assert f"{probs[7]:.2%}" in e.lines[-1]


def test_bad_layer_or_index_names_the_range(digit):
    model, _ = checkpoints.load("tutorial_a")
    acts = probe.activations(model, digit)
    with pytest.raises(ValueError, match=r"conv1 has output 16×28×28: index \(16, 0, 0\) is outside"):
        explain.unit(model, digit, acts, "conv1", (16, 0, 0))
    with pytest.raises(ValueError, match="no layer 'conv9'"):
        explain.unit(model, digit, acts, "conv9", (0, 0, 0))
    with pytest.raises(ValueError, match="index"):
        explain.unit(model, digit, acts, "fc1", (0, 0))


def test_stages_fold_the_activation_into_its_layer():
    got = [(s.title, s.shown) for s in explain.stages(arch.PRESETS["lenet5"])]
    assert got == [("conv1 6×28×28", "tanh1"), ("pool1 6×14×14", "pool1"), ("conv2 16×10×10", "tanh2"),
                   ("pool2 16×5×5", "pool2"), ("fc1 120", "tanh3"), ("fc2 84", "tanh4"), ("fc3 10", "fc3")]


def _footprint(model: torch.nn.Module, layer: str, index: tuple[int, ...], trials: int = 20) -> tuple:
    """Bounding box (top, bottom, left, right) of the input pixels whose gradient reaches the unit."""
    gen = torch.Generator().manual_seed(0)
    # a batch of random inputs: a max pool passes the gradient to one pixel of its window per input
    x = torch.randn(trials, 1, 28, 28, generator=gen).requires_grad_(True)
    with probe.capture(model, [layer], detach=False) as out:
        model(x)
    out[layer][(slice(None), *index)].sum().backward()  # each input's gradient is its own unit's
    touched = (x.grad[:, 0] != 0).any(0)
    rows, cols = np.flatnonzero(touched.any(1)), np.flatnonzero(touched.any(0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


@pytest.mark.parametrize("name, layer, index", [
    ("tutorial_a", "conv1", (0, 10, 10)), ("tutorial_a", "conv1", (0, 0, 27)), ("tutorial_a", "pool1", (2, 5, 6)),
    ("tutorial_a", "conv2", (4, 7, 3)), ("tutorial_a", "pool2", (1, 3, 0)), ("tutorial_c", "conv2", (0, 4, 7)),
    ("conv32_64", "conv2", (5, 23, 11)), ("conv32_64", "pool1", (0, 6, 6)), ("lenet5", "pool2", (3, 2, 4))])
def test_receptive_field_equals_the_gradient_footprint(name, layer, index):
    torch.manual_seed(1)
    spec = arch.PRESETS[name]
    model = arch.build(spec).eval()
    for m in model.modules():  # no dead ReLU may hide a pixel the unit can see: positive weights, positive bias
        if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
            torch.nn.init.uniform_(m.weight, 0.01, 1.0)
            torch.nn.init.constant_(m.bias, 1.0)
    f = explain.receptive_field(spec, layer, *index[1:])
    assert (f.top, f.bottom, f.left, f.right) == _footprint(model, layer, index) and not f.whole


def test_receptive_field_of_a_dense_unit_is_the_whole_input():
    f = explain.receptive_field(arch.PRESETS["tutorial_a"], "fc1")
    assert f.whole and (f.top, f.bottom, f.left, f.right) == (0, 28, 0, 28)
    rows = {r.name: r for r in __import__("cnnviz.dims", fromlist=["table"]).table(arch.PRESETS["tutorial_a"])}
    f = explain.receptive_field(arch.PRESETS["tutorial_a"], "pool2", 3, 3)  # a middle unit: not clipped
    assert f.bottom - f.top == rows["pool2"].receptive_field == f.right - f.left


# --- the shown arithmetic: every line, recomputed from the numbers it shows -------------------------------

N = SHOWN_NUMBER
REASON = re.compile(r" \(≈: [^)]*rounded[^)]*\)$")


def _judge(sign: str, value: float, shown: str, operands: int, line: str, slack: float = 1.0) -> None:
    """'=': the shown operands give the shown result at its precision; '≈': they do not, within rounding."""
    if sign == "=":
        assert written_like(value, shown), f"{line!r}: the shown numbers give {value!r}, not {shown}"
    else:
        half = 0.5 * 10.0 ** -len(shown.split(".")[1]) if "e" not in shown else abs(float(shown)) * 5e-4
        assert not written_like(value, shown) and abs(value - float(shown)) <= slack * (operands + 1) * half, line


def _recompute(e: explain.Explanation) -> int:
    """Check every line of e.lines that states a result from numbers it shows; how many lines were checked."""
    checked, previous = 0, None
    for line in e.lines:
        assert ("≈" in line) == bool(REASON.search(line)), f"{line!r}: an ≈ says why, an = needs no reason"
        body = REASON.sub("", line)
        if m := re.fullmatch(r"Σ .*? = (.+) ([=≈]) " + N, body):
            terms = m.group(1).split(" + ")
            if "…" not in m.group(1):
                _judge(m.group(2), sum(float(re.match(N, t).group(1)) for t in terms), m.group(3), len(terms), line)
                checked += 1
            previous = m.group(3)
        elif m := re.fullmatch(rf"(?:{N} )?\+ bias {N} ([=≈]) {N}", body):
            first = m.group(1) if m.group(1) is not None else previous  # "S + bias b", or "+ bias b" under S
            _judge(m.group(3), float(first) + float(m.group(2)), m.group(4), 2, line)
            checked += 1
        elif m := re.fullmatch(rf"= {N} \(top \d+\) \+ {N} \(the other \d+\) \+ bias {N} ([=≈]) {N}", body):
            _judge(m.group(4), float(m.group(1)) + float(m.group(2)) + float(m.group(3)), m.group(5), 3, line)
            checked += 1
        elif m := re.fullmatch(rf"(relu|tanh|sigmoid)\({N}\) ([=≈]) {N}", body):
            f = {"relu": lambda v: max(v, 0.0), "tanh": math.tanh, "sigmoid": lambda v: 1 / (1 + math.exp(-v))}
            _judge(m.group(3), f[m.group(1)](float(m.group(2))), m.group(4), 1, line)
            checked += 1
        elif m := re.fullmatch(rf"softmax: p = exp\({N} − {N}\) / Σ exp\(z − max\) ([=≈]) {N} / {N} ([=≈]) {N}%",
                               body):
            a, b, sign1, ex, total, sign2, pct = m.groups()
            _judge(sign1, math.exp(float(a) - float(b)), ex, 2, line, slack=max(1.0, float(ex)))
            _judge(sign2, 100 * float(ex) / float(total), pct, 2, line, slack=100 / float(total))
            checked += 1
        else:
            assert not re.search(r"[=≈] -?\d", body) or body.startswith(("max of", "average of", "dropout",
                                                                           "flatten")), f"unchecked: {line!r}"
    return checked


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shown_line_adds_up_at_the_shown_precision(name):
    """Real MNIST test digits through a shipped model, many units of every layer: each line's result is its
    shown numbers' result at the shown precision, or says ≈ and why; "holds" states the value as the lines do."""
    from cnnviz import data

    model, card = checkpoints.load(name)
    split = data.load("mnist", "test", download=False)
    rng = np.random.default_rng(18)
    checked = approx = 0
    for i in (0, 1, 2, 3):
        x = preprocess.from_mnist(split.raw(i)[0]).normalized(card.normalize)
        acts = probe.activations(model, x)
        for layer, out in acts.items():
            for index in _units(tuple(out.shape[1:]), rng, n=10):
                e = explain.unit(model, x, acts, layer, index)
                checked += _recompute(e)
                approx += sum("≈" in line for line in e.lines)
                results = [re.search(rf"[=≈] {N}(?: \(≈[^)]*\))?$", line) for line in e.lines]
                stated = [r.group(1) for r in results if r is not None and "softmax" not in r.string]
                if stated:  # the page's "holds" is this text
                    assert e.value_text == stated[-1], (e.value_text, e.lines)
                else:  # flatten / dropout: "... re-addresses the number: 0.1234"
                    assert e.lines[-1].split(": ")[-1].split(" ")[0] == e.value_text, (e.value_text, e.lines)
    assert checked > 200 and approx < checked / 2, (checked, approx)  # mostly exact; ≈ only where rounding bites
