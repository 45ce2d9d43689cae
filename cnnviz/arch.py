"""Model building and presets over the layer specs of `cnnviz.spec` (re-exported here: `from cnnviz.arch import Spec`).

The same `Spec` drives the calculator (`cnnviz.dims`), builds the torch model
(`build`), is trained, saved inside every checkpoint and labels activations.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any

from torch import nn

from cnnviz import dims
from cnnviz.spec import LAYER_KEYS, LAYER_TYPES, NAME_PREFIX, Layer, Spec, _is_int  # noqa: F401 (re-exported)


def build(spec: Spec) -> nn.Module:
    """Build the torch model for `spec`: an nn.Sequential whose modules are named as in `spec.layer_names()`.

    Input sizes (conv in_channels, linear in_features) come from `cnnviz.dims`,
    never from hand-written numbers. Raises ValueError for an impossible spec.
    """

    rows = dims.table(spec)  # raises ValueError naming the bad layer
    modules = OrderedDict((row.name, _module(layer, row.in_shape)) for row, layer in zip(rows, spec.layers))
    model = nn.Sequential(modules)
    model.spec = spec  # type: ignore[attr-defined]  # so any model knows its own spec
    return model


def training_order(model: nn.Sequential) -> nn.Sequential:
    """The same modules (shared, not copied) in the order the training loop runs them: each ReLU moved
    past the max-pools that come right after it.

    For speed only: max(relu(a), relu(b)) == relu(max(a, b)) exactly, so the outputs are bit for bit those
    of `model`, and so are the gradients (the pool picks the same element; where the window's max is <= 0
    both give 0), but the ReLU and its backward touch a quarter of the values per 2x2 pool, so a CPU trains
    faster. Not past the flatten as well: with channels_last activations the flatten then copies twice per
    batch, which cost more than the ReLU saved (both measured: docs/performance.md).
    `model` itself keeps the spec's order, which every page shows; the parameters are the same objects.
    """
    names = list(model._modules)
    order = list(names)
    for i in range(len(order) - 2, -1, -1):  # from the end: a ReLU moves past every pool right after it
        j = i
        while (j + 1 < len(order) and type(model._modules[order[j]]) is nn.ReLU
               and type(model._modules[order[j + 1]]) is nn.MaxPool2d):
            order[j], order[j + 1] = order[j + 1], order[j]
            j += 1
    if order == names:
        return model
    return nn.Sequential(OrderedDict((name, model._modules[name]) for name in order))


def constructor(layer: Layer, in_shape: tuple[int, ...]) -> tuple[type[nn.Module], tuple[Any, ...], dict[str, Any]]:
    """The torch class and arguments for one layer given its input shape; `build` and `export` both use it."""
    t = layer.type
    no_bias = {} if layer.has_bias else {"bias": False}  # torch's default is True: only say it when off
    if t == "conv":
        return nn.Conv2d, (in_shape[0], layer.out_channels), {
            "kernel_size": layer.k, "stride": layer.s, "padding": layer.pad, "dilation": layer.dil, **no_bias}
    if t == "maxpool":
        return nn.MaxPool2d, (), {"kernel_size": layer.k, "stride": layer.s, "padding": layer.pad,
                                  "dilation": layer.dil}
    if t == "avgpool":
        return nn.AvgPool2d, (), {"kernel_size": layer.k, "stride": layer.s, "padding": layer.pad}
    if t == "batchnorm":
        return (nn.BatchNorm2d if len(in_shape) == 3 else nn.BatchNorm1d), (in_shape[0],), {}
    if t == "dropout":
        return nn.Dropout, (), {"p": layer.drop_p}
    if t == "linear":
        return nn.Linear, (in_shape[0], layer.out_features), no_bias
    return {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "flatten": nn.Flatten}[t], (), {}


def _module(layer: Layer, in_shape: tuple[int, ...]) -> nn.Module:
    cls, args, kwargs = constructor(layer, in_shape)
    return cls(*args, **kwargs)


def _spec(name: str, layers: list[dict[str, Any]], input_shape=(1, 28, 28)) -> Spec:
    return Spec.from_json({"name": name, "input_shape": list(input_shape), "layers": layers})


def _conv(c: int, k: int, padding: int = 0) -> dict[str, Any]:
    return {"type": "conv", "out_channels": c, "kernel_size": k, "stride": 1, "padding": padding, "dilation": 1}


_R = {"type": "relu"}
_T = {"type": "tanh"}
_F = {"type": "flatten"}
_MP = {"type": "maxpool", "kernel_size": 2}
_AP = {"type": "avgpool", "kernel_size": 2}


def _fc(n: int) -> dict[str, Any]:
    return {"type": "linear", "out_features": n}


def _drop(p: float) -> dict[str, Any]:
    return {"type": "dropout", "p": p}


# The networks of the CNN tutorials this project grew from (A, B and C's published accuracies: cnnviz.tutorials).
PRESETS: dict[str, Spec] = {
    "tutorial_a": _spec("tutorial_a", [_conv(16, 5, 2), _R, _MP, _conv(32, 5, 2), _R, _MP, _F, _fc(10)]),
    "tutorial_b": _spec("tutorial_b", [_conv(16, 5, 2), _R, _AP, _conv(32, 5, 2), _R, _AP, _F, _fc(10)]),
    "tutorial_c": _spec("tutorial_c", [_conv(16, 5), _R, _MP, _conv(32, 5), _R, _MP, _F, _fc(10)]),
    "keras_small": _spec("keras_small", [_conv(8, 5), _R, _MP, _conv(16, 5), _R, _MP, _drop(0.5), _F, _fc(10)]),
    "logistic": _spec("logistic", [_F, _fc(10)]),
    "conv32_64": _spec("conv32_64", [_conv(32, 3), _R, _conv(64, 3), _R, _MP, _drop(0.25), _F,
                                     _fc(128), _R, _drop(0.5), _fc(10)]),
    "wide_fc": _spec("wide_fc", [_conv(32, 5, 2), _R, _MP, _conv(64, 5, 2), _R, _MP, _drop(0.5), _F,
                                 _fc(1000), _R, _fc(10)]),
    "lenet5": _spec("lenet5", [_conv(6, 5, 2), _T, _AP, _conv(16, 5), _T, _AP, _F,
                               _fc(120), _T, _fc(84), _T, _fc(10)]),
}

# One line each for the pickers.
PRESET_NOTES: dict[str, str] = {
    "tutorial_a": "Model A: 2 conv (16, 32 filters, 5x5, same padding) + 2 max-pool + FC. Tutorial: 97.04%",
    "tutorial_b": "Model B: as A with average pooling. Tutorial: 93.59%",
    "tutorial_c": "Model C: as A with valid padding. Tutorial: 96.5%",
    "keras_small": "Small Keras CNN: 5,994 parameters, ~99.1% after 20 epochs (Adam)",
    "logistic": "Logistic regression: flatten + dense 10, 7,850 parameters, ~92.8%",
    "conv32_64": "Keras/PyTorch MNIST example: 1,199,882 parameters, ~99%",
    "wide_fc": "Two conv blocks + a wide 3136 -> 1000 fully connected layer",
    "lenet5": "LeNet-5 (LeCun 1998): tanh + average pooling, 61,706 parameters",
}



def with_num_classes(spec: Spec, num_classes: int) -> Spec:
    """The same network with its last linear layer giving `num_classes` scores (an own dataset's classes)."""
    if not _is_int(num_classes) or num_classes < 2:
        raise ValueError(f"a classifier needs at least 2 classes, got {num_classes!r}")
    last = max((i for i, layer in enumerate(spec.layers) if layer.type == "linear"), default=None)
    if last is None:
        raise ValueError(f"{spec.name or 'this network'} has no linear layer whose outputs could become "
                         f"{num_classes} class scores: end it with flatten and a linear layer")
    later = [layer.type for layer in spec.layers[last + 1:] if layer.type != "dropout"]
    if later:
        raise ValueError(f"{spec.name or 'this network'} ends in {', '.join(later)} after its last linear layer, "
                         f"so its outputs are not class scores")
    layers = list(spec.layers)
    layers[last] = Layer.from_json({**layers[last].to_json(), "out_features": num_classes})
    return Spec(spec.input_shape, tuple(layers), spec.name)
