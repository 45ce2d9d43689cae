"""The tutorials this project grew from, reproduced: Models A, B and C trained with their own recipe, then again
on normalised inputs, beside the accuracies they published."""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from cnnviz import data as datamod
from cnnviz import registry
from cnnviz.arch import PRESETS
from cnnviz.train import Progress, Result, train
from cnnviz.trainconfig import TrainConfig

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


def recipe_note() -> str:
    """What the reproduction ran, in words, with the normalisation the last row used (the registry's numbers)."""
    mean, std = registry.normalization("mnist")
    return ("Same recipe as the tutorials: plain pixels in [0, 1], fp32, SGD lr 0.01 without momentum, batch 100, "
            f"3,000 iterations. The last row trains the same networks on normalised inputs ((x − {mean}) / {std}): "
            "same steps, often a better result, because the inputs are centred.")
