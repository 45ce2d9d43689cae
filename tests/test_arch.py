"""arch: the spec round-trips through JSON, builds the published networks, and refuses bad layers."""
import json

import pytest
import torch
from conftest import count_params

from cnnviz import arch, dims
from cnnviz.arch import PRESETS, Layer, Spec, build

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


@pytest.mark.parametrize("name", sorted(arch.PRESETS))
@pytest.mark.parametrize("k", [2, 3, 7])
def test_with_num_classes_adapts_the_output_layer(name, k):
    spec = arch.with_num_classes(arch.PRESETS[name], k)
    out = arch.build(spec)(torch.zeros(2, 1, 28, 28))
    assert out.shape == (2, k)
    assert dims.table(spec)[-1].out_shape == (k,)
    before, after = arch.PRESETS[name].layers, spec.layers
    assert [layer.type for layer in before] == [layer.type for layer in after] and before[:-1] == after[:-1]
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


_ODD_POOLS = {"name": "odd_pools", "input_shape": [1, 28, 28], "layers": [
    {"type": "conv", "out_channels": 4, "kernel_size": 3, "stride": 1, "padding": 1, "dilation": 1},
    {"type": "relu"},
    {"type": "maxpool", "kernel_size": 3, "stride": 2, "padding": 1},  # padded windows
    {"type": "maxpool", "kernel_size": 2},                              # a second pool: the ReLU moves past both
    {"type": "conv", "out_channels": 4, "kernel_size": 3},
    {"type": "relu"},
    {"type": "maxpool", "kernel_size": 2, "dilation": 2},
    {"type": "flatten"},
    {"type": "linear", "out_features": 10}]}


@pytest.mark.parametrize("spec, order", [
    (PRESETS["tutorial_a"], ["conv1", "pool1", "relu1", "conv2", "pool2", "relu2", "flatten", "fc1"]),
    (Spec.from_json(_ODD_POOLS), ["conv1", "pool1", "pool2", "relu1", "conv2", "pool3", "relu2", "flatten", "fc1"]),
    (PRESETS["conv32_64"], ["conv1", "relu1", "conv2", "pool1", "relu2", "dropout1", "flatten", "fc1", "relu3",
                            "dropout2", "fc2"]),
])
@pytest.mark.parametrize("bf16", [False, True])
def test_training_order_gives_the_same_outputs_and_gradients_bit_for_bit(spec, order, bf16):
    torch.manual_seed(0)
    model = build(spec).to(memory_format=torch.channels_last if bf16 else torch.contiguous_format)
    names = spec.layer_names()
    fast = arch.training_order(model)
    assert [n for n, _ in fast.named_children()] == order
    assert [n for n, _ in model.named_children()] == names, "the model keeps the spec's order"
    assert fast.state_dict().keys() == model.state_dict().keys()
    assert all(a is b for a, b in zip(fast.parameters(), model.parameters())), "shared weights, not copies"
    x = torch.randn(16, 1, 28, 28)
    x[:4] = torch.round(x[:4])          # whole numbers: ties inside pool windows
    x[4:6] = -x[4:6].abs()              # all-negative windows
    x[6] = 0.0                          # all zero: every window ties at 0
    outs, grads = [], []
    for net in (model, fast):
        net.zero_grad()
        torch.manual_seed(1)  # the same dropout masks
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            out = net(x)
        out.float().square().sum().backward()
        outs.append(out.detach())
        grads.append([p.grad.clone() for p in model.parameters()])
    assert torch.equal(outs[0], outs[1])
    assert all(torch.equal(a, b) for a, b in zip(*grads))


@pytest.mark.parametrize("name", ["lenet5", "logistic", "tutorial_b"])
def test_training_order_leaves_other_networks_alone(name):
    model = build(PRESETS[name])  # tanh, no pool, average pooling: nothing to move
    assert arch.training_order(model) is model
