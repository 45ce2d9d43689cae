"""cnnviz.spec: the layer specs stand alone at the bottom (no torch, no shapes); arch re-exports them."""
import subprocess
import sys

import pytest

from cnnviz import arch, spec
from conftest import ROOT


def test_spec_needs_neither_torch_nor_dims():
    code = ("import sys; import cnnviz.spec\n"
            "assert 'torch' not in sys.modules and 'cnnviz.dims' not in sys.modules and 'cnnviz.arch' not in sys.modules")
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
