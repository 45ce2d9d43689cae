"""What a training run says in words: the status lines of a running run, how it went, and why it stopped
(the loss blew up, the network died, it learned nothing), each with what to try instead."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

from cnnviz.trainconfig import SAFE_LR, TOO_HIGH, TrainConfig

if TYPE_CHECKING:  # only for the type hints: cnnviz.train imports this module
    from cnnviz.spec import Spec
    from cnnviz.train import Progress, Result


def lr_too_high(config: TrainConfig) -> str | None:
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
    hint = lr_too_high(config) or (f"the weights blew up; try a smaller learning rate "
                                   f"(e.g. {config.lr / 10:g}) or a network with fewer layers")
    return f"{what} — {hint}"


def dead_message(batch: int, config: TrainConfig) -> str:
    """Why a run stopped because every image got the same answer (every ReLU outputs 0), and what to try."""
    hint = lr_too_high(config) or f"try a smaller learning rate (e.g. {config.lr / 10:g})"
    return (f"The network died at batch {batch}: every image now gets exactly the same answer. The steps pushed the "
            f"weights so far that every ReLU outputs 0 for every image, so no gradient reaches the filters and "
            f"nothing can change any more — {hint}")


def stalled_message(result: Result, num_classes: int = 10) -> str | None:
    """A plain warning when a finished run is no better than guessing (the weights died), else None."""
    acc, chance = result.test_accuracy, 100.0 / num_classes
    if acc is None or acc >= 2 * chance:
        return None
    hint = lr_too_high(result.config) or "try a smaller learning rate, more epochs, or a different network"
    return (f"Test accuracy {result.test_text()} is no better than guessing ({chance:.0f}%): the network learned "
            f"nothing — {hint}.")


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
