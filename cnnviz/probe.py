"""Look inside a model: every layer's output (forward hooks), probabilities, saliency (Grad-CAM, input gradients)."""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cnnviz import dims, novelty
from cnnviz.arch import Spec
from cnnviz.card import Card
from cnnviz.dims import Row

DIGITS = tuple(str(d) for d in range(10))
UNSURE_TOP = 0.5     # below this top probability the model is unsure
UNSURE_GAP = 0.3     # ... or when the runner-up is this close


@contextmanager
def capture(model: nn.Module, names: Iterable[str] | None = None,
            detach: bool = True) -> Iterator[dict[str, torch.Tensor]]:
    """Record the outputs of the model's layers (its direct children) while inside the block.

    Yields a dict filled during the forward: layer name -> output, detached CPU
    tensors unless `detach=False` (Grad-CAM needs the graph). Hooks are removed
    in `finally`, also when the forward raises. Only forwards run by this thread
    are recorded: the app shares one cached model between users' sessions
    (threads), and one user's hooks must not catch another user's drawing.
    """
    wanted = None if names is None else set(names)
    outputs: dict[str, torch.Tensor] = {}
    handles = []
    owner = threading.get_ident()
    try:
        for name, module in model.named_children():
            if wanted is None or name in wanted:
                handles.append(module.register_forward_hook(_recorder(outputs, name, detach, owner)))
        yield outputs
    finally:
        for handle in handles:
            handle.remove()


def _recorder(outputs: dict[str, torch.Tensor], name: str, detach: bool, owner: int):
    def hook(_module: nn.Module, _inputs: tuple, output: torch.Tensor) -> None:
        if threading.get_ident() == owner:
            outputs[name] = output.detach().cpu() if detach else output
    return hook


def activations(model: nn.Module, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Every layer's output for input x (N, C, H, W), keyed by layer name, in forward order; no grad."""
    with capture(model) as outputs, torch.no_grad():
        model(x)
    return dict(outputs)


def probabilities(logits: torch.Tensor) -> np.ndarray:
    """Softmax of (1, K) or (K,) logits -> (K,) float numpy array."""
    return F.softmax(logits.detach().float().reshape(-1), dim=0).cpu().numpy()


@dataclass(frozen=True)
class Verdict:
    """The answer in words: the winning class, how sure, and a note when unsure."""

    index: int
    label: str
    confidence: float
    runner_up: int
    note: str | None
    labels: tuple[str, ...] = DIGITS   # one per class


def verdict(probs: np.ndarray, labels: tuple[str, ...] = DIGITS,
            low: float = UNSURE_TOP, close: float = UNSURE_GAP) -> Verdict:
    """Top class of (K,) probabilities, with a note when the top is below `low` or within `close` of the runner-up."""
    probs = np.asarray(probs, dtype=np.float64).reshape(-1)
    if len(labels) != len(probs):
        labels = tuple(str(i) for i in range(len(probs)))
    order = np.argsort(probs)[::-1]
    top, second = int(order[0]), int(order[1]) if len(order) > 1 else int(order[0])
    p1, p2 = float(probs[top]), float(probs[second])
    note = None
    if p1 < low:
        note = f"Not sure: only {p1:.0%} for {labels[top]} (then {labels[second]} at {p2:.0%})."
    elif p1 - p2 < close:
        note = f"Torn between {labels[top]} ({p1:.0%}) and {labels[second]} ({p2:.0%})."
    return Verdict(top, labels[top], p1, second, note, tuple(labels))


@dataclass(frozen=True)
class Inspection:
    """One forward pass seen from inside: every layer's output, the probabilities, the verdict."""

    activations: dict[str, torch.Tensor]
    probs: np.ndarray
    verdict: Verdict


def last_conv(model: nn.Module) -> str | None:
    """Name of the last Conv2d among the model's layers (Grad-CAM's layer), or None when there is none."""
    names = [name for name, m in model.named_children() if isinstance(m, nn.Conv2d)]
    return names[-1] if names else None


@dataclass(frozen=True)
class Saliency:
    """Why the model chose `target`: maps over the (H, W) input, each scaled to [0, 1]."""

    target: int
    input_gradient: np.ndarray      # |d score / d pixel|, (H, W)
    grad_cam: np.ndarray | None     # Grad-CAM on `layer`, upsampled to (H, W); None without a conv layer
    layer: str | None


def saliency(model: nn.Module, x: torch.Tensor, target: int | None = None) -> Saliency:
    """Grad-CAM on the last conv layer and the input gradient for class `target` (default: the predicted one)."""
    x, logits, outputs = _traced_forward(model, x)
    return _explain(model, x, logits, outputs, int(logits.argmax()) if target is None else int(target))


def _traced_forward(model: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
    """One forward with autograd on: (input requiring grad, logits (K,), every layer's output with its graph)."""
    if x.dim() != 4 or x.shape[0] != 1:
        raise ValueError(f"saliency needs one input (1, C, H, W), got shape {tuple(x.shape)}")
    x = x.detach().clone().requires_grad_(True)
    with torch.enable_grad(), capture(model, detach=False) as outputs:
        logits = model(x).reshape(-1)
    return x, logits, outputs


def _explain(model: nn.Module, x: torch.Tensor, logits: torch.Tensor, outputs: dict[str, torch.Tensor],
             target: int) -> Saliency:
    """Saliency maps from a traced forward: one backward from logits[target] to the input and the last conv."""
    if not 0 <= target < logits.numel():
        raise ValueError(f"target class {target} is not in 0..{logits.numel() - 1}")
    layer = last_conv(model)
    wrt = [x] + ([outputs[layer]] if layer else [])
    grads = torch.autograd.grad(logits[target], wrt)
    pixel = grads[0][0].abs().amax(dim=0)  # (H, W)
    cam = _grad_cam(outputs[layer].detach(), grads[1], x.shape[-2:]) if layer else None
    return Saliency(target, _unit(pixel.numpy()), cam, layer)


def _grad_cam(feature: torch.Tensor, grad: torch.Tensor, size: torch.Size) -> np.ndarray:
    """ReLU(sum_c mean(grad_c) * A_c), upsampled to the input size: (1, C, h, w) -> (H, W)."""
    weights = grad.mean(dim=(2, 3), keepdim=True)            # (1, C, 1, 1)
    cam = F.relu((weights * feature).sum(dim=1, keepdim=True))  # (1, 1, h, w)
    cam = F.interpolate(cam, size=tuple(size), mode="bilinear", align_corners=False)
    return _unit(cam[0, 0].numpy())


def _unit(a: np.ndarray) -> np.ndarray:
    """Scale to [0, 1] (all zeros stays zeros)."""
    a = np.asarray(a, dtype=np.float32)
    hi = float(a.max()) if a.size else 0.0
    return a / hi if hi > 0 else np.zeros_like(a)


def check_input(spec_input_shape: tuple[int, ...], expected: tuple[int, int, int] = (1, 28, 28)) -> None:
    """ValueError unless the model takes the drawing's (1, 28, 28) input."""
    if tuple(spec_input_shape) != tuple(expected):
        raise ValueError(f"This model expects {dims.shape_str(spec_input_shape)} inputs; "
                         f"drawings are {dims.shape_str(expected)}. Pick a model trained on 28×28 grey digits.")


def class_labels(card: Card) -> tuple[str, ...]:
    """A checkpoint's class names: its card's "classes", else its dataset's, else digits."""
    if card.classes:
        return card.classes
    from cnnviz import data  # torchvision is only needed here
    meta = data.DATASETS.get(card.dataset.lower())  # an own dataset's card names its classes
    return meta.classes if meta is not None else DIGITS


@dataclass(frozen=True)
class Look:
    """Everything the draw page shows about one model on one input."""

    spec: Spec
    rows: list[Row]
    inspection: Inspection
    kernels: dict[str, np.ndarray]   # conv layer name -> weights (O, I, k, k)
    why: Callable[[], Saliency] | None = field(repr=False, compare=False, default=None)  # computes `saliency()`
    features: np.ndarray | None = None  # (D,) novelty.features: for a card with class shapes (own classes)
    _explained: list[Saliency] = field(default_factory=list, repr=False, compare=False)  # saliency(), once made

    def saliency(self) -> Saliency:
        """Grad-CAM and the input gradient for the predicted class. This costs a forward and a backward pass:
        call it only where the saliency is shown (the first call computes it, later calls reuse it)."""
        if self.why is None:
            raise ValueError("this Look was made without a model to explain")
        if not self._explained:
            self._explained.append(self.why())
        return self._explained[0]


def look(model: nn.Module, x: torch.Tensor, labels: tuple[str, ...] = DIGITS, unsure: float = UNSURE_TOP) -> Look:
    """Forward x (1, 1, 28, 28) through a model built from a spec: activations, verdict, saliency, kernels.
    `unsure`: the verdict's "Not sure" threshold (lower for a model trained with label smoothing:
    novelty.low_top of its card's value)."""
    spec = getattr(model, "spec", None)
    if not isinstance(spec, Spec):
        raise ValueError(f"{type(model).__name__} was not built by cnnviz.arch.build: it has no spec to label")
    check_input(spec.input_shape)
    if x.dim() != 4 or x.shape[0] != 1:
        raise ValueError(f"look needs one input (1, C, H, W), got shape {tuple(x.shape)}")
    with torch.no_grad(), capture(model) as outputs:  # no graph: saliency (a backward) only when it is shown
        logits = model(x).reshape(-1)
    probs = probabilities(logits)
    result = Inspection({name: out.detach().cpu() for name, out in outputs.items()}, probs,
                        verdict(probs, labels, low=unsure))
    weights = {name: m.weight.detach().cpu().numpy() for name, m in model.named_children()
               if isinstance(m, nn.Conv2d)}
    target = result.verdict.index
    return Look(spec, dims.table(spec), result, weights, lambda: saliency(model, x, target))


def look_for_card(model: nn.Module, x: torch.Tensor, card: Card) -> Look:
    """`look` as the model's checkpoint card describes it: its class names, its "Not sure" threshold (the
    warning's: novelty.unsure_top, lower for label smoothing, above a blind guess for your own few classes),
    and the drawing's features when the card has class shapes to compare them with."""
    labels = class_labels(card)
    found = look(model, x, labels, novelty.unsure_top(card, len(labels)))
    shapes = novelty.ClassShapes.from_card(card)
    if shapes is None:
        return found
    return replace(found, features=novelty.features(model, x, shapes.layer)[0])


def randomized(model: nn.Module, seed: int = 0) -> nn.Module:
    """A copy of a cnnviz model with every weight re-drawn by torch's initialisers (seeded): the sanity check's model.

    Saliency maps that barely change on it show the input's edges more than what training taught.
    """
    spec = getattr(model, "spec", None)
    if not isinstance(spec, Spec):
        raise ValueError(f"{type(model).__name__} was not built by cnnviz.arch.build: it has no spec to rebuild")
    from cnnviz import arch  # arch builds models; probe only looks at them
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return arch.build(spec).eval()


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation of two maps of the same shape (1: same ordering of pixels, 0: unrelated)."""
    a, b = np.asarray(a, np.float64).reshape(-1), np.asarray(b, np.float64).reshape(-1)
    if a.shape != b.shape:
        raise ValueError(f"maps differ in size: {a.size} vs {b.size} values")
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    if ra.std() == 0 or rb.std() == 0:
        return 0.0
    return float(np.corrcoef(ra, rb)[0, 1])
