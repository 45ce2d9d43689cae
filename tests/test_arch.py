"""arch: the spec round-trips through JSON, builds the published networks, and refuses bad layers."""
import json

import pytest
import torch

from cnnviz import arch, dims
from cnnviz.arch import PRESETS, Layer, Spec, build, count_params

DESIGN_EXAMPLE = {"input_shape": [1, 28, 28], "layers": [
    {"type": "conv", "out_channels": 16, "kernel_size": 5, "stride": 1, "padding": 2, "dilation": 1},
    {"type": "relu"},
    {"type": "maxpool", "kernel_size": 2},
    {"type": "dropout", "p": 0.5},
    {"type": "flatten"},
    {"type": "linear", "out_features": 10}]}


def test_design_example_round_trips():
    spec = Spec.from_json(DESIGN_EXAMPLE)
    assert spec.to_json() == DESIGN_EXAMPLE
    assert Spec.from_json(json.loads(json.dumps(spec.to_json()))) == spec


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_round_trip_and_build(name):
    spec = PRESETS[name]
    assert Spec.from_json(spec.to_json()) == spec
    model = build(spec)
    assert model(torch.zeros(3, *spec.input_shape)).shape == (3, 10)
    assert [n for n, _ in model.named_children()] == spec.layer_names()


@pytest.mark.parametrize("name, params", [("keras_small", 5_994), ("logistic", 7_850), ("conv32_64", 1_199_882),
                                          ("lenet5", 61_706), ("tutorial_a", 28_938)])
def test_published_parameter_counts(name, params):
    assert count_params(build(PRESETS[name])) == params


def test_tutorial_a_parameter_shapes():
    shapes = [list(p.shape) for p in build(PRESETS["tutorial_a"]).parameters()]
    assert shapes == [[16, 1, 5, 5], [16], [32, 16, 5, 5], [32], [10, 1568], [10]]


def test_pool_stride_defaults_to_kernel():
    layer = Layer(type="maxpool", kernel_size=3)
    assert layer.s == 3 and Layer(type="conv", out_channels=1, kernel_size=3).s == 1


@pytest.mark.parametrize("obj, words", [
    ({"type": "conv", "kernel_size": 3}, "needs out_channels"),
    ({"type": "conv", "out_channels": 4, "kernel_size": 0}, "kernel_size must be a whole number >= 1"),
    ({"type": "conv", "out_channels": 4, "kernel_size": 3, "padding": -1}, "padding"),
    ({"type": "relu", "kernel_size": 3}, "takes no kernel_size"),
    ({"type": "dropout", "p": 1.5}, "p must be in [0, 1)"),
    ({"type": "banana"}, "unknown layer type"),
    ({"type": "linear", "out_features": 10, "colour": 1}, "unknown key"),
    ({"type": "conv", "out_channels": 2.5, "kernel_size": 3}, "whole number"),
])
def test_bad_layers_are_refused_with_a_reason(obj, words):
    with pytest.raises(ValueError, match=None) as err:
        Layer.from_json(obj)
    assert words in str(err.value)


def test_bad_spec_names_the_layer():
    bad = {"input_shape": [1, 28, 28], "layers": [{"type": "relu"}, {"type": "conv", "kernel_size": 3}]}
    with pytest.raises(ValueError, match="layer 2"):
        Spec.from_json(bad)
    with pytest.raises(ValueError, match="input_shape"):
        Spec.from_json({"input_shape": [28, 28], "layers": []})


def test_impossible_spec_does_not_build():
    spec = Spec.from_json({"input_shape": [1, 4, 4], "layers": [
        {"type": "conv", "out_channels": 2, "kernel_size": 5}]})
    with pytest.raises(ValueError, match="conv1.*kernel 5 > input 4"):
        build(spec)


def test_built_model_knows_its_spec():
    assert build(PRESETS["lenet5"]).spec == PRESETS["lenet5"]
    assert arch.example_input(PRESETS["lenet5"], 2).shape == (2, 1, 28, 28)


@pytest.mark.parametrize("name", sorted(arch.PRESETS))
@pytest.mark.parametrize("k", [2, 3, 7])
def test_with_num_classes_adapts_the_output_layer(name, k):
    spec = arch.with_num_classes(arch.PRESETS[name], k)
    out = arch.build(spec)(torch.zeros(2, 1, 28, 28))
    assert out.shape == (2, k)
    assert dims.table(spec)[-1].out_shape == (k,)
    before, after = arch.PRESETS[name].layers, spec.layers
    assert [l.type for l in before] == [l.type for l in after] and before[:-1] == after[:-1]
    assert spec.name == name and Spec.from_json(spec.to_json()) == spec


def test_with_num_classes_refuses_what_cannot_be_a_classifier():
    no_linear = Spec.from_json({"input_shape": [1, 28, 28], "layers": [{"type": "conv", "out_channels": 4,
                                                                        "kernel_size": 3}, {"type": "flatten"}]})
    with pytest.raises(ValueError, match="no linear layer"):
        arch.with_num_classes(no_linear, 3)
    tail = Spec.from_json({"input_shape": [1, 28, 28], "layers": [{"type": "flatten"},
                           {"type": "linear", "out_features": 10}, {"type": "relu"}]})
    with pytest.raises(ValueError, match="ends in relu"):
        arch.with_num_classes(tail, 3)
    with pytest.raises(ValueError, match="at least 2 classes"):
        arch.with_num_classes(arch.PRESETS["tutorial_a"], 1)
