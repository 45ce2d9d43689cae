"""The model card: what a checkpoint says about its model, as one typed, validated object.

A `Card` carries the spec, the data it was trained on (name, class names, mean/std), its test result and the
whole `TrainConfig` of the run, so a run can be rebuilt from its card. It is read from JSON only through
`Card.from_json`, which names every problem of a damaged or hostile card (types, finite numbers, depth, size
of the spec) before anything is built; pages and the library read its attributes, never string keys.

Cards written before the card kept the whole config (the shipped ones among them) carry a few of its fields at
the top level (epochs, seed, optimizer, lr, schedule, momentum, batch_size, label_smoothing): `from_json`
rebuilds the config from those, taking what such a run used for the rest (no label smoothing when none is
named, normalised inputs unless the card's mean/std are 0/1).
"""
from __future__ import annotations

import math
import platform
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cnnviz.registry import class_names, normalization, test_items
from cnnviz.spec import Spec
from cnnviz.trainconfig import PRECISIONS, TrainConfig

if TYPE_CHECKING:
    from cnnviz.train import Result

REQUIRED_KEYS = ("name", "spec", "dataset", "normalize", "test_accuracy")
MAX_CARD_DEPTH = 16               # the deepest real card nests 4 levels (card > spec > layers > layer)
MAX_PARAMS = 50_000_000           # 200 MB of float32: far past any network the app trains
MAX_SHAPE_NUMBERS = 16_384        # K x D class-shape centroid numbers (tutorial_a, 10 classes: 15,680; ~90 kB)
LEGACY_CONFIG = ("epochs", "seed", "optimizer", "lr", "schedule", "momentum", "batch_size", "label_smoothing")
_CONFIG_TYPES = {f.name: f.type for f in fields(TrainConfig)}


class CardError(ValueError):
    """A model card that cannot be used; the message names every problem."""


@dataclass(frozen=True)
class Card:
    """A checkpoint's model card. `config` is the run's whole TrainConfig; `precision` is what it really ran in."""

    name: str
    spec: dict[str, Any]                      # Spec.to_json(): the network (`network` parses it)
    dataset: str
    normalize: tuple[float, float]            # (mean, std) the model's inputs were normalised with
    test_accuracy: float | None               # percent; None only for an untrained model shown on a page
    classes: tuple[str, ...] = ()             # () : the dataset's own class names
    test_correct: int | None = None
    test_total: int | None = None
    per_class_accuracy: tuple[float, ...] = ()
    config: TrainConfig = field(default_factory=TrainConfig)
    batches: int | None = None
    planned_batches: int | None = None
    stopped: bool = False
    held_out_images: int | None = None        # what the snapshots' held-out accuracies were measured on
    date: str = ""
    device: str = ""
    precision: str = ""
    train_seconds: float | None = None
    how: str = ""
    cnnviz_version: str = ""
    torch_version: str = ""
    machine: str = ""
    class_shapes: dict[str, Any] | None = None  # own datasets: novelty.ClassShapes.to_card()
    extra: dict[str, Any] = field(default_factory=dict)  # keys this version does not know, kept as they were

    @property
    def network(self) -> Spec:
        """The card's spec as a Spec."""
        return Spec.from_json(self.spec)

    def renamed(self, name: str) -> Card:
        """The same card under another name."""
        return replace(self, name=name)

    def test_text(self) -> str:
        """The test accuracy with its real count: '9,913 of 10,000 test images (99.13%)'; a card written before
        the counts were kept gives its percentage alone."""
        from cnnviz.evaluate import accuracy_text

        if self.test_accuracy is None:
            return "not tested"
        correct, total = self.test_correct, self.test_total
        if correct is None or not total or correct > total:
            return f"{self.test_accuracy:g}%"
        return accuracy_text(correct, total, test_items(self.dataset))

    def held_out(self) -> tuple[int, str] | None:
        """(how many, what) the card's training snapshots were measured on, e.g. (1000, 'test images'); None
        when unknown."""
        return (self.held_out_images, test_items(self.dataset)) if self.held_out_images else None

    def to_json(self) -> dict[str, Any]:
        """The card as JSON (what card.json holds); `from_json` reads it back equal."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("config", "extra")}
        out |= {"normalize": list(self.normalize), "classes": list(self.classes),
                "per_class_accuracy": list(self.per_class_accuracy), "config": asdict(self.config)}
        if self.class_shapes is None:
            del out["class_shapes"]
        return self.extra | out

    @classmethod
    def from_json(cls, raw: Any) -> Card:
        """A card from parsed JSON; CardError naming every problem (see `problems`)."""
        bad = problems(raw)
        if bad:
            raise CardError("; ".join(bad))
        known = {f.name for f in fields(cls)} | set(LEGACY_CONFIG)
        counts = {k: _count(raw.get(k)) for k in _COUNTS}  # a damaged count is dropped, not refused
        return cls(
            name=raw["name"], spec=raw["spec"], dataset=raw["dataset"], normalize=tuple(raw["normalize"]),
            test_accuracy=raw["test_accuracy"], classes=tuple(raw.get("classes") or ()),
            per_class_accuracy=tuple(raw.get("per_class_accuracy") or ()), config=_config(raw),
            stopped=raw.get("stopped") is True, **counts, **{k: _text(raw.get(k)) for k in _TEXTS},
            train_seconds=raw["train_seconds"] if _number(raw.get("train_seconds")) else None,
            class_shapes=raw.get("class_shapes"), extra={k: v for k, v in raw.items() if k not in known})

    @classmethod
    def from_result(cls, result: Result, name: str, how: str) -> Card:
        """The card of a tested run (finished, or stopped: `how` then says at which batch it stopped)."""
        import torch

        import cnnviz

        ev, cfg = result.evaluation, result.config
        if ev is None:
            raise ValueError("this run has no test evaluation (it diverged, or had no test split), so it has no card")
        if result.stopped:
            how += f" (stopped at batch {result.batches:,} of {result.planned_batches:,})"
        held = result.held_out
        return cls(
            name=name, spec=result.spec.to_json(), dataset=cfg.dataset,
            normalize=tuple(result.normalize or normalization(cfg.dataset)),
            classes=tuple(result.classes or class_names(cfg.dataset)),
            test_accuracy=round(ev.accuracy, 2), test_correct=ev.correct, test_total=ev.total,
            per_class_accuracy=tuple(round(a, 2) for a in ev.per_class_accuracy()), config=cfg,
            batches=result.batches, planned_batches=result.planned_batches, stopped=result.stopped,
            held_out_images=held[0] if held else None, date=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            device=result.device, precision=result.precision, train_seconds=round(result.train_seconds, 1), how=how,
            cnnviz_version=cnnviz.__version__, torch_version=torch.__version__, machine=platform.machine(),
            class_shapes=result.class_shapes.to_card() if result.class_shapes is not None else None)


_COUNTS = ("test_correct", "test_total", "batches", "planned_batches", "held_out_images")
_TEXTS = ("date", "device", "precision", "how", "cnnviz_version", "torch_version", "machine")


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _config(raw: dict[str, Any]) -> TrainConfig:
    """The run's TrainConfig: the card's "config", or, for an older card, rebuilt from its top-level fields."""
    if isinstance(raw.get("config"), dict):
        return TrainConfig(**raw["config"])
    old = {k: raw[k] for k in LEGACY_CONFIG if k in raw}
    old.setdefault("label_smoothing", 0.0)  # cards began keeping it with label smoothing: absent means none
    old["normalize"] = tuple(raw["normalize"]) != (0.0, 1.0)
    old["dataset"] = raw["dataset"]
    if raw.get("precision") in PRECISIONS:
        old["precision"] = raw["precision"]
    try:
        return TrainConfig(**old)
    except (TypeError, ValueError):  # an older card's hand-picked fields are informative only: keep the card
        return TrainConfig(dataset=raw["dataset"], label_smoothing=0.0, normalize=old["normalize"])


# --- validation ---------------------------------------------------------------------------------

def _depth(obj: Any, limit: int) -> int:
    """Nesting depth of parsed JSON, walked without recursion; stops counting past `limit`."""
    deepest, stack = 0, [(obj, 1)]
    while stack:
        item, d = stack.pop()
        deepest = max(deepest, d)
        if deepest > limit:
            return deepest
        if isinstance(item, dict):
            stack.extend((v, d + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, d + 1) for v in item)
    return deepest


def problems(card: Any) -> list[str]:
    """Everything wrong with a parsed model card, in plain words ([] when it is usable)."""
    if not isinstance(card, dict):
        return ["it is not a JSON object"]
    if _depth(card, MAX_CARD_DEPTH) > MAX_CARD_DEPTH:
        return [f"it is nested more than {MAX_CARD_DEPTH} levels deep"]
    bad = [f"it lacks {k}" for k in REQUIRED_KEYS if k not in card]
    if "name" in card and not isinstance(card["name"], str):
        bad.append(f"name must be text, not {card['name']!r:.40}")
    if "dataset" in card and not isinstance(card["dataset"], str):
        bad.append(f"dataset must be text, not {card['dataset']!r:.40}")
    norm = card.get("normalize", [0.0, 1.0])
    if not (isinstance(norm, list) and len(norm) == 2 and all(_number(v) for v in norm) and norm[1] > 0):
        bad.append(f"normalize must be [mean, std] with finite numbers and std > 0, not {norm!r:.60}")
    acc = card.get("test_accuracy", 0.0)
    if not (_number(acc) and 0 <= acc <= 100):
        bad.append(f"test_accuracy must be a percentage from 0 to 100, not {acc!r:.40}")
    if "spec" in card:
        bad += _spec_problems(card["spec"])
    for key in ("per_class_accuracy", "classes"):
        value = card.get(key)
        if value is not None and not (isinstance(value, list) and len(value) <= 10_000):
            bad.append(f"{key} must be a list")
    if isinstance(card.get("per_class_accuracy"), list) and not all(_number(v) for v in card["per_class_accuracy"]):
        bad.append("per_class_accuracy must be a list of numbers")
    if isinstance(card.get("classes"), list) and not all(isinstance(c, str) for c in card["classes"]):
        bad.append("classes must be a list of names")
    if "class_shapes" in card:
        bad += _class_shapes_problems(card["class_shapes"], card.get("classes"))
    if "config" in card:
        bad += _config_problems(card["config"])
    return bad


def _config_problems(config: Any) -> list[str]:
    """What is wrong with a card's "config" (TrainConfig's fields), [] when it rebuilds the run's settings."""
    if not isinstance(config, dict):
        return [f"config must be an object, not {config!r:.40}"]
    unknown = sorted(set(config) - set(_CONFIG_TYPES))
    if unknown:
        return [f"config has unknown settings: {', '.join(repr(k)[:40] for k in unknown[:5])}"]
    odd = [k for k, v in config.items() if not _typed(v, _CONFIG_TYPES[k])]
    if odd:
        return [f"config's {', '.join(odd[:5])} must be of TrainConfig's types "
                f"({', '.join(f'{k}: {_CONFIG_TYPES[k]}' for k in odd[:5])})"]
    try:
        TrainConfig(**config)
    except (TypeError, ValueError) as err:
        return [f"config: {err}"]
    return []


def _typed(value: Any, annotation: str) -> bool:
    """True when a JSON value fits a TrainConfig annotation such as 'int', 'float | None', 'str'."""
    kinds = {k.strip() for k in annotation.split("|")}
    if value is None:
        return "None" in kinds
    if isinstance(value, bool):
        return "bool" in kinds
    if isinstance(value, int):
        return bool(kinds & {"int", "float"})
    if isinstance(value, float):
        return "float" in kinds and math.isfinite(value)
    return isinstance(value, str) and "str" in kinds


def _class_shapes_problems(shapes: Any, classes: Any) -> list[str]:
    """What is wrong with a card's "class_shapes" (novelty.ClassShapes.to_card), [] when it is usable."""
    what = "class_shapes must hold one centroid (a list of finite numbers, all of one length) and one radius > 0 " \
           "per class, and low_top, a probability"
    if not isinstance(shapes, dict) or not (_number(shapes.get("low_top")) and 0 <= shapes["low_top"] <= 1):
        return [what]
    if not (isinstance(shapes.get("layer"), str) and len(shapes["layer"]) <= 200):
        return ["class_shapes must name the layer it measured"]
    cents, radius = shapes.get("centroids"), shapes.get("radius")
    if not (isinstance(cents, list) and isinstance(radius, list) and cents and len(cents) == len(radius)):
        return [what]
    if not all(isinstance(row, list) and row and len(row) == len(cents[0]) for row in cents):
        return [what]
    if len(cents) * len(cents[0]) > MAX_SHAPE_NUMBERS:
        return [f"class_shapes holds more than {MAX_SHAPE_NUMBERS:,} numbers"]
    if not (all(_number(v) for row in cents for v in row) and all(_number(r) and r > 0 for r in radius)):
        return [what]
    if isinstance(classes, list) and len(classes) != len(cents):
        return [f"class_shapes has {len(cents)} classes, the card names {len(classes)}"]
    return []


def _spec_problems(spec: Any) -> list[str]:
    if not isinstance(spec, dict):
        return [f"spec must be an object, not {spec!r:.40}"]
    bad = []
    shape = spec.get("input_shape")
    if not (isinstance(shape, list) and len(shape) == 3
            and all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 100_000 for v in shape)):
        bad.append(f"spec.input_shape must be 3 whole numbers (C, H, W), not {shape!r:.60}")
    if not isinstance(spec.get("layers"), list):
        bad.append(f"spec.layers must be a list, not {spec.get('layers')!r:.40}")
    if bad:
        return bad
    try:
        params = spec_params(Spec.from_json(spec))
    except (TypeError, ValueError, OverflowError) as err:
        return [f"its spec cannot be built: {err}"]
    if params > MAX_PARAMS:
        return [f"its spec has {params:,} parameters, more than the {MAX_PARAMS:,} cnnviz opens"]
    return []


def spec_params(spec: Spec) -> int:
    """Parameters the spec's network holds, by arithmetic only (nothing is allocated)."""
    from cnnviz import dims

    return sum(row.params for row in dims.table(spec))
