"""The training loop: `train()` takes a spec, a TrainConfig and the data, reports Progress through a callback,
stops on a stop event, and returns a Result (the model, its history, snapshots and test).

    setup    the data on the training device, the model (ReLUs after the pools while training), the optimizer
    step     one batch (cnnviz.trainstep): forward under bf16 autocast where the CPU has it, loss, backward, step
    report   every few batches: the window's losses (one host sync), the divergence check, the held-out curve,
             a weight snapshot every quarter epoch, a live frame about once a second

Why it is fast: the whole split is one tensor on the training device and batches are taken by index from
torch.randperm; on a CPU with bf16 the model runs channels_last under bf16 autocast, with each ReLU moved after
the max-pool that follows it (arch.training_order: bit for bit the same numbers). torch.compile is not used:
slower at this size and slow to compile. The measurements are in docs/performance.md.

The settings live in cnnviz.trainconfig, the words in cnnviz.trainstatus, the command line in cnnviz.cli
(`python -m cnnviz.train` still runs it).
"""
from __future__ import annotations

import os

if __name__ == "__main__":  # the CLI: before torch loads, OpenMP threads sleep instead of spinning (app.py: same)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import torch
import torch.nn.functional as F
from torch import nn

from cnnviz import data as datamod
from cnnviz import novelty, overfit, registry, rng, snapshots, trainstep
from cnnviz.arch import Spec
from cnnviz.device import describe, pick_device
from cnnviz.evaluate import Evaluation, accuracy_text, evaluate
from cnnviz.snapshots import Frame, WeightSnapshot
from cnnviz.trainconfig import TrainConfig, batches_per_epoch, total_batches
from cnnviz.trainstatus import dead_message, divergence_message


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
    val_what: str = "test images"   # what they are: registry.test_items ('held-out drawings' for an own dataset)


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
    train_evaluation: Evaluation | None = None      # on (up to 10,000 of) its training images: overfitting's gap

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
        return accuracy_text(self.evaluation.correct, self.evaluation.total, registry.test_items(self.config.dataset))


DEAD_REPORTS = 2  # progress reports in a row with one answer for every image: the network is dead, stop


def blowup_loss(num_classes: int) -> float:
    """A mean loss above this means the weights blew up: 5x an untrained network's ln(K) (11.5 for 10 classes)."""
    return 5 * math.log(num_classes)


def plain_pixels(split: datamod.Split) -> datamod.Split:
    """The split as plain [0, 1] pixels, as the tutorials' ToTensor() gives them (recorded as mean 0, std 1)."""
    if (split.mean, split.std) == (0.0, 1.0):
        return split
    return replace(split, images=split.raw(), mean=0.0, std=1.0)  # replace: an own dataset's split keeps its names


def as_trained(split: datamod.Split, config: TrainConfig) -> datamod.Split:
    """The split as the run's network sees it: normalised, or plain pixels for a run with normalize=False."""
    return split if config.normalize else plain_pixels(split)


def check_trainable(spec: Spec, num_classes: int = 10, input_shape: tuple[int, int, int] = (1, 28, 28)) -> None:
    """ValueError unless `spec` takes 28x28 grey images and ends in one score per class."""
    from cnnviz import dims

    if tuple(spec.input_shape) != input_shape:
        raise ValueError(f"this network takes {tuple(spec.input_shape)} images, but the dataset has {input_shape}")
    out = dims.table(spec)[-1].out_shape if spec.layers else tuple(spec.input_shape)
    if tuple(out) != (num_classes,):
        raise ValueError(f"this network ends in shape {tuple(out)}, but training needs {num_classes} class scores: "
                         f"end it with flatten and a linear layer of {num_classes} outputs")


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


HELD_OUT_CHUNK = 256  # images per forward pass: chunks whose activations stay in the CPU's caches
                     # (docs/performance.md)


@torch.no_grad()
def _held_out(model: nn.Module, x: torch.Tensor, y: torch.Tensor, bf16: bool, fmt) -> tuple[float, float]:
    """(loss, accuracy %) on the held-out images; in chunks, whose activations stay in the CPU's caches."""
    model.eval()
    with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=bf16):
        logits = torch.cat([model(x[i:i + HELD_OUT_CHUNK].contiguous(memory_format=fmt)).float()
                            for i in range(0, len(x), HELD_OUT_CHUNK)])
    model.train()
    return float(F.cross_entropy(logits, y)), 100.0 * float((logits.argmax(1) == y).float().mean())


def _blowup_events(window: trainstep.Window, losses: list[float], acc: float, total: int, per_epoch: int,
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


@dataclass
class _Setup:
    """What a run prepares before its first batch."""

    model: nn.Module                 # the spec's order: what the Result hands back
    net: nn.Module                   # the same weights, ReLUs after the pools: what the loop runs
    bf16: bool
    fmt: torch.memory_format
    device: torch.device
    x: torch.Tensor                  # (N, C, H, W) the training images on the device
    y: torch.Tensor                  # (N,)
    val: datamod.Split | None        # the held-out images of the live curve, on the device
    grid: tuple[torch.Tensor, torch.Tensor] | None  # the live view's 16 digits
    total: int                       # batches the run takes
    per_epoch: int
    every: int                       # batches between progress events
    snap_every: int                  # batches between weight snapshots (0: none)
    opt: torch.optim.Optimizer
    sched: torch.optim.lr_scheduler.LRScheduler | None
    gen: torch.Generator             # the batch order

    def held_out(self) -> tuple[float, float] | None:
        """(loss, accuracy %) on the held-out images, None without them."""
        return None if self.val is None else _held_out(self.net, self.val.images, self.val.labels, self.bf16, self.fmt)


def _setup(spec: Spec, config: TrainConfig, train_split: datamod.Split, test_split: datamod.Split | None) -> _Setup:
    """Data on the device, the model, the optimizer and the run's schedule of reports and snapshots."""
    device = torch.device(config.device) if config.device else pick_device()
    gens = rng.run_generators(config.seed, device)  # the run's own streams: no global seeding
    model, net, bf16, fmt = trainstep.models(spec, config, device, gens)
    on_device = train_split.to(device)
    val = test_split.subset(config.val_size).to(device) if test_split is not None and config.val_every != 0 else None
    total, per_epoch = total_batches(len(train_split), config), batches_per_epoch(len(train_split), config.batch_size)
    opt, sched = trainstep.optimizer(model, config, total)
    snap_every = (snapshots.snapshot_every(per_epoch, total, config.snapshots_per_epoch)
                  if config.snapshots_per_epoch else 0)
    return _Setup(model, net, bf16, fmt, device, on_device.images, on_device.labels, val,
                  _grid(test_split, config, device, fmt), total, per_epoch, trainstep.report_interval(config, device),
                  snap_every, opt, sched, gens.batches)


class _Loop:
    """A run between its batches: the report window, the history, the snapshots, and why it ended."""

    def __init__(self, run: _Setup, config: TrainConfig, num_classes: int,
                 on_progress: Callable[[Progress], None] | None, job: str) -> None:
        self.run, self.config, self.num_classes, self.on_progress, self.job = run, config, num_classes, on_progress, job
        self.history: list[Progress] = []
        self.window, self.seen, self.dead, self.last_frame = trainstep.Window(), 0, 0, -math.inf
        self.batch, self.stopped, self.diverged = 0, False, None
        self.val_of = {} if run.val is None else {"val_total": len(run.val),
                                                  "val_what": registry.test_items(run.val.name)}
        held = run.held_out() if run.snap_every else None
        self.snaps = [snapshots.take(run.model, 0, 0.0, None if held is None else held[1])] if run.snap_every else []
        self.t0 = time.perf_counter()

    def after(self, b: int, plain: torch.Tensor, logits: torch.Tensor, yb: torch.Tensor, halt: bool) -> bool:
        """Keep batch `b`'s numbers; report when one is due. True when the run ends here."""
        self.window.add(plain, logits, yb)
        self.seen, self.batch = self.seen + len(yb), b
        snap_now = bool(self.run.snap_every) and b % self.run.snap_every == 0 and b < self.run.total
        if not (b % self.run.every == 0 or b == self.run.total or halt or snap_now):
            return False
        return self._report(b, logits, snap_now, halt)

    def _report(self, b: int, logits: torch.Tensor, snap_now: bool, halt: bool) -> bool:
        losses, acc = self.window.read()
        mean_loss, elapsed = self.window.mean(losses), time.perf_counter() - self.t0
        if self._blew_up(losses, mean_loss, acc, elapsed):
            return True
        self.dead = self.dead + 1 if bool((logits == logits[:1]).all()) else 0  # one answer for all: never by chance
        died = self.dead >= DEAD_REPORTS and b < self.run.total  # this report is the last: its frame shows it
        vl, va = self._held_out_now(b, snap_now, died)
        if snap_now and not died:
            self.snaps.append(snapshots.take(self.run.model, b, b / self.run.per_epoch, va))
        total = self.run.total
        self._emit([Progress(b, total, b / self.run.per_epoch, mean_loss, acc, self.seen / elapsed, elapsed,
                             elapsed / b * (total - b), vl, va, self.job, self._frame(b, halt or died),
                             **(self.val_of if va is not None else {}))])
        self.window = trainstep.Window(first=b + 1)
        if died:
            self.diverged = dead_message(b, self.config)
        elif halt:
            self.stopped = b < total
        return died or halt

    def _blew_up(self, losses: list[float], mean_loss: float, acc: float, elapsed: float) -> bool:
        """The divergence check: a NaN/inf or exploding loss ends the run, its climb shown batch by batch."""
        if all(map(math.isfinite, losses)) and mean_loss <= blowup_loss(self.num_classes):
            return False
        events = _blowup_events(self.window, losses, acc, self.run.total, self.run.per_epoch, elapsed, self.job)
        self.batch = events[-1].batch  # the first NaN/inf, or the window's end
        worst = events[-1] if not math.isfinite(events[-1].loss) else max(events, key=lambda e: e.loss)
        self.diverged = divergence_message(worst.loss, worst.batch, self.config, self.num_classes)
        self._emit(events)
        return True

    def _held_out_now(self, b: int, snap_now: bool, died: bool) -> tuple[float | None, float | None]:
        """(loss, accuracy) on the held-out images when this report measures them (the end, a snapshot, val_every)."""
        every = self.config.val_every
        if self.run.val is None or died or not (b == self.run.total or snap_now or (every and b % every == 0)):
            return None, None
        return self.run.held_out()

    def _frame(self, b: int, now: bool) -> Frame | None:
        """The live view's frame, about once a second (and at the end, a stop or a death)."""
        run = self.run
        if run.grid is None or not (time.perf_counter() - self.last_frame >= self.config.live_every_s
                                    or b == run.total or now):
            return None
        self.last_frame = time.perf_counter()
        return snapshots.frame(run.model, *run.grid, b, b / run.per_epoch, run.bf16)

    def last_snapshot(self) -> None:
        """The snapshot of the end (none after a divergence: those weights are what went wrong)."""
        if self.run.snap_every and self.diverged is None:
            b, last = self.batch, self.history[-1] if self.history else None
            val = last.val_accuracy if last and last.batch == b else None
            self.snaps.append(snapshots.take(self.run.model, b, b / self.run.per_epoch, val))

    def _emit(self, events: list[Progress]) -> None:
        for event in events:
            self.history.append(event)
            if self.on_progress is not None:
                self.on_progress(event)


def train(spec: Spec, config: TrainConfig, train_split: datamod.Split, test_split: datamod.Split | None = None,
          on_progress: Callable[[Progress], None] | None = None, stop_event: threading.Event | None = None,
          job: str = "") -> Result:
    """Train `spec` on `train_split`; report Progress every few batches; evaluate on `test_split` at the end.

    Stops early (Result.stopped) when `stop_event` is set, and on a NaN/inf or exploding loss (Result.diverged
    says why; the history then ends with the climb batch by batch). About once a second an event carries a
    live Frame (filters, guesses for 16 test digits); Result.snapshots keeps the weights every quarter epoch.
    """
    spec = overfit.with_dropout(spec, config.dropout)  # the cures and the cause: dropout, fewer images
    train_split = overfit.sample(train_split, config.train_images, config.seed)
    check_trainable(spec, len(train_split.classes), tuple(train_split.images.shape[1:]))
    train_split = as_trained(train_split, config)
    test_split = None if test_split is None else as_trained(test_split, config)
    run = _setup(spec, config, train_split, test_split)
    loop = _Loop(run, config, len(train_split.classes), on_progress, job)
    augment = overfit.batch_augmenter(config, train_split, run.device)
    run.model.train()
    for b, idx in enumerate(_batches(len(run.x), config.batch_size, run.total, run.gen, run.device), start=1):
        xb, yb = (run.x[idx] if augment is None else augment(run.x[idx])).contiguous(memory_format=run.fmt), run.y[idx]
        plain, logits = trainstep.step(run.net, run.opt, run.sched, xb, yb, run.bf16, config.label_smoothing)
        if loop.after(b, plain, logits, yb, halt=stop_event is not None and stop_event.is_set()):
            break
    seconds = time.perf_counter() - loop.t0
    loop.last_snapshot()
    return _finish(run, loop, spec, config, train_split, test_split, seconds)


def _finish(run: _Setup, loop: _Loop, spec: Spec, config: TrainConfig, train_split: datamod.Split,
            test_split: datamod.Split | None, seconds: float) -> Result:
    """The Result: the model back on the CPU in the spec's order, tested (a stopped run too: stopping when it is
    good enough is a use), and for an own dataset the class shapes of "not one of your classes?"."""
    model = rng.own_dropout(run.model, None).to("cpu", memory_format=torch.contiguous_format).eval()
    result = Result(model, spec, config, loop.history, loop.batch, seconds, describe(run.device),
                    "bf16" if run.bf16 else "fp32", loop.stopped, loop.diverged, snapshots=loop.snaps,
                    classes=tuple(train_split.classes), normalize=(train_split.mean, train_split.std))
    if test_split is not None and loop.diverged is None:
        result.evaluation = evaluate(model, test_split, len(train_split.classes))
        result.train_evaluation = evaluate(model, train_split.subset(overfit.TRAIN_TESTED), len(train_split.classes))
    if registry.is_own(config.dataset) and not loop.stopped and loop.diverged is None:
        result.class_shapes = novelty.fit_classes(model, train_split.images, train_split.labels,
                                                  len(train_split.classes), config.seed)
    return result


if __name__ == "__main__":
    from cnnviz.cli import main

    raise SystemExit(main())
