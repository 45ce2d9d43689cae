"""export: the generated PyTorch code runs, matches build(spec), and takes a cnnviz state_dict."""
import json

import pytest
import torch
from conftest import count_params

from cnnviz import export
from cnnviz.arch import PRESETS, Spec, build


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_generated_code_builds_the_same_network(name):
    spec = PRESETS[name]
    namespace: dict = {}
    exec(compile(export.to_pytorch(spec), f"{name}.py", "exec"), namespace)
    net = namespace["Net"]().eval()
    ours = build(spec).eval()
    assert count_params(net) == count_params(ours)
    net.load_state_dict(ours.state_dict())  # same names, same shapes
    x = torch.randn(2, *spec.input_shape)
    assert torch.allclose(net(x), ours(x))


def test_linear_sizes_are_explained():
    code = export.to_pytorch(PRESETS["conv32_64"])
    assert "nn.Linear(9216, 128)  # 64×12×12 = 9216 inputs" in code


def test_json_text_round_trips():
    spec = PRESETS["lenet5"]
    assert Spec.from_json(json.loads(export.to_json_text(spec))) == spec


def test_impossible_spec_is_not_exported():
    spec = Spec.from_json({"input_shape": [1, 2, 2], "layers": [{"type": "conv", "out_channels": 1, "kernel_size": 3}]})
    with pytest.raises(ValueError, match="kernel 3 > input 2"):
        export.to_pytorch(spec)
