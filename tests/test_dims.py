"""dims: the calculator's arithmetic equals what torch really does, for presets and many generated specs."""
import os

import pytest
import torch
from conftest import count_params
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnnviz import dims
from cnnviz.arch import PRESETS, Layer, Spec, _module, build


@pytest.mark.parametrize("w, k, p, s, out, kind", [
    (4, 3, 0, 1, 2, "valid"),   # the tutorials' first example
    (5, 3, 1, 1, 5, "same"),    # and their second
    (28, 5, 2, 1, 28, "same"),
    (32, 5, 4, 1, 36, "full"),
    (7, 3, 0, 2, 3, "valid"),
])
def test_tutorial_examples(w, k, p, s, out, kind):
    work = dims.worked(w, k, s, p)
    assert work.out == out == dims.conv_out(w, k, s, p)
    assert work.padding_kind == kind
    assert work.exact


def test_worked_steps_show_the_numbers():
    work = dims.worked(5, 3, 1, 1)
    assert work.steps[0] == "O = (W - K + 2P)/S + 1 = (5 - 3 + 2·1)/1 + 1"
    assert work.steps[-1].endswith("= 4 + 1 = 5")


def test_inexact_division_floors_and_says_what_is_lost():
    work = dims.worked(6, 3, 2, 0)  # (6-3)/2 = 1.5
    assert work.out == 2 and not work.exact and work.lost == 1
    assert any("rounds down" in n and "last 1" in n for n in work.notes)
    assert any("floor" in s for s in work.steps)


def test_dilation_widens_the_kernel():
    work = dims.worked(10, 3, 1, 0, 2)
    assert work.k_eff == 5 and work.out == 6
    assert work.steps[0].startswith("K_eff = D(K - 1) + 1 = 2(3 - 1) + 1 = 5")


@pytest.mark.parametrize("args, words", [
    ((3, 5), "output size would be -1: kernel 5 > input 3 + 2*padding 0"),
    ((3, 3, 1, 0, 2), "dilation 2 makes it span 5"),
    ((5, 3, 0), "stride must be a whole number >= 1, got 0"),
    ((5, 3, -1), "stride must be a whole number >= 1, got -1"),
    ((5, 3, 1, -1), "padding must be a whole number >= 0"),
    ((0, 3), "input size must be a whole number >= 1"),
])
def test_impossible_layers_raise_with_the_numbers(args, words):
    with pytest.raises(ValueError) as err:
        dims.conv_out(*args)
    assert words in str(err.value)
    with pytest.raises(ValueError):
        dims.worked(*args)


@pytest.mark.parametrize("k, d, p", [(3, 1, 1), (5, 1, 2), (3, 2, 2), (4, 1, None), (1, 1, 0)])
def test_same_padding(k, d, p):
    assert dims.same_padding(k, d) == p
    if p is not None:
        assert dims.conv_out(17, k, 1, p, d) == 17


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_match_torch(name):
    _assert_matches_torch(PRESETS[name])


def test_receptive_field_of_tutorial_a():
    rows = {r.name: r for r in dims.table(PRESETS["tutorial_a"])}
    assert rows["conv1"].receptive_field == 5
    assert rows["pool1"].receptive_field == 6 and rows["pool1"].jump == 2
    assert rows["conv2"].receptive_field == 6 + 4 * 2
    assert rows["pool2"].receptive_field == 16 and rows["fc1"].receptive_field is None


def test_macs_and_memory_of_tutorial_a():
    rows = {r.name: r for r in dims.table(PRESETS["tutorial_a"])}
    assert rows["conv1"].macs == 16 * 28 * 28 * 25
    assert rows["conv2"].macs == 32 * 14 * 14 * 16 * 25
    assert rows["fc1"].macs == 1568 * 10
    assert rows["conv1"].activation_bytes == 16 * 28 * 28 * 4
    t = dims.totals(PRESETS["tutorial_a"])
    acts = sum(r.activation_bytes for r in rows.values())
    assert t.params == 28_938 and t.forward_bytes == 28 * 28 * 4 + acts + 28_938 * 4
    assert t.training_bytes == 28 * 28 * 4 + 2 * acts + 2 * 28_938 * 4


def test_analyze_keeps_rows_before_the_impossible_layer():
    spec = Spec.from_json({"input_shape": [1, 8, 8], "layers": [
        {"type": "conv", "out_channels": 4, "kernel_size": 3}, {"type": "maxpool", "kernel_size": 2},
        {"type": "conv", "out_channels": 4, "kernel_size": 5}, {"type": "flatten"}]})
    result = dims.analyze(spec)
    assert [r.out_shape for r in result.rows] == [(4, 6, 6), (4, 3, 3)]
    assert result.error_index == 2
    assert "conv2" in result.error and "kernel 5 > input 3" in result.error
    with pytest.raises(ValueError, match="conv2"):
        dims.table(spec)


def test_linear_needs_flatten():
    spec = Spec.from_json({"input_shape": [1, 8, 8], "layers": [{"type": "linear", "out_features": 3}]})
    with pytest.raises(ValueError, match="add a flatten layer"):
        dims.table(spec)


def _assert_matches_torch(spec: Spec) -> None:
    rows = dims.table(spec)
    model = build(spec).eval()
    x = torch.zeros(2, *spec.input_shape)
    for row, (name, module) in zip(rows, model.named_children()):
        x = module(x)
        assert row.name == name
        assert tuple(x.shape[1:]) == row.out_shape, name
        assert row.params == sum(p.numel() for p in module.parameters()), name
    assert sum(r.params for r in rows) == count_params(model)


spatial_layer = st.one_of(
    st.builds(lambda c, k, s, p, d: Layer(type="conv", out_channels=c, kernel_size=k, stride=s, padding=p, dilation=d),
              st.integers(1, 4), st.integers(1, 7), st.integers(1, 4), st.integers(0, 4), st.integers(1, 3)),
    st.builds(lambda k, s, p, d: Layer(type="maxpool", kernel_size=k, stride=s, padding=p, dilation=d),
              st.integers(1, 5), st.none() | st.integers(1, 4), st.integers(0, 3), st.integers(1, 2)),
    st.builds(lambda k, s, p: Layer(type="avgpool", kernel_size=k, stride=s, padding=p),
              st.integers(1, 5), st.none() | st.integers(1, 4), st.integers(0, 3)),
    st.sampled_from([Layer(type="relu"), Layer(type="tanh"), Layer(type="batchnorm"), Layer(type="dropout", p=0.3)]),
)


@st.composite
def specs(draw):
    shape = (draw(st.integers(1, 3)), draw(st.integers(1, 40)), draw(st.integers(1, 40)))
    layers = draw(st.lists(spatial_layer, min_size=1, max_size=5))
    if draw(st.booleans()):
        layers += [Layer(type="flatten"), Layer(type="linear", out_features=draw(st.integers(1, 12)))]
    return Spec(shape, tuple(layers))


EXAMPLES = int(os.environ.get("CNNVIZ_HYPOTHESIS_EXAMPLES", 250))  # raise it for a deeper search


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs())
def test_generated_specs_match_torch_or_fail_where_torch_fails(spec):
    result = dims.analyze(spec)
    if result.error is None:
        _assert_matches_torch(spec)
        return
    # torch must refuse the very layer dims calls impossible
    bad = result.error_index
    name = spec.layer_names()[bad]
    assert result.error.startswith(name)
    in_shape = result.rows[-1].out_shape if result.rows else spec.input_shape
    module = _module(spec.layers[bad], in_shape)
    with pytest.raises(RuntimeError):
        module(torch.zeros(1, *in_shape))


def test_flow_lists_the_shape_changes():
    spec = PRESETS["tutorial_a"]
    assert dims.flow(spec, dims.table(spec)) == ("input 1×28×28 → conv1 16×28×28 → pool1 16×14×14 → conv2 32×14×14 → "
                                                 "pool2 32×7×7 → flatten 1568 → fc1 10")
