"""The settings of a training run, and their defaults in one place: `TrainConfig` and the learning rates.

The page, the command line (`cnnviz.cli`) and the model card (`cnnviz.card`) all read the defaults from here.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields

OPTIMIZERS = ("sgd", "adam")
SCHEDULES = ("onecycle", "constant")
PRECISIONS = ("auto", "fp32", "bf16")
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
    epochs: float = 1.5             # with label smoothing: tutorial_a >= 99.0% in 1.5 epochs (docs/trainer.md)
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
        if self.optimizer in OPTIMIZERS and self.lr is None:  # frozen: the one place a default is filled in
            object.__setattr__(self, "lr", DEFAULT_LR[self.optimizer])
        bad = self.problems()
        if bad:
            raise ValueError("bad training settings: " + "; ".join(bad))

    def problems(self) -> list[str]:
        """Every bad setting, in plain words ([] when the run can start)."""
        bad = []
        if self.optimizer not in OPTIMIZERS:
            bad.append(f"optimizer {self.optimizer!r} (choose {', '.join(OPTIMIZERS)})")
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
        if self.precision not in PRECISIONS:
            bad.append(f"precision {self.precision!r} (choose {', '.join(PRECISIONS)})")
        return bad


def defaults() -> dict[str, object]:
    """TrainConfig's field defaults by name (lr: None, filled in per optimizer): what the CLI starts from."""
    return {f.name: f.default for f in fields(TrainConfig)}


def batches_per_epoch(n_train: int, batch_size: int) -> int:
    """Batches in one pass over `n_train` images: ceil(N / batch)."""
    return math.ceil(n_train / batch_size)


def total_batches(n_train: int, config: TrainConfig) -> int:
    """Batches the run will take: epochs x ceil(N / batch), capped by max_batches."""
    total = max(1, math.ceil(config.epochs * batches_per_epoch(n_train, config.batch_size)))
    return min(total, config.max_batches) if config.max_batches else total
