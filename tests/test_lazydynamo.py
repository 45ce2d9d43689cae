"""cnnviz.lazydynamo: an optimizer no longer imports torch._dynamo, and nothing else about it changes.

Each case runs in a fresh interpreter: whether torch._dynamo is imported is a property of the whole process.
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

# Three optimizers as cnnviz uses them (SGD with momentum, Adam with weight decay, one-cycle), a few steps each,
# zero_grad / state_dict / load_state_dict included; prints the weights' sum and whether torch._dynamo got loaded.
STEPS = """
import json, sys, torch
if {install}:
    from cnnviz import lazydynamo
    print(lazydynamo.install(), file=sys.stderr)
torch.manual_seed(0)
out = {{}}
for kind in ("sgd", "adam"):
    nn = torch.nn
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3))
    opt = (torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9) if kind == "sgd"
           else torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=1e-3))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=10)
    x, y = torch.randn(16, 1, 8, 8), torch.randint(0, 3, (16,))
    for _ in range(5):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step(); sched.step()
    opt.load_state_dict(opt.state_dict())
    out[kind] = sum(p.double().sum().item() for p in model.parameters())
out["dynamo"] = "torch._dynamo" in sys.modules
print(json.dumps(out))
"""


def _run(code: str) -> tuple[dict, str]:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr.strip()


def test_optimizers_step_alike_without_importing_dynamo():
    plain, _ = _run(STEPS.format(install=False))
    lazy, changed = _run(STEPS.format(install=True))
    assert plain["dynamo"] is True  # torch's own behaviour, the reason for the module: if this fails, drop it
    assert lazy["dynamo"] is False
    assert changed == "6"  # the four wrapped methods and the two steps of this torch
    assert lazy["sgd"] == plain["sgd"] and lazy["adam"] == plain["adam"]


def test_training_steps_and_a_grown_input_import_neither_dynamo_nor_sympy():
    code = """
import sys, json, torch
from cnnviz import rng, trainstep, units
from cnnviz.arch import PRESETS
from cnnviz.trainconfig import TrainConfig
trainstep.step_runner(PRESETS["tutorial_a"], TrainConfig(), 10, 8)(2)  # the calculator's timing
model = rng.build(PRESETS["tutorial_a"], rng.run_generators(0).init).eval()
model.spec = PRESETS["tutorial_a"]
units.dream(model, "conv1", 0, (0.1307, 0.3081), steps=3)  # Adam on the input
print(json.dumps({"dynamo": "torch._dynamo" in sys.modules, "sympy": "sympy" in sys.modules}))
"""
    out, _ = _run(code)
    assert out == {"dynamo": False, "sympy": False}  # ~2.3 s and ~0.3-1.5 s of a core at a server's start


@pytest.mark.slow
def test_once_something_compiles_the_methods_are_dynamo_disabled_as_before():
    code = """
import sys, json, torch
from cnnviz import lazydynamo
lazydynamo.install()
torch.manual_seed(0)
model = torch.nn.Linear(4, 2)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
x = torch.randn(8, 4)

@torch.compile(backend="eager")
def step():
    opt.zero_grad()
    model(x).square().sum().backward()
    opt.step()

for _ in range(3):
    step()
fn = torch.optim.Optimizer.__dict__["zero_grad"].__wrapped__
print(json.dumps({"dynamo": "torch._dynamo" in sys.modules, "cached": fn.__dynamo_disable.__module__,
                  "sum": model.weight.sum().item()}))
"""
    out, _ = _run(code)
    assert out["dynamo"] is True
    assert out["cached"] != "cnnviz.lazydynamo"  # torch's disabled function replaced the deferral on first call
    assert isinstance(out["sum"], float)
