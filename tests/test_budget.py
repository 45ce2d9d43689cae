"""cnnviz.budget: memory and time of a training run, estimated before anything is built, and the verdict."""
from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import ROOT

from cnnviz import budget, dims
from cnnviz.arch import PRESETS
from cnnviz.spec import Spec

GiB = budget.GiB


def _huge() -> Spec:
    """The issue's network: ~1.26 billion parameters (a 1x28x28 input through a 1.6 M-wide linear layer)."""
    return Spec.from_json({"input_shape": [1, 28, 28], "layers": [
        {"type": "flatten"}, {"type": "linear", "out_features": 1_600_000}, {"type": "linear", "out_features": 10}]})


def test_parts_follow_the_spec():
    spec = PRESETS["tutorial_a"]
    t = dims.totals(spec)
    est = budget.estimate(spec, batch_size=100, optimizer="adam", images=3000 * 100)
    assert est.params == t.params == 28_938
    assert est.weights == est.gradients == 4 * 28_938 and est.optimizer_state == 2 * est.weights
    per_image = 784 * 4 + 2 * t.activation_bytes
    assert est.activations == int(budget.ACTIVATION_OVERHEAD * per_image * 100)
    assert est.dataset == 70_000 * 784 * 4
    assert est.seconds == pytest.approx(3 * t.macs * 300_000 / budget.TRAIN_MACS_PER_S)
    assert est.total == est.weights + est.gradients + est.optimizer_state + est.activations + est.dataset


@pytest.mark.parametrize("opt, momentum, copies", [("adam", 0.9, 2), ("sgd", 0.9, 1), ("sgd", 0.0, 0)])
def test_optimizer_state(opt, momentum, copies):
    assert budget.optimizer_copies(opt, momentum) == copies


def test_the_billion_parameter_network_is_refused_with_its_numbers():
    est = budget.estimate(_huge(), batch_size=128)
    assert est.params > 1_250_000_000
    verdict = budget.check(est, free_bytes=6 * GiB)
    assert not verdict.ok
    assert f"needs ~{dims.human_bytes(est.total)} to train at batch 128" in verdict.message
    assert "this machine has 6.0 GiB free" in verdict.message and "4.2 GiB" in verdict.message
    with pytest.raises(ValueError, match="Too big for this server"):
        budget.require(est, free_bytes=6 * GiB)
    refused = budget.model_fits(_huge(), free_bytes=6 * GiB)  # cannot even be built to open it
    assert not refused.ok and "Too big to open on this server: its 1,2" in refused.message
    assert budget.model_fits(PRESETS["conv32_64"], free_bytes=6 * GiB).ok


def test_a_preset_fits_and_says_how_long():
    verdict = budget.check(budget.estimate(PRESETS["tutorial_a"]), free_bytes=4 * GiB, limit_seconds=1800)
    assert verdict.ok and verdict.message.startswith("Fits: this network needs ~") and "of training" in verdict.message


def test_a_run_longer_than_the_limit_is_refused(monkeypatch):
    class Config:
        batch_size, optimizer, momentum, epochs, max_batches = 128, "sgd", 0.9, 50.0, None

    est = budget.for_run(PRESETS["conv32_64"], Config, 60_000)
    assert est.images == 50 * 469 * 128
    monkeypatch.setenv("CNNVIZ_MAX_TRAIN_MINUTES", "30")
    verdict = budget.check(est, free_bytes=8 * GiB)
    assert not verdict.ok and "the limit is 30.0 min (CNNVIZ_MAX_TRAIN_MINUTES)" in verdict.message
    Config.max_batches = 100  # "stop after N batches" caps the images, and the time
    assert budget.for_run(PRESETS["conv32_64"], Config, 60_000).images == 100 * 128
    monkeypatch.setenv("CNNVIZ_MAX_TRAIN_MINUTES", "not a number")
    assert budget.max_seconds() == 60 * budget.MAX_TRAIN_MINUTES


def test_free_memory_reads_this_machine():
    free = budget.free_memory()
    assert 64 * 2**20 < free < 2**50


def test_bad_values_are_named():
    with pytest.raises(ValueError, match="batch size must be a whole number >= 1, got 0"):
        budget.estimate(PRESETS["tutorial_a"], batch_size=0)
    with pytest.raises(ValueError, match="unknown optimizer 'rmsprop'"):
        budget.estimate(PRESETS["tutorial_a"], optimizer="rmsprop")
    impossible = Spec.from_json({"input_shape": [1, 4, 4], "layers": [{"type": "conv", "out_channels": 1,
                                                                      "kernel_size": 9}]})
    with pytest.raises(ValueError, match="kernel 9 > input 4"):
        budget.estimate(impossible)


@pytest.mark.slow
def test_the_estimate_bounds_what_torch_really_uses():
    """Train 4 real batches (fp32: the larger case) in a fresh process; its peak RSS growth stays under the estimate."""
    code = """
import threading, time, torch
from cnnviz import budget, data, train as tr
from cnnviz.arch import PRESETS
from cnnviz.trainconfig import TrainConfig

def rss():  # resident bytes now (ru_maxrss would also count the import's transient peak)
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096

n, batch = 2048, 512
split = data.Split("mnist", "train", torch.randn(n, 1, 28, 28), torch.randint(0, 10, (n,)), 0.0, 1.0)
base, peak, done = rss(), [0], threading.Event()

def sample():
    while not done.is_set():
        peak[0] = max(peak[0], rss())
        time.sleep(0.002)

threading.Thread(target=sample, daemon=True).start()
cfg = TrainConfig(optimizer="adam", batch_size=batch, max_batches=4, val_every=0, precision="fp32")
tr.train(PRESETS["conv32_64"], cfg, split, None)
done.set()
est = budget.for_run(PRESETS["conv32_64"], cfg, n, 0)
print(peak[0] - base, est.total - est.dataset)
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    used, estimated = map(int, out.stdout.split()[-2:])
    assert used <= estimated <= 4 * used, (used, estimated)


def test_a_checkpoint_too_big_for_the_free_memory_is_refused_before_it_is_built(monkeypatch, tmp_path):
    import shutil

    from cnnviz import checkpoints

    copy = tmp_path / "tutorial_a_copy"  # a copy: refusals are remembered per checkpoint
    shutil.copytree(ROOT / "checkpoints" / "tutorial_a", copy)
    monkeypatch.setattr(budget, "free_memory", lambda: 64 * 1024)  # 64 KiB free: tutorial_a needs ~226 KiB
    monkeypatch.setattr(checkpoints, "build", lambda spec: pytest.fail("built before the budget was checked"))
    with pytest.raises(checkpoints.CheckpointError, match="Too big to open on this server: its 28,938 parameters"):
        checkpoints.load(copy)
