"""cnnviz.trainstep: one training batch is torch's own loss and optimizer step; the window reads what was added."""
from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F

from cnnviz import rng, trainstep
from cnnviz.arch import PRESETS
from cnnviz.trainconfig import TrainConfig


@pytest.mark.parametrize("smoothing", [0.0, 0.1, 0.5])
def test_smoothed_loss_is_torchs_label_smoothing_and_the_plain_loss_beside_it(smoothing):
    gen = torch.Generator().manual_seed(0)
    logits = (torch.randn(64, 10, generator=gen) * 4).requires_grad_()
    labels = torch.randint(0, 10, (64,), generator=gen)
    plain, loss = trainstep.smoothed_loss(logits, labels, smoothing)
    assert float(plain.detach()) == pytest.approx(float(F.cross_entropy(logits, labels).detach()), rel=1e-6)
    want = F.cross_entropy(logits, labels, label_smoothing=smoothing)
    assert float(loss.detach()) == pytest.approx(float(want.detach()), rel=1e-6)
    mine, = torch.autograd.grad(loss, logits)
    theirs, = torch.autograd.grad(want, logits)
    assert torch.allclose(mine, theirs, atol=1e-7)


def test_use_bf16_only_where_asked_or_supported():
    assert not trainstep.use_bf16(torch.device("cpu"), "fp32")
    assert trainstep.use_bf16(torch.device("cpu"), "auto") == bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    assert not trainstep.use_bf16(torch.device("cuda"), "auto")


def test_reports_are_as_asked_on_a_cpu_and_at_least_50_batches_apart_on_a_gpu():
    config = TrainConfig(report_every=10)
    assert trainstep.report_interval(config, torch.device("cpu")) == 10
    assert trainstep.report_interval(config, torch.device("cuda")) == 50


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_a_step_is_torchs_cross_entropy_and_optimizer_step(optimizer):
    """The fp32 step, from the model trainstep.models builds, against the same weights stepped by torch directly."""
    config = TrainConfig(optimizer=optimizer, lr=0.05, precision="fp32", schedule="constant")
    gens = rng.run_generators(0, torch.device("cpu"))
    model, net, bf16, _ = trainstep.models(PRESETS["keras_small"], config, torch.device("cpu"), gens)
    model.eval()  # no dropout: both sides see the same forward
    theirs = copy.deepcopy(model)
    opt, sched = trainstep.optimizer(model, config, 10)
    gen = torch.Generator().manual_seed(1)
    xb, yb = torch.randn(32, 1, 28, 28, generator=gen), torch.randint(10, (32,), generator=gen)  # (N, C, H, W)
    plain, logits = trainstep.step(net, opt, sched, xb, yb, bf16, config.label_smoothing)
    kind = torch.optim.Adam if optimizer == "adam" else torch.optim.SGD
    extra = {} if optimizer == "adam" else {"momentum": config.momentum, "nesterov": True}
    ref = kind(theirs.parameters(), lr=config.lr, weight_decay=config.weight_decay, **extra)
    want = theirs(xb)
    F.cross_entropy(want, yb, label_smoothing=config.label_smoothing).backward()
    ref.step()
    assert not bf16 and sched is None
    assert float(plain.detach()) == pytest.approx(float(F.cross_entropy(want.detach(), yb)), rel=1e-5)
    assert torch.allclose(logits, want, atol=1e-5)
    for (name, a), b in zip(model.state_dict().items(), theirs.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-6), name


def test_the_window_reads_each_loss_and_the_accuracy_of_what_was_added():
    window = trainstep.Window()
    window.add(torch.tensor(2.0), torch.tensor([[1.0, 0.0], [0.0, 1.0]]), torch.tensor([0, 0]))  # 1 of 2 right
    window.add(torch.tensor(1.0), torch.tensor([[0.0, 1.0]]), torch.tensor([1]))                 # 1 of 1
    losses, acc = window.read()
    assert losses == [2.0, 1.0] and acc == pytest.approx(200 / 3)
    assert window.mean(losses) == pytest.approx((2 * 2.0 + 1 * 1.0) / 3)  # weighted by images

