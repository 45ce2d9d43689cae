"""The command line that made the shipped checkpoints (`python -m cnnviz.train` runs `main`):

    python -m cnnviz.train --preset tutorial_a --epochs 2 --out checkpoints/

Its options are TrainConfig's fields: their types and defaults are read from the dataclass, never retyped.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import fields, replace

from cnnviz import data as datamod
from cnnviz import snapshots
from cnnviz.arch import PRESETS
from cnnviz.card import Card
from cnnviz.evaluate import evaluate
from cnnviz.train import Progress, as_trained, train
from cnnviz.trainconfig import DEFAULT_LR, OPTIMIZERS, PRECISIONS, SCHEDULES, TrainConfig, default_lr
from cnnviz.tutorials import TUTORIAL_CONFIG

# The TrainConfig fields the command line sets (--batch-size for batch_size ...), with their choices and help.
OPTIONS: dict[str, dict] = {
    "dataset": {"choices": sorted(datamod.DATASETS)},
    "epochs": {},
    "optimizer": {"choices": OPTIMIZERS},
    "lr": {"help": "peak learning rate (default: the optimizer's: "
                   + ", ".join(f"{o} {v:g}" for o, v in DEFAULT_LR.items()) + ")"},
    "schedule": {"choices": SCHEDULES},
    "batch_size": {},
    "seed": {},
    "max_batches": {},
    "precision": {"choices": PRECISIONS},
    "momentum": {"help": "SGD momentum (0: plain SGD, as the tutorials)"},
    "nesterov": {"help": "Nesterov momentum (SGD with momentum > 0)"},
    "normalize": {"help": "normalise inputs with the dataset's mean/std (--no-normalize: plain [0, 1] pixels)"},
    "label_smoothing": {"help": "label smoothing of the loss it minimises (0: plain cross-entropy, as the tutorials)"},
}
_TYPES = {"int": int, "float": float, "str": str}


def _add_config_options(p: argparse.ArgumentParser) -> None:
    """One option per OPTIONS field, its type and default taken from TrainConfig."""
    for f in fields(TrainConfig):
        if f.name not in OPTIONS:
            continue
        flag, kind = "--" + f.name.replace("_", "-"), f.type.split("|")[0].strip()
        if kind == "bool":
            p.add_argument(flag, action=argparse.BooleanOptionalAction, default=f.default, **OPTIONS[f.name])
        else:
            p.add_argument(flag, type=_TYPES[kind], default=f.default, **OPTIONS[f.name])


def parse(argv: list[str] | None) -> argparse.Namespace:
    """The command line's options (lr filled in with the optimizer's default when left out)."""
    p = argparse.ArgumentParser(prog="python -m cnnviz.train", description="Train a preset and save a checkpoint.")
    p.add_argument("--preset", required=True, choices=sorted(PRESETS))
    _add_config_options(p)
    p.add_argument("--recipe", choices=("tutorial",), default=None,
                   help="the tutorials' recipe: plain pixels, fp32, SGD lr 0.01 no momentum, constant, batch 100, "
                        "plain cross-entropy, 3000 iterations (overrides those options)")
    p.add_argument("--snapshots", action=argparse.BooleanOptionalAction, default=True,
                   help="save weight snapshots (every quarter epoch) with the checkpoint, for the replay")
    p.add_argument("--half", action="store_true", help="store float16 weights (accuracy measured after)")
    p.add_argument("--name", default=None, help="checkpoint name (default: the preset)")
    p.add_argument("--out", default=None, help="folder for the checkpoint (default: the user folder)")
    args = p.parse_args(argv)
    if args.lr is None and args.optimizer in OPTIMIZERS:
        args.lr = default_lr(args.optimizer)
    return args


def config_of(args: argparse.Namespace) -> TrainConfig:
    """The run's settings from the command line; ValueError naming a bad value."""
    per_epoch = TrainConfig.snapshots_per_epoch if args.snapshots else 0
    quiet = {"val_every": 0, "live_every_s": 0, "snapshots_per_epoch": per_epoch}  # no held-out curve, no frames
    config = TrainConfig(**{name: getattr(args, name) for name in OPTIONS}, **quiet)  # checks every option
    if args.recipe == "tutorial":
        config = replace(TUTORIAL_CONFIG, dataset=args.dataset, seed=args.seed,
                         max_batches=args.max_batches or TUTORIAL_CONFIG.max_batches, **quiet)
    return config


def main(argv: list[str] | None = None) -> int:
    """CLI: train, measure the test accuracy of the weights exactly as stored, save checkpoint + card."""
    from cnnviz import checkpoints, memory

    args = parse(argv)
    memory.keep_freed_memory()  # a training process: reuse each batch's memory (cnnviz/memory.py)
    try:
        config = config_of(args)
    except ValueError as err:  # a bad value: one plain line, not a traceback
        print(f"python -m cnnviz.train: {err}", file=sys.stderr)
        return 2
    train_split = datamod.load(args.dataset, "train", download=True)  # a command line may fetch (with timeouts)
    test_split = datamod.load(args.dataset, "test")
    result = train(PRESETS[args.preset], config, train_split, None, _printer())
    if result.diverged:
        print(result.diverged, file=sys.stderr)
        return 1
    if args.half:  # measure exactly what is stored: fp32 -> fp16 -> fp32 is what load() gives back
        result.model.half().float()
    result.evaluation = evaluate(result.model, as_trained(test_split, config))
    how = "python -m cnnviz.train " + " ".join(argv if argv is not None else sys.argv[1:])
    card = Card.from_result(result, args.name or args.preset, how)
    extra = {snapshots.EXTRA: snapshots.to_tensors(result.snapshots)} if result.snapshots else None
    folder = checkpoints.save(result.model, card, args.out, half=args.half, overwrite=True, extras=extra)
    print(f"{args.preset}: test accuracy {result.test_text()} after {result.batches} batches in "
          f"{result.train_seconds:.1f} s "
          f"({result.images_per_s:,.0f} img/s) on {result.device} ({result.precision}); saved {folder}")
    return 0


def _printer():
    """A progress callback printing a line every 5 s of training, and at the last batch."""
    last = [0.0]

    def report(ev: Progress) -> None:
        if ev.elapsed_s - last[0] >= 5 or ev.batch == ev.total_batches:
            last[0] = ev.elapsed_s
            print(f"  batch {ev.batch}/{ev.total_batches}  epoch {ev.epoch:.2f}  loss {ev.loss:.4f}  "
                  f"{ev.images_per_s:,.0f} img/s", flush=True)

    return report
