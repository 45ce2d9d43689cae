"""One training batch, as `cnnviz.train` runs it and as the training-time estimate times it.

    models     the model and the net the loop runs (the same weights, ReLUs after the pools), precision, layout
    optimizer  SGD (Nesterov momentum) or Adam, with the one-cycle schedule when asked
    step       forward under bf16 autocast where the CPU has it, loss (label smoothing), backward, step
    Window     the batches between two progress reports: their losses stay on the device until one host sync

`step_runner` runs exactly this on random images, so cnnviz.traintime measures the loop's own work per batch
without the data, the reports or the snapshots of a run (the loop itself is in cnnviz.train).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from cnnviz import lazydynamo, rng
from cnnviz.arch import Spec, training_order
from cnnviz.device import pick_device
from cnnviz.trainconfig import TrainConfig

lazydynamo.install()  # an optimizer no longer imports torch.compile's tracer (~2.3 s of a core)


def use_bf16(device: torch.device, precision: str) -> bool:
    """bf16 autocast: asked for, or "auto" on a CPU whose oneDNN supports bf16."""
    if precision == "bf16":
        return True
    return precision == "auto" and device.type == "cpu" and bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def report_interval(config: TrainConfig, device: torch.device) -> int:
    """Batches between progress events: as asked on a CPU; at least 50 on a GPU, where each event is a host sync."""
    return config.report_every if device.type == "cpu" else max(config.report_every, 50)


def models(spec: Spec, config: TrainConfig, device: torch.device,
           gens: rng.RunGenerators) -> tuple[nn.Module, nn.Module, bool, torch.memory_format]:
    """(model, net, bf16, memory format) of a run; `net` is what the loop runs.

    `net` holds the same weights as `model`, its ReLUs after the pools (the same numbers, faster)."""
    bf16 = use_bf16(device, config.precision)
    fmt = torch.channels_last if bf16 else torch.contiguous_format
    model = rng.own_dropout(rng.build(spec, gens.init), gens.dropout).to(device, memory_format=fmt)
    return model, training_order(model), bf16, fmt


def optimizer(model: nn.Module, config: TrainConfig,
              total: int) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler | None]:
    """(optimizer, schedule or None) for `total` batches, as `config` asks."""
    if config.optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                              nesterov=config.nesterov and config.momentum > 0, weight_decay=config.weight_decay)
    sched = (torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=config.lr, total_steps=total)
             if config.schedule == "onecycle" else None)
    return opt, sched


def smoothed_loss(logits: torch.Tensor, labels: torch.Tensor, smoothing: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(plain cross-entropy, the loss to minimise) from one log-softmax. With `smoothing` e the target is
    1 - e + e/K for the label and e/K for each other class: F.cross_entropy(label_smoothing=e)'s formula."""
    log_p = F.log_softmax(logits, 1)
    plain = F.nll_loss(log_p, labels)
    return plain, (plain if not smoothing else (1 - smoothing) * plain - smoothing * log_p.mean(1).mean())


def step(net: nn.Module, opt: torch.optim.Optimizer, sched: torch.optim.lr_scheduler.LRScheduler | None,
         xb: torch.Tensor, yb: torch.Tensor, bf16: bool, smoothing: float) -> tuple[torch.Tensor, torch.Tensor]:
    """One training batch: forward (bf16 autocast where chosen), loss, backward, step. (plain loss, logits)."""
    with torch.autocast(xb.device.type, dtype=torch.bfloat16, enabled=bf16):
        logits = net(xb)
    plain, loss = smoothed_loss(logits.float(), yb, smoothing)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    if sched is not None:
        sched.step()
    return plain, logits


@dataclass
class Window:
    """The batches since the last progress event. Losses stay on the device until `read` (one host sync)."""

    first: int = 1
    losses: list[torch.Tensor] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    correct: list[torch.Tensor] = field(default_factory=list)

    def add(self, loss: torch.Tensor, logits: torch.Tensor, labels: torch.Tensor) -> None:
        """Keep one batch's loss and count of right guesses, without leaving the device."""
        self.losses.append(loss.detach())
        self.sizes.append(len(labels))
        self.correct.append((logits.detach().argmax(1) == labels).sum())

    def read(self) -> tuple[list[float], float]:
        """(per-batch losses, accuracy in percent) of the window: the only host sync of a report."""
        values = torch.cat([torch.stack(self.losses).float(), torch.stack(self.correct).sum().float()[None]])
        *losses, correct = values.tolist()
        return losses, 100.0 * correct / sum(self.sizes)

    def mean(self, losses: list[float]) -> float:
        """The image-weighted mean of the window's losses."""
        return sum(v * n for v, n in zip(losses, self.sizes)) / sum(self.sizes)


def step_runner(spec: Spec, config: TrainConfig, num_classes: int, images: int | None = None) -> Callable[[int], None]:
    """`run(n)`: n training batches of `spec` as `train` takes them, on random images (for cnnviz.traintime).

    The same work per batch as the loop: batch by index, the step with its model order, precision, optimizer
    and device, the report window. `images` per batch (default config.batch_size); returns once they are done."""
    device = torch.device(config.device) if config.device else pick_device()
    gens = rng.run_generators(config.seed, device)
    model, net, bf16, fmt = models(spec, config, device, gens)
    opt, sched = optimizer(model, config, 1 << 30)  # one-cycle needs a total; these few steps barely start it
    n, every = images or config.batch_size, report_interval(config, device)
    x = torch.randn((2 * n, *spec.input_shape), generator=gens.init).to(device)  # (2n, C, H, W)
    y = torch.randint(num_classes, (2 * n,), generator=gens.init).to(device)
    window = [Window()]
    net.train()

    def run(batches: int) -> None:
        for _ in range(batches):
            idx = torch.randperm(2 * n, generator=gens.batches)[:n].to(device)
            xb, yb = x[idx].contiguous(memory_format=fmt), y[idx]
            plain, logits = step(net, opt, sched, xb, yb, bf16, config.label_smoothing)
            window[0].add(plain, logits, yb)
            if len(window[0].sizes) == every:  # a progress report: the loop's one host sync
                window[0].read()
                window[0] = Window()
        if device.type == "cuda":  # the GPU runs ahead of Python: wait for it, or nothing was measured
            torch.cuda.synchronize(device)

    return run
