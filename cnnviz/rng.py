"""Per-run random generators: each training run owns its own streams for weight init, batch order
and dropout, so seed 0 gives the same weights whether the run is alone or beside another run.

torch's process-wide generator is shared by every thread: two overlapping runs that seed it and then
draw from it interleave their draws. Here nothing touches the global state; every random draw a run
makes goes through a torch.Generator it owns.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from cnnviz import arch
from cnnviz.arch import Spec


@dataclass(frozen=True)
class RunGenerators:
    """The three streams of one run: weight init and batch order on the CPU, dropout on the model's device."""

    init: torch.Generator
    batches: torch.Generator
    dropout: torch.Generator


def run_generators(seed: int, device: torch.device | str = "cpu") -> RunGenerators:
    """Fresh generators for a run with `seed`. Init and batches are seeded with `seed` itself, so a network
    without dropout gets exactly the weights and batch order of `torch.manual_seed(seed)` before it."""
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**63:
        raise ValueError(f"seed must be a whole number from 0 to 2**63 - 1, got {seed!r}")
    device = torch.device(device)
    return RunGenerators(init=torch.Generator().manual_seed(seed),
                         batches=torch.Generator().manual_seed(seed),
                         dropout=torch.Generator(device=device).manual_seed((seed * 1_000_003 + 1) % 2**63))


def build(spec: Spec, generator: torch.Generator) -> nn.Module:
    """`arch.build(spec)` with weights drawn from `generator` only (built on the meta device: no global draws)."""
    with torch.device("meta"):
        model = arch.build(spec)
    # What model.to_empty(device="cpu") does, with torch.empty: to_empty's empty_like goes through torch._refs, which
    # imports sympy on first use (0.3 s of a quiet core, ~1.5 s in a server's first busy seconds: py-spy)
    model._apply(lambda t: torch.empty(t.shape, dtype=t.dtype, device="cpu"))
    return init_weights(model, generator)


@torch.no_grad()
def init_weights(model: nn.Module, generator: torch.Generator) -> nn.Module:
    """(Re-)draw every conv/linear weight and bias as torch's default init does, from `generator`;
    other layers with state (batchnorm) get their own deterministic reset. Returns model."""
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_uniform_(module.weight, a=math.sqrt(5), generator=generator)
            if module.bias is not None:
                fan_in = module.weight[0].numel()  # in_channels * kH * kW, or in_features
                bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
                nn.init.uniform_(module.bias, -bound, bound, generator=generator)
        elif isinstance(module, nn.modules.batchnorm._NormBase):
            module.reset_parameters()  # ones, zeros and fresh running statistics: nothing random
    return model


class SeededDropout(nn.Dropout):
    """nn.Dropout drawing its mask from its own generator (same scaling: kept values x 1/(1-p))."""

    def __init__(self, p: float, generator: torch.Generator) -> None:
        super().__init__(p)
        self.generator = generator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        if self.p >= 1:
            return x * 0
        keep = torch.empty(x.shape, device=x.device, dtype=torch.float32).bernoulli_(1 - self.p,
                                                                                      generator=self.generator)
        return x * keep.to(x.dtype) / (1 - self.p)


def own_dropout(model: nn.Module, generator: torch.Generator | None) -> nn.Module:
    """Give every dropout of `model` the run's generator (None: back to plain nn.Dropout); returns model."""
    for parent in model.modules():
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.Dropout) and type(child) in (nn.Dropout, SeededDropout):
                swap = nn.Dropout(child.p) if generator is None else SeededDropout(child.p, generator)
                swap.train(child.training)
                setattr(parent, name, swap)
    return model

