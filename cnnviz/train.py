"""The training engine: a pure `train()` with a progress callback and a stop event, a background
`Runner` for the app, and the CLI that made the shipped checkpoints:

    python -m cnnviz.train --preset tutorial_a --epochs 2 --out checkpoints/

Speed habits (DESIGN.md): the whole split is one tensor on the training device, batches are taken by
index from torch.randperm, and on a CPU with bf16 the model runs channels_last under bf16 autocast
(~3x the published DataLoader loop), with each ReLU moved after the max-pool that follows it
(arch.training_order: bit for bit the same numbers, ~1.2-1.3x faster). No torch.compile: slower at this
size and ~45 s to compile.
"""
from __future__ import annotations

import os

if __name__ == "__main__":  # the CLI: before torch loads, OpenMP threads sleep instead of spinning (app.py: same)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import math
import platform
import random
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import cnnviz
from cnnviz import data as datamod
from cnnviz import novelty, owndata, rng, snapshots
from cnnviz.arch import PRESETS, Spec, training_order
from cnnviz.device import describe, pick_device
from cnnviz.evaluate import Evaluation, accuracy_text, evaluate
from cnnviz.messages import no_paths
from cnnviz.snapshots import Frame, WeightSnapshot

OPTIMIZERS = ("sgd", "adam")
SCHEDULES = ("onecycle", "constant")
# Learning rates per optimizer, in one place. DEFAULT_LR is what a run starts from: TrainConfig (lr=None), the
# page's optimizer switch and `--lr` left out on the command line all read it. SAFE_LR is what the "far too
# high" check suggests, and it calls a rate too high only past TOO_HIGH x that: never a default (tested).
DEFAULT_LR = {"sgd": 0.075,   # the shipped recipe's one-cycle peak (0.1 was unsteady on 2,400-image own datasets)
              "adam": 0.005}  # Adam's steps are already scaled per weight: a tenth of SGD's and more is too much
SAFE_LR = {"sgd": 0.01, "adam": 0.001}
TOO_HIGH = 20


def default_lr(optimizer: str) -> float:
    """The learning rate a run with `optimizer` starts from (DEFAULT_LR); ValueError naming an unknown one."""
    if optimizer not in DEFAULT_LR:
        raise ValueError(f"unknown optimizer {optimizer!r} (choose {', '.join(OPTIMIZERS)})")
    return DEFAULT_LR[optimizer]


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run (the page builds one from its widgets)."""

    dataset: str = "mnist"
    optimizer: str = "sgd"          # "sgd" (momentum 0.9, Nesterov) or "adam"
    lr: float | None = None         # peak lr under "onecycle"; None: the optimizer's DEFAULT_LR (set at init)
    batch_size: int = 128
    epochs: float = 1.5             # with label smoothing: tutorial_a >= 99.0% in 1.5 epochs (6 seeds: 99.03-99.13)
    seed: int = 0
    schedule: str = "onecycle"      # or "constant"
    momentum: float = 0.9
    nesterov: bool = True
    max_batches: int | None = None  # stop after this many batches (dry runs, tests, "3000 iterations")
    report_every: int = 10          # batches between progress events
    val_every: int | None = None    # batches between held-out evaluations; None: at each snapshot and the end; 0: never
    val_size: int = 1000            # held-out images (taken from the test split) for the live curve
    precision: str = "auto"         # "auto" (bf16 on a CPU that has it), "fp32", "bf16"
    device: str | None = None       # None: cuda, then mps, then cpu
    normalize: bool = True          # False: plain [0, 1] pixels, as the tutorials' ToTensor() gives them
    label_smoothing: float = 0.1    # with 10 classes the loss it minimises aims at 0.91 for the label, 0.01 else;
                                    # the curves show the plain cross-entropy (0: the plain loss, as the tutorials)
    live_every_s: float = 1.0       # seconds between live-view frames (0: none); needs a test split
    snapshots_per_epoch: float = 4  # weight snapshots for the replay slider (0: none)

    def __post_init__(self) -> None:
        bad = []
        if self.optimizer not in OPTIMIZERS:
            bad.append(f"optimizer {self.optimizer!r} (choose {', '.join(OPTIMIZERS)})")
        elif self.lr is None:  # frozen: the one place a default is filled in
            object.__setattr__(self, "lr", DEFAULT_LR[self.optimizer])
        if self.schedule not in SCHEDULES:
            bad.append(f"schedule {self.schedule!r} (choose {', '.join(SCHEDULES)})")
        if self.lr is not None and not (self.lr > 0 and math.isfinite(self.lr)):
            bad.append(f"learning rate {self.lr!r} (must be > 0)")
        if not (isinstance(self.batch_size, int) and self.batch_size >= 1):
            bad.append(f"batch size {self.batch_size!r} (must be a whole number >= 1)")
        if not self.epochs > 0:
            bad.append(f"epochs {self.epochs!r} (must be > 0)")
        if not 0 <= self.label_smoothing < 1:
            bad.append(f"label smoothing {self.label_smoothing!r} (must be in [0, 1))")
        if self.val_every is not None and not (isinstance(self.val_every, int) and self.val_every >= 0):
            bad.append(f"val_every {self.val_every!r} (a whole number >= 0, or None)")
        if self.max_batches is not None and self.max_batches < 1:
            bad.append(f"max_batches {self.max_batches!r} (must be >= 1)")
        if not (self.live_every_s >= 0 and self.snapshots_per_epoch >= 0):
            bad.append(f"live_every_s {self.live_every_s!r} / snapshots_per_epoch {self.snapshots_per_epoch!r} "
                       "(must be >= 0)")
        if self.precision not in ("auto", "fp32", "bf16"):
            bad.append(f"precision {self.precision!r} (choose auto, fp32, bf16)")
        if bad:
            raise ValueError("bad training settings: " + "; ".join(bad))


@dataclass(frozen=True)
class Progress:
    """One progress event. val_* are None except on held-out evaluations."""

    batch: int
    total_batches: int
    epoch: float
    loss: float             # mean training loss since the previous event
    train_accuracy: float   # percent, since the previous event
    images_per_s: float
    elapsed_s: float
    eta_s: float
    val_loss: float | None = None
    val_accuracy: float | None = None
    job: str = ""
    # the live view (filters, digit grid), about once a second
    frame: Frame | None = field(default=None, repr=False, compare=False)
    val_total: int | None = None    # how many held-out images val_* were measured on (with val_*)
    val_what: str = "test images"   # what they are: owndata.test_items ('held-out drawings' for an own dataset)


@dataclass
class Result:
    """What a run produced. `evaluation`: its test, None when it diverged or had no test split (a stopped run
    is tested as it was when it stopped: `stopped`, after `batches` of `planned_batches`)."""

    model: nn.Module
    spec: Spec
    config: TrainConfig
    history: list[Progress]
    batches: int
    train_seconds: float
    device: str
    precision: str
    stopped: bool = False
    diverged: str | None = None
    evaluation: Evaluation | None = None
    classes: tuple[str, ...] = ()                   # the training data's class names (saved in the card)
    normalize: tuple[float, float] | None = None    # its (mean, std); None: the named torchvision dataset's
    snapshots: list[WeightSnapshot] = field(default_factory=list)
    class_shapes: novelty.ClassShapes | None = None  # own datasets: for "not one of your classes?" (the card)

    @property
    def test_accuracy(self) -> float | None:
        return None if self.evaluation is None else self.evaluation.accuracy

    @property
    def images_per_s(self) -> float:
        return self.batches * self.config.batch_size / max(self.train_seconds, 1e-9)

    @property
    def planned_batches(self) -> int:
        """The batches the run was set to take (more than `batches` when it was stopped)."""
        return self.history[-1].total_batches if self.history else self.batches

    @property
    def held_out(self) -> tuple[int, str] | None:
        """(how many, what) the held-out curve and snapshots were measured on, e.g. (1000, 'test images')."""
        last = next((e for e in reversed(self.history) if e.val_total is not None), None)
        return None if last is None else (last.val_total, last.val_what)

    def test_text(self) -> str:
        """'4 of 4 held-out drawings (100%)': the test accuracy with its real count (ValueError when untested)."""
        if self.evaluation is None:
            raise ValueError("this run has no test evaluation (it diverged, or had no test split)")
        return accuracy_text(self.evaluation.correct, self.evaluation.total, owndata.test_items(self.config.dataset))


class Diverged(RuntimeError):
    """The loss became NaN or infinite."""


def seed_everything(seed: int) -> torch.Generator:
    """Seed python, numpy and torch globally (scripts only: `train` uses per-run generators, cnnviz.rng)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def use_bf16(device: torch.device, precision: str) -> bool:
    """bf16 autocast: asked for, or "auto" on a CPU whose oneDNN supports bf16."""
    if precision == "bf16":
        return True
    return precision == "auto" and device.type == "cpu" and bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def blowup_loss(num_classes: int) -> float:
    """A mean loss above this means the weights blew up: 5x an untrained network's ln(K) (11.5 for 10 classes)."""
    return 5 * math.log(num_classes)


def _lr_too_high(config: TrainConfig) -> str | None:
    """"the learning rate 10 is far too high; try 0.01" when lr is over 20x the optimizer's safe value, else None."""
    safe = SAFE_LR[config.optimizer]
    return f"the learning rate {config.lr:g} is far too high; try {safe:g}" if config.lr > safe * TOO_HIGH else None


def divergence_message(value: float, batch: int, config: TrainConfig, num_classes: int = 10) -> str:
    """A plain explanation of a NaN/inf (or exploded) loss plus what to try instead."""
    if math.isfinite(value):
        shown = f"{value:,.0f}" if 100 <= value < 1e6 else f"{value:.3g}"
        start = math.log(num_classes)  # an untrained network's loss: it guesses evenly
        what = f"The loss blew up to {shown} at batch {batch} (an untrained network starts near {start:.1f})"
    else:
        what = f"The loss became {'NaN' if math.isnan(value) else 'infinite'} at batch {batch}"
    hint = _lr_too_high(config) or (f"the weights blew up; try a smaller learning rate "
                                    f"(e.g. {config.lr / 10:g}) or a network with fewer layers")
    return f"{what} — {hint}"


DEAD_REPORTS = 2  # progress reports in a row with one answer for every image: the network is dead, stop


def dead_message(batch: int, config: TrainConfig) -> str:
    """Why a run stopped because every image got the same answer (every ReLU outputs 0), and what to try."""
    hint = _lr_too_high(config) or f"try a smaller learning rate (e.g. {config.lr / 10:g})"
    return (f"The network died at batch {batch}: every image now gets exactly the same answer. The steps pushed the "
            f"weights so far that every ReLU outputs 0 for every image, so no gradient reaches the filters and "
            f"nothing can change any more — {hint}")


def stalled_message(result: Result, num_classes: int = 10) -> str | None:
    """A plain warning when a finished run is no better than guessing (the weights died), else None."""
    acc, chance = result.test_accuracy, 100.0 / num_classes
    if acc is None or acc >= 2 * chance:
        return None
    hint = _lr_too_high(result.config) or "try a smaller learning rate, more epochs, or a different network"
    return (f"Test accuracy {result.test_text()} is no better than guessing ({chance:.0f}%): the network learned "
            f"nothing — {hint}.")


def _optimizer(model: nn.Module, config: TrainConfig, total: int):
    if config.optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                              nesterov=config.nesterov and config.momentum > 0)
    sched = (torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=config.lr, total_steps=total)
             if config.schedule == "onecycle" else None)
    return opt, sched


def total_batches(n_train: int, config: TrainConfig) -> int:
    """Batches the run will take: epochs x ceil(N / batch), capped by max_batches."""
    total = max(1, math.ceil(config.epochs * math.ceil(n_train / config.batch_size)))
    return min(total, config.max_batches) if config.max_batches else total


def _batches(n: int, batch_size: int, total: int, gen: torch.Generator, device: torch.device):
    """Yield `total` index tensors, reshuffling every epoch."""
    done = 0
    while done < total:
        perm = torch.randperm(n, generator=gen).to(device)
        for start in range(0, n, batch_size):
            if done == total:
                return
            yield perm[start:start + batch_size]
            done += 1


HELD_OUT_CHUNK = 256  # images per forward pass: 1,000 at once took 65 ms on 2 cores, in chunks of 256 38 ms


@torch.no_grad()
def _held_out(model: nn.Module, x: torch.Tensor, y: torch.Tensor, bf16: bool, fmt) -> tuple[float, float]:
    """(loss, accuracy %) on the held-out images; in chunks, whose activations stay in the CPU's caches."""
    model.eval()
    with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=bf16):
        logits = torch.cat([model(x[i:i + HELD_OUT_CHUNK].contiguous(memory_format=fmt)).float()
                            for i in range(0, len(x), HELD_OUT_CHUNK)])
    model.train()
    return float(F.cross_entropy(logits, y)), 100.0 * float((logits.argmax(1) == y).float().mean())


def smoothed_loss(logits: torch.Tensor, labels: torch.Tensor, smoothing: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(plain cross-entropy, the loss to minimise) from one log-softmax. With `smoothing` e the target is
    1 - e + e/K for the label and e/K for each other class: F.cross_entropy(label_smoothing=e)'s formula."""
    log_p = F.log_softmax(logits, 1)
    plain = F.nll_loss(log_p, labels)
    return plain, (plain if not smoothing else (1 - smoothing) * plain - smoothing * log_p.mean(1).mean())


def check_trainable(spec: Spec, num_classes: int = 10, input_shape: tuple[int, int, int] = (1, 28, 28)) -> None:
    """ValueError unless `spec` takes 28x28 grey images and ends in one score per class."""
    from cnnviz import dims

    if tuple(spec.input_shape) != input_shape:
        raise ValueError(f"this network takes {tuple(spec.input_shape)} images, but the dataset has {input_shape}")
    out = dims.table(spec)[-1].out_shape if spec.layers else tuple(spec.input_shape)
    if tuple(out) != (num_classes,):
        raise ValueError(f"this network ends in shape {tuple(out)}, but training needs {num_classes} class scores: "
                         f"end it with flatten and a linear layer of {num_classes} outputs")


def progress_text(event: Progress, running: bool = True) -> str:
    """One status line: 'batch 120/938 · epoch 0.13 · loss 0.412 · 9,210 img/s · ETA 11 s' (no ETA once ended)."""
    return (f"batch {event.batch:,}/{event.total_batches:,} · epoch {event.epoch:.2f} · loss {event.loss:.3f} · "
            f"{event.images_per_s:,.0f} img/s" + (f" · ETA {event.eta_s:,.0f} s" if running else ""))


def summary_text(result: Result) -> str:
    """How the run went, in one line: '300 batches (0.64 epochs) of 128 images in 39.0 s, 985 img/s on CPU (bf16)'."""
    last = result.history[-1] if result.history else None
    epochs = f" ({last.epoch / last.batch * result.batches:.2f} epochs)" if last else ""
    return (f"{result.batches:,} batches{epochs} of {result.config.batch_size} images in "
            f"{result.train_seconds:.1f} s, {result.images_per_s:,.0f} img/s on {result.device} ({result.precision})")


def run_summary(spec: Spec, config: TrainConfig) -> str:
    """One short line for a running run: 'tutorial_a on mnist · sgd lr 0.075 · batch 128 · 1.5 epochs · seed 0'."""
    cap = f" · stop after {config.max_batches:,} batches" if config.max_batches else ""
    return (f"{spec.name or 'custom network'} on {config.dataset} · {config.optimizer} lr {config.lr:g} · "
            f"batch {config.batch_size} · {config.epochs:g} epochs · seed {config.seed}{cap}")


def describe_run(spec: Spec, config: TrainConfig) -> str:
    """How a run was made, for the model card: network, optimizer, lr, schedule, batch, epochs, seed."""
    return (f"cnnviz app: {spec.name or 'custom network'} on {config.dataset}, {config.optimizer} lr {config.lr:g} "
            f"({config.schedule}), batch {config.batch_size}, {config.epochs:g} epochs"
            f"{f', label smoothing {config.label_smoothing:g}' if config.label_smoothing else ''}"
            f"{f', stopped at {config.max_batches} batches' if config.max_batches else ''}, seed {config.seed}")


def plain_pixels(split: datamod.Split) -> datamod.Split:
    """The split as plain [0, 1] pixels, as the tutorials' ToTensor() gives them (recorded as mean 0, std 1)."""
    if (split.mean, split.std) == (0.0, 1.0):
        return split
    return replace(split, images=split.raw(), mean=0.0, std=1.0)  # replace: an own dataset's split keeps its names


def as_trained(split: datamod.Split, config: TrainConfig) -> datamod.Split:
    """The split as the run's network sees it: normalised, or plain pixels for a run with normalize=False."""
    return split if config.normalize else plain_pixels(split)


def report_interval(config: TrainConfig, device: torch.device) -> int:
    """Batches between progress events: as asked on a CPU; at least 50 on a GPU, where each event is a host sync."""
    return config.report_every if device.type == "cpu" else max(config.report_every, 50)


@dataclass
class _Window:
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


def _blowup_events(window: _Window, losses: list[float], acc: float, total: int, per_epoch: int,
                   elapsed: float, job: str) -> list[Progress]:
    """One event per batch of the window that blew up, up to its first NaN/inf: the curve shows the climb."""
    bad = next((i for i, v in enumerate(losses) if not math.isfinite(v)), len(losses) - 1)
    return [Progress(window.first + i, total, (window.first + i) / per_epoch, v, acc, 0.0, elapsed, 0.0, job=job)
            for i, v in enumerate(losses[:bad + 1])]


def _grid(split: datamod.Split | None, config: TrainConfig, device: torch.device, fmt):
    """The live view's 16 fixed test digits (images, labels) on the device, or None without a test split."""
    if split is None or not config.live_every_s:
        return None
    images, labels = snapshots.grid(split)
    return images.to(device).contiguous(memory_format=fmt), labels.to(device)


def train(spec: Spec, config: TrainConfig, train_split: datamod.Split, test_split: datamod.Split | None = None,
          on_progress: Callable[[Progress], None] | None = None, stop_event: threading.Event | None = None,
          job: str = "") -> Result:
    """Train `spec` on `train_split`; report Progress every few batches; evaluate on `test_split` at the end.

    Stops early (Result.stopped) when `stop_event` is set, and on a NaN/inf or exploding loss (Result.diverged
    says why; the history then ends with the climb batch by batch). About once a second an event carries a
    live Frame (filters, guesses for 16 test digits); Result.snapshots keeps the weights every quarter epoch.
    """
    check_trainable(spec, len(train_split.classes), tuple(train_split.images.shape[1:]))
    train_split = as_trained(train_split, config)
    test_split = None if test_split is None else as_trained(test_split, config)
    device = torch.device(config.device) if config.device else pick_device()
    gens = rng.run_generators(config.seed, device)  # the run's own streams: no global seeding (#13 item 6)
    gen = gens.batches
    model, net, bf16, fmt = _models(spec, config, device, gens)
    on_device = train_split.to(device)
    x, y = on_device.images, on_device.labels  # (N, 1, 28, 28), (N,)
    val = test_split.subset(config.val_size).to(device) if test_split is not None and config.val_every != 0 else None
    val_of = {} if val is None else {"val_total": len(val), "val_what": owndata.test_items(val.name)}
    grid = _grid(test_split, config, device, fmt)
    total = total_batches(len(train_split), config)
    opt, sched = _optimizer(model, config, total)
    per_epoch = math.ceil(len(train_split) / config.batch_size)
    every = report_interval(config, device)
    snap_every = (snapshots.snapshot_every(per_epoch, total, config.snapshots_per_epoch)
                  if config.snapshots_per_epoch else 0)
    held_out = (lambda: _held_out(net, val.images, val.labels, bf16, fmt)) if val is not None else (lambda: None)
    snaps = [snapshots.take(model, 0, 0.0, _accuracy(held_out()))] if snap_every else []
    history: list[Progress] = []
    window, seen, last_frame, dead = _Window(), 0, -math.inf, 0
    stopped, diverged = False, None
    blowup = blowup_loss(len(train_split.classes))
    model.train()
    t0 = time.perf_counter()
    for b, idx in enumerate(_batches(len(x), config.batch_size, total, gen, device), start=1):
        xb, yb = x[idx].contiguous(memory_format=fmt), y[idx]
        plain, logits = _step(net, opt, sched, xb, yb, bf16, config.label_smoothing)
        window.add(plain, logits, yb)
        seen += len(idx)
        snap_now = snap_every and b % snap_every == 0 and b < total
        halt = stop_event is not None and stop_event.is_set()
        if not (b % every == 0 or b == total or halt or snap_now):
            continue
        losses, acc = window.read()
        mean_loss, elapsed = window.mean(losses), time.perf_counter() - t0
        if not all(map(math.isfinite, losses)) or mean_loss > blowup:  # NaN, or on its way there
            events = _blowup_events(window, losses, acc, total, per_epoch, elapsed, job)
            b = events[-1].batch  # the first NaN/inf, or the window's end
            worst = events[-1] if not math.isfinite(events[-1].loss) else max(events, key=lambda e: e.loss)
            diverged = divergence_message(worst.loss, worst.batch, config, len(train_split.classes))
            _emit(history, events, on_progress)
            break
        dead = dead + 1 if bool((logits == logits[:1]).all()) else 0  # one answer for all: exact, so never by chance
        died = dead >= DEAD_REPORTS and b < total  # this report is the last; its frame shows the one answer for all
        vl = va = None
        if val is not None and not died and (b == total or snap_now
                                             or (config.val_every and b % config.val_every == 0)):
            vl, va = held_out()
        if snap_now and not died:
            snaps.append(snapshots.take(model, b, b / per_epoch, va))
        frame = None
        if grid is not None and (time.perf_counter() - last_frame >= config.live_every_s or b == total or halt or died):
            frame, last_frame = snapshots.frame(model, *grid, b, b / per_epoch, bf16), time.perf_counter()
        _emit(history, [Progress(b, total, b / per_epoch, mean_loss, acc, seen / elapsed, elapsed,
                                 elapsed / b * (total - b), vl, va, job, frame, **(val_of if va is not None else {}))],
              on_progress)
        window = _Window(first=b + 1)
        if died:
            diverged = dead_message(b, config)
            break
        if halt:
            stopped = b < total
            break
    seconds = time.perf_counter() - t0
    if snap_every and diverged is None:
        last = history[-1] if history else None
        snaps.append(snapshots.take(model, b, b / per_epoch, last.val_accuracy if last and last.batch == b else None))
    model = rng.own_dropout(model, None).to("cpu", memory_format=torch.contiguous_format).eval()
    result = Result(model, spec, config, history, b, seconds, describe(device),
                    "bf16" if bf16 else "fp32", stopped, diverged, snapshots=snaps,
                    classes=tuple(train_split.classes), normalize=(train_split.mean, train_split.std))
    if test_split is not None and diverged is None:  # stopped too: stopping when it is good enough is a use
        result.evaluation = evaluate(model, test_split, len(train_split.classes))
    if owndata.is_own(config.dataset) and not stopped and diverged is None:  # ~0.3 s for 2,400 drawings
        result.class_shapes = novelty.fit_classes(model, train_split.images, train_split.labels,
                                                  len(train_split.classes), config.seed)
    return result


def _models(spec: Spec, config: TrainConfig, device: torch.device,
            gens: rng.RunGenerators) -> tuple[nn.Module, nn.Module, bool, torch.memory_format]:
    """(model, net, bf16, memory format) of a run; `net` is what the loop runs.

    `net` holds the same weights as `model`, its ReLUs after the pools (the same numbers, faster)."""
    bf16 = use_bf16(device, config.precision)
    fmt = torch.channels_last if bf16 else torch.contiguous_format
    model = rng.own_dropout(rng.build(spec, gens.init), gens.dropout).to(device, memory_format=fmt)
    return model, training_order(model), bf16, fmt


def _step(net: nn.Module, opt, sched, xb: torch.Tensor, yb: torch.Tensor, bf16: bool,
          smoothing: float) -> tuple[torch.Tensor, torch.Tensor]:
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


def step_runner(spec: Spec, config: TrainConfig, num_classes: int, images: int | None = None) -> Callable[[int], None]:
    """`run(n)`: n training batches of `spec` as `train` takes them, on random images (for cnnviz.traintime).

    The same work per batch as the loop: batch by index, the step with its model order, precision, optimizer
    and device, the report window. `images` per batch (default config.batch_size); returns once they are done."""
    device = torch.device(config.device) if config.device else pick_device()
    gens = rng.run_generators(config.seed, device)
    model, net, bf16, fmt = _models(spec, config, device, gens)
    opt, sched = _optimizer(model, config, 1 << 30)  # one-cycle needs a total; these few steps barely start it
    n, every = images or config.batch_size, report_interval(config, device)
    x = torch.randn((2 * n, *spec.input_shape), generator=gens.init).to(device)  # (2n, C, H, W)
    y = torch.randint(num_classes, (2 * n,), generator=gens.init).to(device)
    window = [_Window()]
    net.train()

    def run(batches: int) -> None:
        for _ in range(batches):
            idx = torch.randperm(2 * n, generator=gens.batches)[:n].to(device)
            xb, yb = x[idx].contiguous(memory_format=fmt), y[idx]
            plain, logits = _step(net, opt, sched, xb, yb, bf16, config.label_smoothing)
            window[0].add(plain, logits, yb)
            if len(window[0].sizes) == every:  # a progress report: the loop's one host sync
                window[0].read()
                window[0] = _Window()
        if device.type == "cuda":  # the GPU runs ahead of Python: wait for it, or nothing was measured
            torch.cuda.synchronize(device)

    return run


def _accuracy(held: tuple[float, float] | None) -> float | None:
    return None if held is None else held[1]


def _emit(history: list[Progress], events: list[Progress], on_progress: Callable[[Progress], None] | None) -> None:
    for event in events:
        history.append(event)
        if on_progress is not None:
            on_progress(event)


# --- the background runner the app polls ---------------------------------------------------------

@dataclass
class Snapshot:
    """A copy of a Runner's state for the page: safe to read while the thread runs on."""

    state: str                       # "running", "done", "stopped", "failed"
    history: list[Progress]
    results: list[Any]
    message: str | None
    job: str

    @property
    def tested(self) -> list[Any]:
        """The results that were tested (a run that blew up has no test; a stopped one has)."""
        return [r for r in self.results if getattr(r, "evaluation", None) is not None]

    def kept(self) -> Any | None:
        """The first tested result once the run has ended (done, or stopped when good enough): what can be kept."""
        return self.tested[0] if self.state in ("done", "stopped") and self.tested else None


class Runner:
    """Runs `work(on_progress, stop_event) -> result or list of results` in a daemon thread.

    Owns no Streamlit objects: progress goes into a list under a lock; the page calls `snapshot()`.
    """

    def __init__(self, work: Callable[[Callable[[Progress], None], threading.Event], Any]) -> None:
        self._work = work
        self._lock = threading.Lock()
        self._history: list[Progress] = []
        self._results: list[Any] = []
        self._state = "running"
        self._message: str | None = None
        self.stop_event = threading.Event()
        self._stopped_why = "Stopped by you"
        self._thread = threading.Thread(target=self._run, name="cnnviz-trainer", daemon=True)

    def start(self) -> Runner:
        """Start the thread; returns self."""
        self._thread.start()
        return self

    @property
    def started(self) -> bool:
        """True once start() was called (a queued Runner waits unstarted: see cnnviz.runs)."""
        return self._thread.ident is not None

    def cancel(self, message: str) -> None:
        """End a Runner that never started: state 'stopped' with `message` (it will not run)."""
        self.stop_event.set()
        with self._lock:
            if self._thread.ident is None:
                self._state, self._message = "stopped", message

    def _on_progress(self, event: Progress) -> None:
        with self._lock:
            self._history.append(event)

    def _run(self) -> None:
        try:
            out = self._work(self._on_progress, self.stop_event)
            results = out if isinstance(out, list) else [out]
            state, message = "done", None
            for r in results:
                if getattr(r, "diverged", None):
                    state, message = "failed", r.diverged
                elif getattr(r, "stopped", False):
                    state = "stopped"
                    tested = getattr(r, "evaluation", None) is not None
                    message = f"{self._stopped_why} after {r.batches:,} batches. " + (
                        "It was tested as it was then: keep it with Save if it is good enough." if tested
                        else "It was not tested, so there is nothing to save.")
        except Exception as err:  # the page shows the message; the thread must never die silently
            results, state, message = [], "failed", f"{type(err).__name__}: {no_paths(err)}"
        with self._lock:
            self._results, self._state, self._message = results, state, message

    def stop(self, timeout: float = 1.0, why: str | None = None) -> bool:
        """Ask the run to stop (`why` opens its message) and wait up to `timeout` s; True when it has ended."""
        if why:
            self._stopped_why = why
        if not self.started:
            self.cancel(f"{why or 'Stopped by you'} before it started.")
            return True
        self.stop_event.set()
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def snapshot(self) -> Snapshot:
        """State, full history, results and message, copied under the lock."""
        with self._lock:
            job = self._history[-1].job if self._history else ""
            return Snapshot(self._state, list(self._history), list(self._results), self._message, job)


def start_training(spec: Spec, config: TrainConfig, train_split: datamod.Split,
                   test_split: datamod.Split | None) -> Runner:
    """A started Runner training one network."""
    return Runner(lambda cb, stop: train(spec, config, train_split, test_split, cb, stop)).start()


# The tutorials' own recipe: plain ToTensor() pixels in fp32, SGD lr 0.01 without momentum, batch 100,
# 3000 iterations. A second pass with normalised inputs shows what normalising changes.
TUTORIAL_CONFIG = TrainConfig(optimizer="sgd", lr=0.01, batch_size=100, epochs=5, schedule="constant",
                              momentum=0.0, nesterov=False, max_batches=3000, precision="fp32", normalize=False,
                              label_smoothing=0.0)
PUBLISHED = {"tutorial_a": 97.04, "tutorial_b": 93.59, "tutorial_c": 96.5}
NORMALISED = " (normalised)"
TUTORIAL_JOBS = tuple(PUBLISHED) + tuple(name + NORMALISED for name in PUBLISHED)


def reproduce_tutorials(train_split: datamod.Split, test_split: datamod.Split,
                        on_progress: Callable[[Progress], None] | None = None,
                        stop_event: threading.Event | None = None,
                        config: TrainConfig = TUTORIAL_CONFIG) -> list[Result]:
    """Train Models A, B and C with the tutorials' recipe, then again on normalised inputs (six runs)."""
    results = []
    for job in TUTORIAL_JOBS:
        name, normalised = job.removesuffix(NORMALISED), job.endswith(NORMALISED)
        results.append(train(PRESETS[name], replace(config, normalize=normalised), train_split, test_split,
                             on_progress, stop_event, job=job))
        if results[-1].stopped or results[-1].diverged:
            break
    return results


def job_label(job: str) -> str:
    """Which reproduced model is training, for the progress line: 'tutorial_b (2 of 6): '; '' for a single run."""
    if not job:
        return ""
    jobs = list(TUTORIAL_JOBS)
    return f"{job} ({jobs.index(job) + 1} of {len(jobs)}): " if job in jobs else f"{job}: "


def tutorial_table(results: list[Result]) -> list[dict[str, Any]]:
    """Published vs reproduced, side by side: one row per recipe, one column per model (None: not run)."""
    by = {(r.spec.name, r.config.normalize): r.test_accuracy for r in results}
    recipe = results[0].config if results else TUTORIAL_CONFIG
    rows = [("published (%)", None), (f"cnnviz, tutorial recipe: plain pixels, {recipe.precision} (%)", False),
            ("cnnviz, normalised inputs (%)", True)]
    table = []
    for label, norm in rows:
        row: dict[str, Any] = {"": label}
        for name, published in PUBLISHED.items():
            acc = published if norm is None else by.get((name, norm))
            row[name] = None if acc is None else round(acc, 2)
        table.append(row)
    gaps = {name: None if table[1][name] is None else round(table[1][name] - PUBLISHED[name], 2) for name in PUBLISHED}
    table.insert(2, {"": "difference, tutorial recipe (points)", **gaps})
    return table


# --- model cards and the CLI ---------------------------------------------------------------------

def make_card(result: Result, name: str, how: str) -> dict[str, Any]:
    """The JSON model card for a tested run (finished, or stopped: the card says at which batch)."""
    ev, cfg = result.evaluation, result.config
    if ev is None:
        raise ValueError("this run has no test evaluation (it diverged, or had no test split), so it has no card")
    if result.stopped:
        how += f" (stopped at batch {result.batches:,} of {result.planned_batches:,})"
    held = result.held_out
    return {
        "name": name, "spec": result.spec.to_json(), "dataset": cfg.dataset,
        "normalize": list(result.normalize or datamod.info(cfg.dataset).norm),
        "classes": list(result.classes or datamod.info(cfg.dataset).classes),
        "test_accuracy": round(ev.accuracy, 2), "test_correct": ev.correct, "test_total": ev.total,
        "per_class_accuracy": [round(a, 2) for a in ev.per_class_accuracy()],
        "epochs": cfg.epochs, "batches": result.batches, "seed": cfg.seed,
        "stopped": result.stopped, "planned_batches": result.planned_batches,
        "held_out_images": held[0] if held else None,  # what the snapshots' held-out accuracies were measured on
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "device": result.device, "precision": result.precision, "optimizer": cfg.optimizer,
        "lr": cfg.lr, "schedule": cfg.schedule, "momentum": cfg.momentum, "batch_size": cfg.batch_size,
        "label_smoothing": cfg.label_smoothing,
        "train_seconds": round(result.train_seconds, 1), "how": how,
        "cnnviz_version": cnnviz.__version__, "torch_version": torch.__version__,
        "machine": platform.machine(),
    } | ({"class_shapes": result.class_shapes.to_card()} if result.class_shapes is not None else {})


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m cnnviz.train", description="Train a preset and save a checkpoint.")
    p.add_argument("--preset", required=True, choices=sorted(PRESETS))
    p.add_argument("--dataset", default="mnist", choices=sorted(datamod.DATASETS))
    p.add_argument("--epochs", type=float, default=TrainConfig.epochs)
    p.add_argument("--optimizer", default=TrainConfig.optimizer, choices=OPTIMIZERS)
    p.add_argument("--lr", type=float, default=None,
                   help="peak learning rate (default: the optimizer's: "
                        + ", ".join(f"{o} {v:g}" for o, v in DEFAULT_LR.items()) + ")")
    p.add_argument("--schedule", default="onecycle", choices=SCHEDULES)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-batches", type=int, default=None)
    p.add_argument("--precision", default="auto", choices=("auto", "fp32", "bf16"))
    p.add_argument("--momentum", type=float, default=0.9, help="SGD momentum (0: plain SGD, as the tutorials)")
    p.add_argument("--nesterov", action=argparse.BooleanOptionalAction, default=True,
                   help="Nesterov momentum (SGD with momentum > 0)")
    p.add_argument("--normalize", action=argparse.BooleanOptionalAction, default=True,
                   help="normalise inputs with the dataset's mean/std (--no-normalize: plain [0, 1] pixels)")
    p.add_argument("--label-smoothing", type=float, default=TrainConfig.label_smoothing,
                   help="label smoothing of the loss it minimises (0: plain cross-entropy, as the tutorials)")
    p.add_argument("--recipe", choices=("tutorial",), default=None,
                   help="the tutorials' recipe: plain pixels, fp32, SGD lr 0.01 no momentum, constant, batch 100, "
                        "plain cross-entropy, 3000 iterations (overrides those options)")
    p.add_argument("--snapshots", action=argparse.BooleanOptionalAction, default=True,
                   help="save weight snapshots (every quarter epoch) with the checkpoint, for the replay")
    p.add_argument("--half", action="store_true", help="store float16 weights (accuracy measured after)")
    p.add_argument("--name", default=None, help="checkpoint name (default: the preset)")
    p.add_argument("--out", default=None, help="folder for the checkpoint (default: the user folder)")
    args = p.parse_args(argv)
    if args.lr is None:
        args.lr = default_lr(args.optimizer)
    return args


def _config(args: argparse.Namespace) -> TrainConfig:
    """The run's settings from the command line; ValueError naming a bad value."""
    config = TrainConfig(dataset=args.dataset, optimizer=args.optimizer, lr=args.lr, batch_size=args.batch_size,
                         epochs=args.epochs, seed=args.seed, schedule=args.schedule, max_batches=args.max_batches,
                         precision=args.precision, momentum=args.momentum, nesterov=args.nesterov,
                         normalize=args.normalize, label_smoothing=args.label_smoothing, val_every=0,
                         live_every_s=0, snapshots_per_epoch=4 if args.snapshots else 0)
    if args.recipe == "tutorial":
        config = replace(TUTORIAL_CONFIG, dataset=args.dataset, seed=args.seed, val_every=0, live_every_s=0,
                         snapshots_per_epoch=config.snapshots_per_epoch,
                         max_batches=args.max_batches or TUTORIAL_CONFIG.max_batches)
    return config


def main(argv: list[str] | None = None) -> int:
    """CLI: train, measure the test accuracy of the weights exactly as stored, save checkpoint + card."""
    from cnnviz import checkpoints, memory

    args = _parse(argv)
    memory.keep_freed_memory()  # a training process: reuse each batch's memory (cnnviz/memory.py)
    try:
        config = _config(args)
    except ValueError as err:  # a bad value: one plain line, not a traceback
        print(f"python -m cnnviz.train: {err}", file=sys.stderr)
        return 2
    train_split = datamod.load(args.dataset, "train", download=True)  # a command line may fetch (with timeouts)
    test_split = datamod.load(args.dataset, "test")
    last = [0.0]

    def report(ev: Progress) -> None:
        if ev.elapsed_s - last[0] >= 5 or ev.batch == ev.total_batches:
            last[0] = ev.elapsed_s
            print(f"  batch {ev.batch}/{ev.total_batches}  epoch {ev.epoch:.2f}  loss {ev.loss:.4f}  "
                  f"{ev.images_per_s:,.0f} img/s", flush=True)

    result = train(PRESETS[args.preset], config, train_split, None, report)
    if result.diverged:
        print(result.diverged, file=sys.stderr)
        return 1
    if args.half:  # measure exactly what is stored: fp32 -> fp16 -> fp32 is what load() gives back
        result.model.half().float()
    result.evaluation = evaluate(result.model, as_trained(test_split, config))
    how = "python -m cnnviz.train " + " ".join(argv if argv is not None else sys.argv[1:])
    card = make_card(result, args.name or args.preset, how)
    extra = {snapshots.EXTRA: snapshots.to_tensors(result.snapshots)} if result.snapshots else None
    folder = checkpoints.save(result.model, card, args.out, half=args.half, overwrite=True, extras=extra)
    print(f"{args.preset}: test accuracy {result.test_text()} after {result.batches} batches in "
          f"{result.train_seconds:.1f} s "
          f"({result.images_per_s:,.0f} img/s) on {result.device} ({result.precision}); saved {folder}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
