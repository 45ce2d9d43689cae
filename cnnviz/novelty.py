"""Is this input like the training digits? A plain "not a digit?" warning beside the answer.

A network trained only on digits names a digit for anything: a scribble, a letter, a photo. Three
signs that the input is unlike MNIST, any one of them is enough:

1. the model is unsure: top probability below LOW_TOP (lower for a model trained with label smoothing,
   which is less sure of everything: `low_top`);
2. the ink is unlike MNIST's: the share of the 28x28 field above half brightness lies outside
   INK_RANGE (2,000 MNIST test digits drawn on the canvas: 0.5-99.5th percentiles 0.066-0.33);
3. the picture is far from every digit's shape: its distance from the span of MNIST's 40 main
   shapes (principal components of 20,000 training digits, shipped in mnist_shapes.npz, 63 kB)
   above FAR.

Thresholds were chosen on 2,000 MNIST test digits drawn as canvases and checked on 2,000 others
(bench/not_a_digit.py prints the false alarms and the hit rates on scribbles, letters and photos).

A model trained on your own classes (check, plus, wave) gets the same idea, "not one of your classes?",
from what it learned itself (ClassShapes): at the end of training (train.train) what its classifier receives
for each training drawing (the input of a linear layer: feature_layer), made unit length, is averaged per
class; the distance within which 99% of a class's drawings lie from that mean, and the top probability all
but 1% of the drawings get, are kept with it in the model card ("class_shapes"). A drawing further than
that from every class, or answered less surely, is flagged. An older card without them is judged on
confidence alone (own_low_top). bench/not_one_of_yours.py measures both (docs/performance.md).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from torch import nn

from cnnviz import registry
from cnnviz.card import MAX_SHAPE_NUMBERS, Card
from cnnviz.text import plain

LOW_TOP = 0.5
INK_RANGE = (0.06, 0.34)
FAR = 4.6             # 99.3rd percentile of the distance over the calibration digits
SHAPES = Path(__file__).with_name("mnist_shapes.npz")
COMPONENTS = 40
CLASS_QUANTILE = 99.0    # a class's radius holds this share (%) of its training drawings
CLASS_EXAMPLES = 5_000   # at most this many training examples are measured (own datasets: ~2,400)
BLIND_MARGIN = 0.1       # own classes, an older card: unsure within this much of a blind guess (1/K)


@dataclass(frozen=True)
class Novelty:
    """The three signs, measured, and what they add up to."""

    top: float
    ink: float
    distance: float
    reasons: tuple[str, ...]

    @property
    def unlike(self) -> bool:
        """True when any sign says the input is unlike the training digits."""
        return bool(self.reasons)

    def message(self) -> str | None:
        """One plain sentence for the page, or None for an ordinary digit."""
        if not self.reasons:
            return None
        return ("This does not look like the digits the model learned from (" + "; ".join(self.reasons) +
                "). It can only answer with a digit, so treat the answer as a guess.")


@lru_cache(maxsize=1)
def _shapes() -> tuple[np.ndarray, np.ndarray]:
    with np.load(SHAPES) as f:
        return f["mean"].astype(np.float64), f["components"].astype(np.float64)  # (784,), (K, 784)


def distance(pixels: np.ndarray) -> float:
    """How far a (28, 28) picture in [0, 1] is from the span of MNIST's main shapes (root of the squared residual)."""
    pixels = np.asarray(pixels, dtype=np.float64)
    if pixels.shape != (28, 28):
        raise ValueError(f"distance needs a (28, 28) picture, got shape {pixels.shape}")
    mean, comps = _shapes()
    centred = pixels.reshape(-1) - mean
    residual = centred - (comps @ centred) @ comps
    return float(np.sqrt((residual ** 2).sum()))


def low_top(smoothing: object = 0.0) -> float:
    """The "unsure" threshold for a model trained with label smoothing `smoothing` (a card's value; anything
    but a number in [0, 1) counts as 0). Such a model aims at 1 - e + e/K for its answer, not 1, and is less
    sure of every input: LOW_TOP - 2e, at least 0.1. At e = 0.1 (the trainer's default) that is 0.3, which
    keeps its false alarms and catches near the shipped models' at 0.5 (bench/not_a_digit.py; the table is in
    docs/performance.md, "Not a digit?")."""
    ok = isinstance(smoothing, (int, float)) and not isinstance(smoothing, bool) and 0 <= smoothing < 1
    return max(0.1, LOW_TOP - 2 * float(smoothing)) if ok else LOW_TOP


def smoothing_of(card: Card) -> float:
    """The label smoothing a checkpoint's card says its model was trained with (older cards: none, 0)."""
    return card.config.label_smoothing


def for_card(card: Card, pixels: np.ndarray, probs: np.ndarray, features: np.ndarray | None = None) -> str | None:
    """The page's "not a digit?" sentence for the model a card describes, or None: judged at that model's own
    "unsure" threshold; for a model of your own classes, "not one of your classes?" from its card's class
    shapes and the drawing's `features` (when both are there) and its confidence; None for other datasets
    (Fashion-MNIST's pictures are not meant to be digits, nor drawn)."""
    if is_own(card):
        return judge_classes(card, probs, features).message(_class_names(card, len(probs)))
    if card.dataset != "mnist":
        return None
    return judge(pixels, probs, smoothing_of(card)).message()


def headline(card: Card) -> str:
    """The warning's bold start: "Not a digit?", or "Not one of your classes (check, plus, wave)?"."""
    if not is_own(card):
        return "Not a digit?"
    return f"Not one of your classes ({', '.join(_class_names(card))})?"


def warning(card: Card, pixels: np.ndarray, probs: np.ndarray, features: np.ndarray | None = None,
            snapshot_batch: int | None = None) -> str | None:
    """The whole warning beside an answer (Markdown), or None. `snapshot_batch`: the batch of the training
    snapshot whose weights answered (None: the trained model). Before training (batch 0) the weights are
    random and the answer says nothing about the drawing: the warning says so, whatever was drawn."""
    if snapshot_batch == 0:
        return (f"**The network is untrained.** These are its weights before training: random, so its answer "
                f"({float(np.max(probs)):.0%} at most) is a guess whatever you draw. Slide to a later moment to "
                "see it learn.")
    if snapshot_batch is not None:
        features = None  # the class shapes describe the trained weights, not this moment's
    if _class_names(card):  # a card's class names are text, never Markdown
        card = replace(card, classes=tuple(plain(name) for name in _class_names(card)))
    said = for_card(card, pixels, probs, features)
    return None if said is None else f"**{headline(card)}** {said}"


def judge(pixels: np.ndarray, probs: np.ndarray, smoothing: object = 0.0) -> Novelty:
    """The three signs for one prepared (28, 28) input and the model's (K,) probabilities; `smoothing` is
    the label smoothing the model was trained with (its card's "label_smoothing"; old cards have none)."""
    pixels = np.asarray(pixels, dtype=np.float64)
    top = float(np.max(probs))
    ink = float((pixels > 0.5).mean())
    far = distance(pixels)
    reasons = []
    if top < low_top(smoothing):
        reasons.append(f"the model is unsure: {apart(top, low_top(smoothing), percent=True)} at most")
    if not INK_RANGE[0] <= ink <= INK_RANGE[1]:
        edge = INK_RANGE[0] if ink < INK_RANGE[0] else INK_RANGE[1]
        reasons.append(f"{apart(ink, edge, percent=True)} of the field is ink, "
                       f"digits have {INK_RANGE[0]:.0%}-{INK_RANGE[1]:.0%}")
    if far > FAR:
        reasons.append(f"its shape is far from every digit's ({apart(far, FAR)} vs at most {FAR} for 99% of digits)")
    return Novelty(top, ink, far, tuple(reasons))


def apart(value: float, limit: float, percent: bool = False) -> str:
    """`value` with the fewest decimals (0 for a percentage, 1 otherwise, up to 6) that keep it from printing
    as `limit` does: a distance of 4.6004 over the limit 4.6 is "4.6004", never "4.6"; beyond that, "just over"
    or "just under" `limit`."""
    first = 0 if percent else 1
    for digits in range(first, first + 6):
        text, edge = (f"{v:.{digits}%}" if percent else f"{v:.{digits}f}" for v in (value, limit))
        if text != edge:
            return text
    shown = f"{limit:.{first}%}" if percent else f"{limit:g}"
    return f"just {'over' if value > limit else 'under'} {shown}"


def is_own(card: Card) -> bool:
    """True for the card of a model trained on one of your own datasets (dataset "own:NAME")."""
    return registry.is_own(card.dataset)


def _class_names(card: Card, k: int | None = None) -> tuple[str, ...]:
    return card.classes or tuple(str(i) for i in range(k or 0))


def unsure_top(card: Card, classes: int) -> float:
    """The "unsure" threshold for the model a card describes, with `classes` answers (the verdict's "Not sure"
    and the warning use the same one): for your own classes the one measured on its training drawings
    (ClassShapes.low_top), else, for an older card, own_low_top; for MNIST's family low_top."""
    if not is_own(card):
        return low_top(smoothing_of(card))
    shapes = ClassShapes.from_card(card)
    return shapes.low_top if shapes is not None else own_low_top(classes, smoothing_of(card))


def own_low_top(classes: int, smoothing: object = 0.0) -> float:
    """The "unsure" threshold of a model of your own K classes whose card has no class shapes: low_top, but
    at least BLIND_MARGIN above a blind guess 1/K (with 3 classes a blind guess is 33%, above low_top's 30%)."""
    return max(low_top(smoothing), 1.0 / max(int(classes), 1) + BLIND_MARGIN)


# --- your own classes: what the model learned of each ------------------------------------------------

def linear_layers(model: nn.Module) -> list[str]:
    """The names of the model's linear layers, in order (ValueError when it has none)."""
    found = [name for name, m in model.named_children() if isinstance(m, nn.Linear)]
    if not found:
        raise ValueError(f"{type(model).__name__} has no linear layer: no features to compare")
    return found


def _forward(model: nn.Module, x: torch.Tensor, layer: str, batch: int = 500) -> tuple[np.ndarray, np.ndarray]:
    """((N, D) unit-length inputs of the linear layer `layer`, (N, K) probabilities): the layers run one after
    another (no hooks, so sessions sharing a cached model never see each other's inputs); no grad."""
    if layer not in linear_layers(model):
        raise ValueError(f"the model has no linear layer {layer!r}; it has {', '.join(linear_layers(model))}")
    feats, probs = [], []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            h = x[i:i + batch].float()
            for name, module in model.named_children():
                if name == layer:
                    feats.append(h.flatten(1).double())  # (n, D)
                h = module(h)
            probs.append(torch.softmax(h.double(), dim=1))
    f = torch.cat(feats).numpy()
    return f / np.maximum(np.linalg.norm(f, axis=1, keepdims=True), 1e-12), torch.cat(probs).numpy()


def features(model: nn.Module, x: torch.Tensor, layer: str) -> np.ndarray:
    """(N, D) what the linear layer `layer` receives for inputs x (N, C, H, W), each made unit length (an
    all-zero one stays 0): ClassShapes.layer's features of a drawing."""
    return _forward(model, x, layer)[0]


def feature_layer(model: nn.Module, classes: int) -> str | None:
    """Whose input the class shapes measure: the first linear layer (the network's features, flattened, as
    its classifier starts from them), else the first whose input K centroids keep within MAX_SHAPE_NUMBERS
    (conv32_64's 9,216 conv features are too many: its last layer's 128 are kept); None when none fits."""
    for name in linear_layers(model):
        if classes * getattr(model, name).in_features <= MAX_SHAPE_NUMBERS:
            return name
    return None


def _rounded(a: np.ndarray) -> np.ndarray:
    """To 3 significant digits (a card keeps up to ~16,000 of these numbers: ~6 characters each, not 20)."""
    a = np.asarray(a, dtype=np.float64)
    return np.vectorize(lambda v: float(f"{v:.3g}"), otypes=[np.float64])(a) if a.size else a


@dataclass(frozen=True)
class ClassShapes:
    """What a model learned of each of your classes, measured on its training drawings: the mean of their
    unit-length features, the distance within which CLASS_QUANTILE % of them lie (the class's radius), and
    the top probability it gives all but the least sure (100 - CLASS_QUANTILE) % of them (`low_top`)."""

    layer: str              # the linear layer whose input is measured (feature_layer)
    centroids: np.ndarray   # (K, D)
    radius: np.ndarray      # (K,)
    low_top: float

    def score(self, feature: np.ndarray) -> tuple[float, int]:
        """(distance to the nearest class in units of that class's radius, that class): above 1 is far."""
        f = np.asarray(feature, dtype=np.float64).reshape(1, -1)
        ratio = np.linalg.norm(self.centroids - f, axis=1) / self.radius
        if not np.any(f):
            return float("inf"), int(ratio.argmin())  # nothing reached the layer: unlike every drawing
        return float(ratio.min()), int(ratio.argmin())

    def to_card(self) -> dict:
        """The card's "class_shapes": plain lists (centroids to 3 significant digits)."""
        return {"layer": self.layer, "quantile": CLASS_QUANTILE, "low_top": round(float(self.low_top), 4),
                "radius": [round(float(r), 4) for r in self.radius], "centroids": _rounded(self.centroids).tolist()}

    @classmethod
    def from_card(cls, card: Card) -> ClassShapes | None:
        """The class shapes a card carries (checked by cnnviz.card), or None for an older card."""
        got = card.class_shapes
        if not isinstance(got, dict):
            return None
        return cls(got["layer"], np.asarray(got["centroids"], dtype=np.float64),
                   np.asarray(got["radius"], dtype=np.float64), float(got["low_top"]))


def fit_classes(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, classes: int,
                seed: int = 0) -> ClassShapes | None:
    """The class shapes of a trained model from its training split (images as it was trained on them), at
    most CLASS_EXAMPLES of them (seeded); None when no layer's features fit a card (feature_layer)."""
    layer = feature_layer(model, classes)
    if layer is None:
        return None
    if len(images) > CLASS_EXAMPLES:
        keep = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))[:CLASS_EXAMPLES]
        images, labels = images[keep], labels[keep]
    f, probs = _forward(model, images.cpu(), layer)
    y = labels.cpu().numpy()
    present = [k for k in range(classes) if np.any(y == k)]
    centroids = np.zeros((classes, f.shape[1]))
    centroids[present] = [f[y == k].mean(axis=0) for k in present]
    centroids = _rounded(centroids)  # as the card keeps them: the radii are measured from these
    d = np.linalg.norm(f - centroids[y], axis=1)  # each example to its own class
    radius = np.full(classes, 1e-6)
    radius[present] = [max(float(np.percentile(d[y == k], CLASS_QUANTILE)), 1e-6) for k in present]
    low = float(np.percentile(probs.max(axis=1), 100 - CLASS_QUANTILE))
    return ClassShapes(layer, centroids, radius, low)


@dataclass(frozen=True)
class ClassNovelty:
    """The two signs for a model of your own classes, measured, and what they add up to."""

    top: float
    score: float | None      # distance to the nearest class in radii (None: no class shapes or no features)
    reasons: tuple[str, ...]

    @property
    def unlike(self) -> bool:
        """True when a sign says the drawing is unlike every class the model learned."""
        return bool(self.reasons)

    def message(self, classes: tuple[str, ...]) -> str | None:
        """One plain sentence for the page naming the classes, or None for an ordinary drawing."""
        if not self.reasons:
            return None
        return (f"This does not look like the drawings of {', '.join(classes)} the model learned from ("
                + "; ".join(self.reasons) + "). It can only answer with one of them, so treat the answer as a guess.")


def judge_classes(card: Card, probs: np.ndarray, features: np.ndarray | None = None) -> ClassNovelty:
    """The signs for one drawing and a model of your own classes: its (K,) probabilities against unsure_top
    and, when the card has class shapes and the drawing's `features` (novelty.features) are given, its
    distance from every class."""
    top = float(np.max(probs))
    shapes = ClassShapes.from_card(card)
    reasons = []
    if top < unsure_top(card, len(probs)):
        measured = " (less than for 99% of its training drawings)" if shapes is not None else ""
        reasons.append(f"the model is unsure: {top:.0%} at most{measured}")
    score = None
    if shapes is not None and features is not None:
        score = shapes.score(features)[0]
        if score > 1:
            shown = "∞" if score == float("inf") else f"{score:.1f}"
            reasons.append(f"its features are far from every class's: {shown}x the distance within which "
                           f"{CLASS_QUANTILE:.0f}% of the training drawings lie from their class")
    return ClassNovelty(top, score, tuple(reasons))


def fit(images: np.ndarray, components: int = COMPONENTS, out: Path = SHAPES) -> Path:
    """Compute MNIST's main shapes from (N, 28, 28) training digits in [0, 1] and save them (float16)."""
    flat = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
    mean = flat.mean(axis=0)
    _, _, vt = np.linalg.svd(flat - mean, full_matrices=False)
    np.savez_compressed(out, mean=mean.astype(np.float16), components=vt[:components].astype(np.float16))
    _shapes.cache_clear()
    return out


if __name__ == "__main__":  # python -m cnnviz.novelty: rebuild mnist_shapes.npz from the first 20,000 training digits
    from cnnviz import data
    print(fit(data.load("mnist", "train", download=False).raw()[:20_000, 0].numpy()))
