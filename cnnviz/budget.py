"""Budgets: what a network costs to train (memory, time) before anything is built, and whether it fits.

A class shares one server: a network of a billion parameters sent to the trainer
grew the process to 8 GiB and the kernel killed it, dropping every session. So
the calculator and the trainer ask `check()` first and refuse, with the numbers,
what exceeds a share of the memory this machine has free (and a time limit), e.g.
"this network needs ~9.4 GiB to train at batch 128; this machine has 6.0 GiB free".
Everything here is arithmetic over `dims` rows: nothing is allocated.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass

from cnnviz import dims
from cnnviz.spec import Spec
from cnnviz.trainconfig import TrainConfig, total_batches

GiB = 1024 ** 3
# Share of MemAvailable one training run may use: the rest is for the other sessions and the OS.
MEMORY_SHARE = 0.7
# autograd keeps more than the layer outputs (ReLU masks, pooling indices, conv workspaces):
# measured peaks stayed under 1.5x of values + gradients for the presets (tests/test_budget.py checks).
ACTIVATION_OVERHEAD = 1.5
# An arithmetic guess at training throughput in MACs per second (forward + backward = 3x the forward MACs),
# for `estimate` without a measurement. The pages show cnnviz.traintime's estimate instead, timed on this
# machine: this constant (a quarter of an idle 2-core's speed) was far off on real runs (docs/performance.md).
TRAIN_MACS_PER_S = 20e9
# Longest run one student may start on a shared server (minutes); CNNVIZ_MAX_TRAIN_MINUTES overrides.
MAX_TRAIN_MINUTES = 30.0
FALLBACK_FREE_BYTES = 2 * GiB  # when the free memory cannot be read: assume a small laptop


@dataclass(frozen=True)
class Estimate:
    """Bytes and seconds one training run needs. Memory parts are float32 and already x batch where it applies."""

    params: int
    batch_size: int
    weights: int
    gradients: int
    optimizer_state: int
    activations: int     # forward values + their gradients for one batch, with autograd's overhead
    dataset: int         # the training and test splits held in memory as float32
    macs_per_image: int
    images: int          # images the run will see (epochs x dataset, or max_batches x batch)
    seconds: float | None  # None: not known (no time check, no time in the message)

    @property
    def total(self) -> int:
        """All memory parts together."""
        return self.weights + self.gradients + self.optimizer_state + self.activations + self.dataset

    def breakdown(self) -> str:
        """'weights 4.7 GiB, gradients 4.7 GiB, ...' for messages."""
        parts = [("weights", self.weights), ("gradients", self.gradients), ("optimizer state", self.optimizer_state),
                 (f"activations at batch {self.batch_size}", self.activations), ("dataset", self.dataset)]
        return ", ".join(f"{name} {dims.human_bytes(v)}" for name, v in parts if v)


@dataclass(frozen=True)
class Verdict:
    """Whether a run fits: ok, the message naming the numbers, and the figures it was decided on."""

    ok: bool
    message: str
    estimate: Estimate
    free_bytes: int
    limit_bytes: int
    limit_seconds: float


def optimizer_copies(optimizer: str, momentum: float = TrainConfig.momentum) -> int:
    """Extra float32 copies of the weights an optimizer keeps: Adam 2, SGD with momentum 1, plain SGD 0."""
    if optimizer == "adam":
        return 2
    if optimizer == "sgd":
        return 1 if momentum else 0
    raise ValueError(f"unknown optimizer {optimizer!r}; choose sgd or adam")


def estimate(spec: Spec, batch_size: int = TrainConfig.batch_size, optimizer: str = TrainConfig.optimizer,
             momentum: float = TrainConfig.momentum, images: int = 60_000, dataset_images: int = 70_000,
             macs_per_s: float = TRAIN_MACS_PER_S) -> Estimate:
    """Memory and time to train `spec` on `images` images at `batch_size`; ValueError if the spec is impossible."""
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch size must be a whole number >= 1, got {batch_size!r}")
    rows = dims.table(spec)
    t = dims.totals(spec, rows)
    per_image = math.prod(spec.input_shape) * dims.BYTES_PER_FLOAT + 2 * t.activation_bytes
    seconds = 3 * t.macs * images / macs_per_s
    return Estimate(t.params, batch_size, t.param_bytes, t.param_bytes,
                    optimizer_copies(optimizer, momentum) * t.param_bytes,
                    int(ACTIVATION_OVERHEAD * per_image * batch_size),
                    dataset_images * math.prod(spec.input_shape) * dims.BYTES_PER_FLOAT,
                    t.macs, images, seconds)


def for_run(spec: Spec, config, n_train: int, n_test: int = 10_000) -> Estimate:
    """`estimate` from a TrainConfig (batch_size, optimizer, momentum, epochs, max_batches); its seconds are the
    arithmetic guess (cnnviz.traintime.verdict puts the measured time in)."""
    batches = total_batches(n_train, config)  # the loop's own count
    return estimate(spec, config.batch_size, config.optimizer, config.momentum,
                    images=batches * config.batch_size, dataset_images=n_train + n_test)


def free_memory() -> int:
    """Bytes this machine can still give: MemAvailable from /proc/meminfo, else sysconf, else 2 GiB."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return FALLBACK_FREE_BYTES


def max_seconds() -> float:
    """The longest run allowed, in seconds ($CNNVIZ_MAX_TRAIN_MINUTES, default 30 minutes)."""
    raw = os.environ.get("CNNVIZ_MAX_TRAIN_MINUTES", "")
    try:
        minutes = float(raw) if raw else MAX_TRAIN_MINUTES
    except ValueError:
        minutes = MAX_TRAIN_MINUTES
    return 60 * minutes if minutes > 0 and math.isfinite(minutes) else 60 * MAX_TRAIN_MINUTES


def human_seconds(seconds: float) -> str:
    """12 -> '12 s', 150 -> '2.5 min', 7200 -> '2.0 h'."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def check(est: Estimate, free_bytes: int | None = None, limit_seconds: float | None = None) -> Verdict:
    """Does the run fit in MEMORY_SHARE of the free memory and the time limit? The message names the numbers."""
    free = free_memory() if free_bytes is None else free_bytes
    limit = int(MEMORY_SHARE * free)
    seconds_limit = max_seconds() if limit_seconds is None else limit_seconds
    need = (f"this network needs ~{dims.human_bytes(est.total)} to train at batch {est.batch_size} "
            f"({est.breakdown()})")
    if est.total > limit:
        msg = (f"Too big for this server: {need}; this machine has {dims.human_bytes(free)} free and a run may "
               f"use {round(100 * MEMORY_SHARE)}% of it ({dims.human_bytes(limit)}). Use fewer or smaller "
               f"layers, or a smaller batch.")
        return Verdict(False, msg, est, free, limit, seconds_limit)
    run = f"{math.ceil(est.images / est.batch_size):,} batches of {est.batch_size}"
    if est.seconds is not None and est.seconds > seconds_limit:
        msg = (f"Too long for a shared server: {run} would take about {human_seconds(est.seconds)} here; the "
               f"limit is {human_seconds(seconds_limit)} (CNNVIZ_MAX_TRAIN_MINUTES). Train fewer epochs, or a "
               f"smaller network.")
        return Verdict(False, msg, est, free, limit, seconds_limit)
    took = "" if est.seconds is None else f"; about {human_seconds(est.seconds)} of training ({run})"
    msg = f"Fits: {need}, of {dims.human_bytes(limit)} allowed{took}."
    return Verdict(True, msg, est, free, limit, seconds_limit)


def require(est: Estimate, free_bytes: int | None = None, limit_seconds: float | None = None) -> Verdict:
    """`check`, raising ValueError with its message when the run does not fit."""
    verdict = check(est, free_bytes, limit_seconds)
    if not verdict.ok:
        raise ValueError(verdict.message)
    return verdict


def model_fits(spec: Spec, free_bytes: int | None = None) -> Verdict:
    """Can this spec's model be opened (built, plus its weights file read: 2 copies)? Same share of free memory."""
    t = dims.totals(spec)
    est = Estimate(t.params, 1, 2 * t.param_bytes, 0, 0, 0, 0, t.macs, 0, 0.0)
    free = free_memory() if free_bytes is None else free_bytes
    limit = int(MEMORY_SHARE * free)
    if est.total > limit:
        msg = (f"Too big to open on this server: its {t.params:,} parameters need ~{dims.human_bytes(est.total)} "
               f"(the model and its weights file); this machine has {dims.human_bytes(free)} free and a model "
               f"may use {round(100 * MEMORY_SHARE)}% of it ({dims.human_bytes(limit)}).")
        return Verdict(False, msg, est, free, limit, math.inf)
    return Verdict(True, f"Fits: ~{dims.human_bytes(est.total)} to open.", est, free, limit, math.inf)
