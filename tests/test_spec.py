"""cnnviz.spec: the layer specs stand alone at the bottom (no torch, no shapes); arch re-exports them."""
import subprocess
import sys

import pytest
from conftest import ROOT

from cnnviz import arch, spec


def test_spec_needs_neither_torch_nor_dims():
    code = ("import sys; import cnnviz.spec\n"
            "assert 'torch' not in sys.modules and 'cnnviz.dims' not in sys.modules "
            "and 'cnnviz.arch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_arch_re_exports_the_same_types():
    assert arch.Spec is spec.Spec and arch.Layer is spec.Layer
    assert arch.LAYER_TYPES == spec.LAYER_TYPES and arch.LAYER_KEYS is spec.LAYER_KEYS


@pytest.mark.parametrize("name", sorted(arch.PRESETS))
def test_json_round_trip(name):
    obj = arch.PRESETS[name].to_json()
    assert spec.Spec.from_json(obj).to_json() == obj


def test_a_bad_key_is_named():
    with pytest.raises(ValueError, match="kernel_size"):
        spec.Spec.from_json({"input_shape": [1, 28, 28], "layers": [{"type": "conv", "out_channels": 4}]})


@pytest.mark.parametrize("layer, message", [
    ({"type": "conv", "out_channels": 10**300, "kernel_size": 3},
     "out_channels must be at most 10,000,000, got 100000000000… (301 digits)"),
    ({"type": "linear", "out_features": spec.MAX_WIDTH + 1}, "out_features must be at most 10,000,000"),
    ({"type": "conv", "out_channels": 4, "kernel_size": 4097}, "kernel_size must be at most 4,096"),
    ({"type": "maxpool", "kernel_size": 2, "padding": 10**20}, "padding must be at most 4,096"),
    ({"type": "conv", "out_channels": 4, "kernel_size": 3, "dilation": 0}, "dilation must be a whole number >= 1"),
    ({"type": "linear", "out_features": 10, "bias": "yes"}, "bias must be true or false, got 'yes'"),
    ({"type": "dropout", "p": "0.5"}, "p must be in [0, 1), got '0.5'"),
])
def test_absurd_numbers_are_refused_with_their_bound(layer, message):
    with pytest.raises(ValueError) as err:
        spec.Spec.from_json({"input_shape": [1, 28, 28], "layers": [layer]})
    assert message in str(err.value) and len(str(err.value)) < 200


def test_the_bounds_themselves_are_allowed_and_the_input_shape_is_bounded_too():
    spec.Layer("conv", out_channels=spec.MAX_WIDTH, kernel_size=spec.MAX_SIDE, stride=spec.MAX_SIDE,
               padding=spec.MAX_SIDE, dilation=spec.MAX_SIDE)
    spec.Spec((spec.MAX_WIDTH, spec.MAX_SIDE, spec.MAX_SIDE))
    with pytest.raises(ValueError, match="H and W from 1 to 4,096"):
        spec.Spec((1, 28, 10**300))
