"""How a network learns, by the numbers: one plain SGD step on one example, the backward pass worked out by hand.

`step` runs the forward pass layer by layer (the model's own modules, float32, eval mode: no dropout), keeps
every layer's input and output, and then walks back from the loss with the textbook rule of each layer,
in float64 from the float32 numbers the model used:

    loss    L = −log p[label]                     at the outputs  ∂L/∂z = p − y (y: one-hot label)
    linear  z = W a + b        ∂L/∂W[o, i] = a[i] · ∂L/∂z[o]     ∂L/∂a = Wᵀ ∂L/∂z
    conv    ∂L/∂W[o, c, u, v] = Σ over output positions (i, j) of in[c, i·s + u·d − p, j·s + v·d − p] · ∂L/∂out[o, i, j]
            (s stride, d dilation, p padding; 0 where the kernel hangs over the padding)
    maxpool only the max of each window gets the window's gradient; avgpool: each of the k×k inputs gets 1/k²
    relu    the gradient passes where the unit was on (output > 0), 0 where it was off; tanh × (1 − y²)

tests/test_backprop.py checks every gradient (every parameter, every layer's output, the input) against
torch's autograd for every preset, so what the page shows is what PyTorch computes. The caller's model is
never changed: the update is applied to a copy (`after`), which answers again (`probs_after`).
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cnnviz.arch import Spec
from cnnviz.explain import DECIMALS, SIGNIFICANT, bracket, fmt, fmt_sig, reason, shown, sign

TOP_TERMS = 8          # a weight's gradient lists this many terms (largest |product| first), the rest summed
FACTOR_DIGITS = 5      # factors are shown with one digit more than their 4-digit product: with 4 and 4, about half
                       # the products of the shown factors rounded differently (an '≈' on every other line)
FACTORS = "5 significant digits"
DEFAULT_LR = 0.05
LEARNING_RATES = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0)  # the page's choices
MAX_STEPS = 100        # `steps` refuses more: a page button must stay cheap
WITH_WEIGHTS = ("conv", "linear", "batchnorm")


@dataclass(frozen=True)
class Passage:
    """How the gradient went back through one layer.

    grad_out: ∂L/∂(the layer's output), grad_in: ∂L/∂(its input), each in that tensor's shape (no batch
    dimension), float64. mask (the input's shape, bool): for max pooling the inputs that were the max of
    a window (only they got a gradient), for ReLU the units that were on; None for other layers.
    """

    layer: str
    type: str
    grad_out: torch.Tensor
    grad_in: torch.Tensor
    mask: torch.Tensor | None
    rule: str
    normalized: torch.Tensor | None = None   # batch norm: x̂ = (x − mean)/√(var + ε), the input's shape


@dataclass(frozen=True)
class Step:
    """One SGD step on one example, every number kept. Tensors are detached CPU copies without the batch dimension.

    grads: parameter name (as in model.named_parameters()) -> ∂L/∂parameter, float64.
    before / after: parameter name -> its value before the step and after w − lr·g, float32 as the model holds them.
    inputs / outputs: layer name -> that layer's input and output in the forward pass, float32, (C, H, W) or (F,).
    passages: the backward pass, last layer first; input_grad: ∂L/∂x, (C, H, W).
    """

    spec: Spec
    label: int
    lr: float
    x: torch.Tensor                   # (1, C, H, W)
    loss: float
    loss_after: float
    logits: torch.Tensor              # (K,)
    probs_before: torch.Tensor        # (K,) float64
    probs_after: torch.Tensor         # (K,) float64
    grads: dict[str, torch.Tensor]
    before: dict[str, torch.Tensor]
    after: dict[str, torch.Tensor]
    inputs: dict[str, torch.Tensor]
    outputs: dict[str, torch.Tensor]
    passages: tuple[Passage, ...]
    input_grad: torch.Tensor

    @property
    def num_classes(self) -> int:
        """K, the number of outputs."""
        return int(self.probs_before.numel())

    def passage(self, layer: str) -> Passage:
        """The backward passage through `layer`; ValueError naming the layers otherwise."""
        for p in self.passages:
            if p.layer == layer:
                return p
        raise ValueError(f"no layer {layer!r}; the layers are {', '.join(self.spec.layer_names())}")


def _check(model: nn.Module, x: torch.Tensor, label: int, lr: float) -> Spec:
    spec = getattr(model, "spec", None)
    if not isinstance(spec, Spec):
        raise ValueError(f"{type(model).__name__} was not built by cnnviz.arch.build: it has no spec")
    if x.dim() != 4 or x.shape[0] != 1 or tuple(x.shape[1:]) != tuple(spec.input_shape):
        raise ValueError(f"one input of shape (1, {', '.join(map(str, spec.input_shape))}) is needed, "
                         f"got {tuple(x.shape)}")
    if not (isinstance(lr, (int, float)) and not isinstance(lr, bool) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"the learning rate must be a positive number, got {lr!r}")
    if isinstance(label, bool) or not isinstance(label, (int, np.integer)) or label < 0:
        raise ValueError(f"the label must be a class number 0, 1, 2, ..., got {label!r}")
    return spec


def _forward(model: nn.Module, x: torch.Tensor) -> tuple[dict, dict, torch.Tensor]:
    """Each child module in turn (what nn.Sequential does): (inputs, outputs) per layer, and the logits (K,)."""
    inputs, outputs = {}, {}
    h = x.detach().float().cpu()                         # (1, C, H, W)
    with torch.no_grad():
        for name, module in model.named_children():
            inputs[name] = h[0].clone()
            h = module(h)
            outputs[name] = h[0].clone()
    return inputs, outputs, h.reshape(-1)


def _loss(logits: torch.Tensor, label: int) -> float:
    return float(-torch.log_softmax(logits.double(), dim=0)[label])


def step(model: nn.Module, x: torch.Tensor, label: int, lr: float = DEFAULT_LR) -> Step:
    """One plain SGD step on one example x (1, C, H, W) with the right class `label`; `model` is not changed."""
    spec = _check(model, x, label, lr)
    work = copy.deepcopy(model).cpu().eval()             # eval: dropout off; the copy takes the update
    inputs, outputs, logits = _forward(work, x)
    label, k = int(label), logits.numel()
    if label >= k:
        raise ValueError(f"label {label} is not one of the model's {k} classes (0..{k - 1})")
    probs = torch.softmax(logits.double(), dim=0)        # (K,)
    g = probs - F.one_hot(torch.tensor(label), k).double()   # ∂L/∂z = p − y
    modules = dict(work.named_children())
    grads, passages = {}, []
    for name, layer in reversed(list(zip(spec.layer_names(), spec.layers))):
        passage, own = _back(layer.type, modules[name], inputs[name], outputs[name], g, name)
        grads.update({f"{name}.{key}": value for key, value in own.items()})
        passages.append(passage)
        g = passage.grad_in
    params = dict(work.named_parameters())
    grads = {n: grads[n] for n in params}                # named_parameters' order
    before = {n: p.detach().clone() for n, p in params.items()}
    after = {n: (before[n].double() - lr * grads[n]).to(before[n].dtype) for n in params}
    with torch.no_grad():
        for n, p in params.items():
            p.copy_(after[n])
    _, _, logits_after = _forward(work, x)
    return Step(spec, label, float(lr), x.detach().cpu().clone(), _loss(logits, label),
                _loss(logits_after, label), logits.clone(), probs, torch.softmax(logits_after.double(), dim=0),
                grads, before, after, inputs, outputs, tuple(passages), g.clone())


def _back(kind: str, module: nn.Module, inp: torch.Tensor, out: torch.Tensor, g: torch.Tensor,
          name: str) -> tuple[Passage, dict[str, torch.Tensor]]:
    """The passage back through one layer and the gradients of its own parameters ('weight', 'bias')."""
    if kind == "linear":
        return _linear(module, inp, g, name)
    if kind == "conv":
        return _conv(module, inp, g, name)
    if kind in ("maxpool", "avgpool"):
        return _pool(kind, module, inp, g, name), {}
    if kind == "batchnorm":
        return _batchnorm(module, inp, g, name)
    if kind == "relu":
        on = out > 0                                     # torch's rule: 0 where the output is 0
        return Passage(name, kind, g, g * on, on, "ReLU: the gradient passes where the unit was on "
                       "(output > 0) and is 0 where it was off"), {}
    y = out.double()
    if kind == "tanh":
        return Passage(name, kind, g, g * (1 - y * y), None, "tanh: times its slope 1 − y²"), {}
    if kind == "sigmoid":
        return Passage(name, kind, g, g * y * (1 - y), None, "sigmoid: times its slope y·(1 − y)"), {}
    if kind == "dropout":
        return Passage(name, kind, g, g, None, "dropout is off in this step: the gradient passes unchanged"), {}
    if kind == "flatten":
        return Passage(name, kind, g, g.reshape(inp.shape), None,
                       f"flatten: the same {g.numel():,} numbers, put back into {_shape(inp.shape)} maps"), {}
    raise ValueError(f"{name}: no backward rule for a {kind} layer")


def _shape(shape) -> str:
    return "×".join(str(int(v)) for v in shape)


def _linear(fc: nn.Linear, inp: torch.Tensor, g: torch.Tensor, name: str) -> tuple[Passage, dict]:
    a = inp.double()                                     # (I,)
    w = fc.weight.detach().double()                      # (O, I)
    own = {"weight": torch.outer(g, a)}                  # ∂L/∂W[o, i] = a[i] · g[o]
    if fc.bias is not None:
        own["bias"] = g.clone()
    rule = "dense: each input's gradient is Σ over the outputs of weight × the output's gradient (Wᵀ·g)"
    return Passage(name, "linear", g, w.t() @ g, None, rule), own


def _conv(conv: nn.Conv2d, inp: torch.Tensor, g: torch.Tensor, name: str) -> tuple[Passage, dict]:
    w = conv.weight.detach().double()                    # (O, C, k, k)
    o, c, k, _ = w.shape
    geo = {"kernel_size": k, "dilation": conv.dilation[0], "padding": conv.padding[0], "stride": conv.stride[0]}
    cols = F.unfold(inp.double()[None], **geo)[0]        # (C·k·k, L): the patch under the kernel at each position
    gm = g.reshape(o, -1)                                # (O, L)
    own = {"weight": (gm @ cols.t()).reshape(w.shape)}   # Σ over positions of input × upstream gradient
    if conv.bias is not None:
        own["bias"] = gm.sum(dim=1)
    back = w.reshape(o, -1).t() @ gm                     # (C·k·k, L): each patch cell's share of the gradient
    grad_in = F.fold(back[None], tuple(inp.shape[-2:]), **geo)[0]   # (C, H, W): shares added where patches overlap
    rule = ("conv: every input pixel collects weight × gradient from each position where a kernel covered it; "
            "each weight's gradient is Σ over positions of input × gradient (pick one below)")
    return Passage(name, "conv", g, grad_in, None, rule), own


def _pool(kind: str, pool: nn.Module, inp: torch.Tensor, g: torch.Tensor, name: str) -> Passage:
    c, h, w = inp.shape
    k, s, p = _pair(pool.kernel_size), _pair(pool.stride), _pair(pool.padding)
    if kind == "maxpool":
        d = _pair(pool.dilation)
        _, where = F.max_pool2d(inp[None], k, s, p, d, return_indices=True)   # (1, C, h', w'): flat index of the max
        where = where[0].reshape(c, -1)
        grad_in = torch.zeros(c, h * w, dtype=torch.float64).scatter_add_(1, where, g.reshape(c, -1))
        mask = torch.zeros(c, h * w, dtype=torch.bool).scatter_(1, where, True).reshape(c, h, w)
        return Passage(name, kind, g, grad_in.reshape(c, h, w), mask,
                       f"max pooling: only the max of each {k}×{k} window gets the window's gradient, "
                       "the others get 0")
    share = g.reshape(c, 1, -1).expand(c, k * k, g[0].numel()) / (k * k)   # (C, k·k, L): 1/k² to each cell
    grad_in = F.fold(share.reshape(1, c * k * k, -1), (h, w), k, padding=p, stride=s)[0]
    return Passage(name, kind, g, grad_in, None,
                   f"average pooling: each window's gradient is split evenly, 1/{k * k} to each of its {k * k} inputs")


def _pair(v) -> int:
    return int(v[0] if isinstance(v, (tuple, list)) else v)


def _batchnorm(bn: nn.Module, inp: torch.Tensor, g: torch.Tensor, name: str) -> tuple[Passage, dict]:
    """Eval mode: y = γ·(x − mean)/√(var + ε) + β with the running statistics, a fixed per-channel scale."""
    view = (-1,) + (1,) * (inp.dim() - 1)
    scale = 1 / torch.sqrt(bn.running_var.double() + bn.eps)
    xhat = (inp.double() - bn.running_mean.double().reshape(view)) * scale.reshape(view)
    dims = tuple(range(1, inp.dim()))
    own = {}
    if bn.weight is not None:
        own = {"weight": (g * xhat).sum(dim=dims) if dims else g * xhat, "bias": g.sum(dim=dims) if dims else g.clone()}
    gamma = bn.weight.detach().double() if bn.weight is not None else torch.ones_like(scale)
    return Passage(name, "batchnorm", g, g * (gamma * scale).reshape(view), None,
                   "batch norm (fixed statistics): times γ/√(var + ε) per channel", xhat), own


@dataclass(frozen=True)
class Terms:
    """A weight's gradient as a sum: term n is inputs[n] × upstream[n], from output position positions[n].

    sources[n]: where inputs[n] was read in the layer's input ((c, row, col) or (i,)), None in the padding.
    grid: the (rows, cols) of the output map the positions cover (None for a dense layer).
    """

    name: str
    index: tuple[int, ...]
    layer: str
    inputs: np.ndarray          # (n,) float64
    upstream: np.ndarray        # (n,)
    positions: tuple[tuple[int, ...], ...]
    sources: tuple[tuple[int, ...] | None, ...]
    grid: tuple[int, int] | None
    grad: float                 # the Step's gradient of this weight

    @property
    def products(self) -> np.ndarray:
        """inputs × upstream, (n,)."""
        return self.inputs * self.upstream


def _param(s: Step, name: str, index: tuple[int, ...]) -> tuple[str, str, tuple[int, ...]]:
    if name not in s.grads:
        raise ValueError(f"no parameter {name!r}; the parameters are {', '.join(s.grads)}")
    shape = tuple(s.grads[name].shape)
    index = tuple(int(v) for v in index)
    if len(index) != len(shape) or any(not 0 <= v < n for v, n in zip(index, shape)):
        raise ValueError(f"{name} has shape {_shape(shape)}: index {index} is outside "
                         f"({', '.join(f'0..{n - 1}' for n in shape)})")
    layer, kind = name.rsplit(".", 1)
    return layer, kind, index


def terms(s: Step, name: str, index: tuple[int, ...]) -> Terms:
    """The terms of one weight's gradient, in output-position order (see Terms); ValueError for a bad name/index."""
    layer, kind, index = _param(s, name, index)
    inp, g = s.inputs[layer].double(), s.passage(layer).grad_out
    layer_type = s.spec.layers[s.spec.layer_names().index(layer)].type
    if layer_type == "conv":
        return _conv_terms(s, name, index, layer, kind, inp, g)
    if layer_type == "linear":
        o = index[0]
        value = 1.0 if kind == "bias" else float(inp[index[1]])
        source = None if kind == "bias" else (index[1],)
        return Terms(name, index, layer, np.array([value]), np.array([float(g[o])]), ((o,),), (source,), None,
                     float(s.grads[name][index]))
    if layer_type == "batchnorm":
        c = index[0]
        xhat = s.passage(layer).normalized[c].reshape(-1) if kind == "weight" else torch.ones(g[c].numel(),
                                                                                               dtype=torch.float64)
        pos = tuple(np.ndindex(*g.shape[1:])) if g.dim() > 1 else ((c,),)
        return Terms(name, index, layer, xhat.numpy(), g[c].reshape(-1).numpy(), pos, (None,) * len(pos),
                     tuple(g.shape[1:]) if g.dim() == 3 else None, float(s.grads[name][index]))
    raise ValueError(f"{name}: a {layer_type} layer has no weights")


def _conv_terms(s: Step, name: str, index: tuple[int, ...], layer: str, kind: str, inp: torch.Tensor,
                g: torch.Tensor) -> Terms:
    spec_layer = s.spec.layers[s.spec.layer_names().index(layer)]
    stride, pad, dil = spec_layer.s, spec_layer.pad, spec_layer.dil
    o = index[0]
    rows, cols = g.shape[1], g.shape[2]
    positions = tuple((i, j) for i in range(rows) for j in range(cols))
    up = g[o].reshape(-1).numpy()                                       # (rows·cols,)
    if kind == "bias":
        return Terms(name, index, layer, np.ones(len(positions)), up, positions, (None,) * len(positions),
                     (rows, cols), float(s.grads[name][index]))
    _, c, u, v = index
    r = torch.arange(rows) * stride + u * dil - pad                     # (rows,) input row of each output row
    q = torch.arange(cols) * stride + v * dil - pad                     # (cols,)
    inside = ((r >= 0) & (r < inp.shape[1]))[:, None] & ((q >= 0) & (q < inp.shape[2]))[None, :]
    values = inp[c][r.clamp(0, inp.shape[1] - 1)][:, q.clamp(0, inp.shape[2] - 1)]
    values = torch.where(inside, values, torch.zeros_like(values))      # (rows, cols): 0 in the padding
    sources = tuple((c, int(r[i]), int(q[j])) if inside[i, j] else None for i, j in positions)
    return Terms(name, index, layer, values.reshape(-1).numpy(), up, positions, sources, (rows, cols),
                 float(s.grads[name][index]))


def weight_terms(s: Step, name: str, index: tuple[int, ...]) -> list[tuple[float, float]]:
    """(input value, upstream gradient) pairs whose products add up to s.grads[name][index] (one for a dense weight)."""
    t = terms(s, name, index)
    return [(float(a), float(b)) for a, b in zip(t.inputs, t.upstream)]


def strongest(s: Step, name: str, out: int | None = None) -> tuple[int, ...]:
    """The index of the parameter's entry with the largest |gradient|, within filter / output `out` when given
    (the page opens on a real sum, not on zeros)."""
    if name not in s.grads:
        raise ValueError(f"no parameter {name!r}; the parameters are {', '.join(s.grads)}")
    g = s.grads[name]
    if out is None:
        return tuple(int(v) for v in np.unravel_index(int(g.abs().argmax()), tuple(g.shape)))
    if not 0 <= int(out) < g.shape[0]:
        raise ValueError(f"{name}: output {out} is outside 0..{g.shape[0] - 1}")
    rest = np.unravel_index(int(g[int(out)].abs().argmax()), tuple(g.shape[1:])) if g.dim() > 1 else ()
    return (int(out), *(int(v) for v in rest))


def weight_names(s: Step) -> list[str]:
    """The weights (and biases) a page can pick: every parameter of the conv, dense and batch-norm layers."""
    return list(s.grads)


# ---- the numbers as the page writes them: each '=' holds for the shown (rounded) numbers, else '≈' and why


def _sig_line(line: str) -> str:
    return reason(line, SIGNIFICANT)


def class_name(s: Step, labels: tuple[str, ...] | None, k: int) -> str:
    """Class k's name from `labels` (when there is one per class), else its number."""
    return labels[k] if labels is not None and len(labels) == s.num_classes else str(k)


def loss_line(s: Step, labels: tuple[str, ...] | None = None) -> str:
    """'loss = −log p(7) = −log(0.9731) ≈ 0.02727 (≈: ...)': the cross-entropy with the number substituted."""
    p, loss = fmt_sig(float(s.probs_before[s.label])), fmt_sig(s.loss)
    again = -math.log(shown(p)) if shown(p) > 0 else math.inf
    name = class_name(s, labels, s.label)
    return _sig_line(f"loss = −log p({name}) = −log({p}) {sign(loss, again, fmt_sig)} {loss}")


def output_rows(s: Step, labels: tuple[str, ...] | None = None) -> list[dict[str, str]]:
    """The gradient at the outputs, one row per class: p, y (1 for the label), p − y; 6 decimals, so the shown
    p minus the shown y is exactly the shown p − y."""
    rows = []
    for k in range(s.num_classes):
        p, y = float(s.probs_before[k]), int(k == s.label)
        rows.append({"class": class_name(s, labels, k), "p": f"{p:.6f}", "y": str(y), "p − y": _dec6(p - y)})
    return rows


def _dec6(v: float) -> str:
    text = f"{v:.6f}"
    return text.lstrip("-") if float(text) == 0 else text


def output_gradient(s: Step) -> np.ndarray:
    """∂L/∂z = p − y at the K outputs, (K,) float64."""
    return s.passages[0].grad_out.numpy().copy()


def _source(s: Step, layer: str) -> str:
    names = s.spec.layer_names()
    i = names.index(layer)
    return "input" if i == 0 else names[i - 1]


def weight_lines(s: Step, name: str, index: tuple[int, ...], top: int = TOP_TERMS) -> list[str]:
    """A weight's gradient as its terms (largest |input × upstream| first, the rest summed), then its total."""
    t = terms(s, name, index)
    prods = t.products
    order = np.argsort(-np.abs(prods), kind="stable")
    n = len(prods)
    head_terms = [m for m in order[:top] if prods[m] != 0] or order[:1]   # zeros are not worth a line
    what = "1 (a bias)" if name.endswith(".bias") else f"{_source(s, t.layer)}'s value"
    head = f"∂L/∂{name}[{', '.join(map(str, t.index))}]"
    if n == 1:  # a dense weight: one input times one output's gradient
        a, b, prod = _factor(t.inputs[0]), _factor(t.upstream[0]), fmt_sig(t.grad)
        return [f"{head} = {what} × the gradient that came back to {t.layer}'s output {t.index[0]}",
                reason(f"g = {_at(t, 0, _source(s, t.layer))}: {a} × {bracket(b)} "
                       f"{sign(prod, shown(a) * shown(b), fmt_sig)} {prod}", FACTORS)]
    lines = [f"{head} = Σ over the {n:,} positions of {t.layer}'s map {t.index[0]}: {what} × the gradient "
             f"that came back there (∂L/∂{t.layer})"]
    shown_terms = []
    for m in head_terms:
        a, b, prod = _factor(t.inputs[m]), _factor(t.upstream[m]), fmt_sig(float(prods[m]))
        lines.append(reason(f"{_at(t, int(m), _source(s, t.layer))}: {a} × {bracket(b)} "
                            f"{sign(prod, shown(a) * shown(b), fmt_sig)} {prod}", FACTORS))
        shown_terms.append(prod)
    others = order[len(head_terms):]
    if len(others) and not np.any(prods[others]):
        lines.append(f"the other {len(others):,} terms are 0 (the input or the gradient there was 0)")
    elif len(others):
        rest = fmt_sig(float(prods[others].sum()))
        lines.append(f"the other {len(others):,} terms sum to {rest}")
        shown_terms.append(rest)
    total = fmt_sig(t.grad)
    again = sum(shown(v) for v in shown_terms)
    lines.append(_sig_line(f"g = {' + '.join(bracket(v) for v in shown_terms)} {sign(total, again, fmt_sig)} {total}"))
    return lines


def _factor(v: float) -> str:
    return fmt_sig(float(v), FACTOR_DIGITS)


def _at(t: Terms, m: int, source: str) -> str:
    """Where term m comes from: 'at (4, 3), pool1[5, 6, 4]' (output position, then the input it read)."""
    src = t.sources[m]
    read = f", {source}[{', '.join(map(str, src))}]" if src else ""
    if t.grid is None:
        return f"output {t.positions[m][0]}{read}"
    row, col = t.positions[m]
    return f"at ({row}, {col}){read}" + (" (padding)" if src is None and not t.name.endswith(".bias") else "")


def update_lines(s: Step, name: str, index: tuple[int, ...]) -> list[str]:
    """The update of one weight: its change −lr × g, then w − lr × g with enough decimals to see the change."""
    _param(s, name, index)
    g, w, w2 = float(s.grads[name][index]), float(s.before[name][index]), float(s.after[name][index])
    lr = f"{s.lr:g}"
    gt, change = fmt_sig(g), fmt_sig(-s.lr * g)   # g as the terms' total shows it
    d = 4 if g == 0 else min(9, max(4, 2 - math.floor(math.log10(abs(s.lr * g)))))
    wt, w2t = _dec(w, d), _dec(w2, d)
    first = reason(f"change = −lr × g = −{lr} × {bracket(gt)} {sign(change, -shown(lr) * shown(gt), fmt_sig)} "
                   f"{change}", SIGNIFICANT)
    again = shown(wt) - shown(lr) * shown(gt)
    second = reason(f"w − lr × g = {wt} − {lr} × {bracket(gt)} {'=' if _dec(again, d) == w2t else '≈'} {w2t}",
                    f"{d} decimals and {SIGNIFICANT}")
    return [first, second]


def _dec(v: float, d: int) -> str:
    text = f"{v:.{d}f}"
    return text.lstrip("-") if float(text) == 0 else text


def after_line(s: Step, labels: tuple[str, ...] | None = None) -> str:
    """'p(7): 0.0963 → 0.9887, up by 0.9887 − 0.0963 = 0.8924; loss 2.340 → 0.01137': the image answered again."""
    a, b = float(s.probs_before[s.label]), float(s.probs_after[s.label])
    at, bt = fmt(a), fmt(b)
    tiny = abs(b - a) < 1e-3                      # a tiny change in its own digits, not 0.0000
    diff = fmt_sig(abs(b - a)) if tiny else fmt(abs(b - a))
    again = abs(shown(bt) - shown(at))
    line = (f"p({class_name(s, labels, s.label)}): {at} → {bt}, {'up' if b >= a else 'down'} by "
            f"{bt if b >= a else at} − {at if b >= a else bt} {sign(diff, again, fmt_sig if tiny else fmt)} {diff}")
    return reason(line, SIGNIFICANT if tiny else DECIMALS) + f"; loss {fmt_sig(s.loss)} → {fmt_sig(s.loss_after)}"


def passage_lines(s: Step, layer: str, channel: int = 0) -> list[str]:
    """The rule of one layer's backward passage, then a worked example in map `channel` (where it has maps)."""
    p = s.passage(layer)
    lines = [p.rule]
    g = p.grad_out
    if g.dim() == 3:
        channel = min(max(int(channel), 0), g.shape[0] - 1)
    if p.type == "linear":
        lines += _linear_example(s, p)
    elif p.type == "maxpool":
        lines += _maxpool_example(s, p, channel)
    elif p.type == "avgpool":
        lines += _avgpool_example(s, p, channel)
    elif p.type == "relu":
        lines += _relu_example(s, p, channel)
    elif p.type in ("tanh", "sigmoid"):
        lines += _slope_example(s, p)
    return lines


def _top(t: torch.Tensor) -> tuple[int, ...]:
    return tuple(int(v) for v in np.unravel_index(int(t.abs().argmax()), tuple(t.shape)))


def _linear_example(s: Step, p: Passage) -> list[str]:
    """∂L/∂a[i] = Σ_o W[o, i] · g[o] for the input with the largest gradient, terms largest first."""
    i = _top(p.grad_in)[0]
    w = s.before[f"{p.layer}.weight"].double()[:, i]            # (O,)
    prods = w * p.grad_out
    order = torch.argsort(prods.abs(), descending=True, stable=True)
    shown_terms = [fmt_sig(float(prods[o])) for o in order[:TOP_TERMS]]
    text = [f"{bracket(fmt_sig(float(w[o])))} × {bracket(fmt_sig(float(p.grad_out[o])))}" for o in order[:TOP_TERMS]]
    if len(order) > TOP_TERMS:
        shown_terms.append(fmt_sig(float(prods[order[TOP_TERMS:]].sum())))
        text.append(f"{bracket(shown_terms[-1])} (the other {len(order) - TOP_TERMS})")
    total = fmt_sig(float(p.grad_in[i]))
    again = sum(shown(v) for v in shown_terms)
    head = f"input {i} of {p.layer}, Σ over its {len(order)} outputs of weight × gradient: "
    return [head + " + ".join(text),
            _sig_line(f"= {' + '.join(bracket(v) for v in shown_terms)} {sign(total, again, fmt_sig)} {total}")]


def _maxpool_example(s: Step, p: Passage, c: int) -> list[str]:
    lay = s.spec.layers[s.spec.layer_names().index(p.layer)]
    _, i, j = _top(p.grad_out[c:c + 1])
    inp = s.inputs[p.layer]
    _, where = F.max_pool2d(inp[None], lay.k, lay.s, lay.pad, lay.dil, return_indices=True)
    r, col = divmod(int(where[0, c, i, j]), inp.shape[2])
    n = int(p.mask.sum())
    return [f"map {c}, window ({i}, {j}): its max {fmt_sig(float(inp[c, r, col]))} at row {r}, col {col} gets "
            f"its gradient {fmt_sig(float(p.grad_out[c, i, j]))}; the other {lay.k * lay.k - 1} inputs of the window "
            "get 0",
            f"{n:,} of the {p.mask.numel():,} inputs were the max of a window; all the others get a gradient of 0"]


def _avgpool_example(s: Step, p: Passage, c: int) -> list[str]:
    n = s.spec.layers[s.spec.layer_names().index(p.layer)].k ** 2
    _, i, j = _top(p.grad_out[c:c + 1])
    g = fmt_sig(float(p.grad_out[c, i, j]))
    part = fmt_sig(float(p.grad_out[c, i, j]) / n)
    return [_sig_line(f"map {c}, window ({i}, {j}): {g} / {n} {sign(part, shown(g) / n, fmt_sig)} {part} to each "
                      f"of its {n} inputs")]


def _relu_example(s: Step, p: Passage, channel: int) -> list[str]:
    on, g, out = p.mask, p.grad_out, s.outputs[p.layer]
    lines = [f"{int(on.sum()):,} of the {on.numel():,} units were on"]
    if g.dim() == 3:  # the examples in the map on screen
        on, g, out = on[channel:channel + 1], g[channel:channel + 1], out[channel:channel + 1]
    if bool(on.any()):
        k = _top(torch.where(on, g, torch.zeros_like(g)))
        lines.append(f"unit {_unit(k, g, channel)} was on (output {fmt_sig(float(out[k]))}): its gradient "
                     f"{fmt_sig(float(g[k]))} passes")
    if bool((~on).any()):
        k = _top(torch.where(on, torch.zeros_like(g), g))
        pre = s.inputs[p.layer][(channel, *k[1:]) if g.dim() == 3 else k]
        lines.append(f"unit {_unit(k, g, channel)} was off (input {fmt_sig(float(pre))} ≤ 0): its gradient "
                     f"{fmt_sig(float(g[k]))} becomes 0")
    return lines


def _unit(k: tuple[int, ...], g: torch.Tensor, channel: int) -> str:
    """'map 3, row 6, col 11' for a unit of map `channel` (k indexes a one-map slice), '[42]' for a flat one."""
    return f"map {channel}, row {k[1]}, col {k[2]}" if g.dim() == 3 else f"[{k[0]}]"


def _slope_example(s: Step, p: Passage) -> list[str]:
    k = _top(p.grad_out)
    g, y = fmt_sig(float(p.grad_out[k])), fmt_sig(float(s.outputs[p.layer][k]))
    res = fmt_sig(float(p.grad_in[k]))
    if p.type == "tanh":
        again, form = shown(g) * (1 - shown(y) ** 2), f"{bracket(g)} × (1 − {bracket(y)}²)"
    else:
        again, form = shown(g) * shown(y) * (1 - shown(y)), f"{bracket(g)} × {bracket(y)} × (1 − {bracket(y)})"
    return [_sig_line(f"unit {list(k)}: {form} {sign(res, again, fmt_sig)} {res}")]


def steps(model: nn.Module, x: torch.Tensor, label: int, lr: float = DEFAULT_LR, n: int = 10) -> list[float]:
    """The loss on this one example before each of n plain SGD steps and after the last (n + 1 values), on a copy.

    Computed with torch's own autograd, independently of `step`: its first two values are step's loss and loss_after.
    """
    _check(model, x, label, lr)
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_STEPS:
        raise ValueError(f"n must be a whole number of steps from 1 to {MAX_STEPS}, got {n!r}")
    work = copy.deepcopy(model).cpu().eval()
    params = [p for p in work.parameters() if p.requires_grad]
    x, target = x.detach().float().cpu(), torch.tensor([int(label)])
    losses = []
    for _ in range(n + 1):
        with torch.enable_grad():
            loss = F.cross_entropy(work(x), target)
        losses.append(float(loss.detach()))
        if len(losses) > n:
            break
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g in zip(params, grads):
                p -= lr * g
    return losses


UNTRAINED = "untrained "   # a model choice: "untrained tutorial_a" is the preset with fresh seeded weights


def choices(available: list[str]) -> list[str]:
    """The models to learn with: every checkpoint, then every preset untrained."""
    from cnnviz.arch import PRESETS
    return list(available) + [UNTRAINED + name for name in PRESETS]


def untrained(preset: str, seed: int = 0) -> nn.Module:
    """The preset with weights drawn as torch initialises them, from its own generator seeded `seed`; eval mode."""
    from cnnviz import rng
    from cnnviz.arch import PRESETS
    if preset not in PRESETS:
        raise ValueError(f"no preset {preset!r}; the presets are {', '.join(PRESETS)}")
    return rng.build(PRESETS[preset], torch.Generator().manual_seed(seed)).eval()


def untrained_card(preset: str) -> dict:
    """The card an untrained preset is shown with: MNIST's digits and normalisation, nothing learned."""
    from cnnviz.arch import PRESETS
    from cnnviz.preprocess import MNIST_NORMALIZE
    if preset not in PRESETS:
        raise ValueError(f"no preset {preset!r}; the presets are {', '.join(PRESETS)}")
    return {"name": UNTRAINED + preset, "dataset": "mnist", "normalize": list(MNIST_NORMALIZE),
            "spec": PRESETS[preset].to_json()}
