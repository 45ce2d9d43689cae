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
The page's text for these numbers (the lines that add them up) is in cnnviz/backprop_lines.py.
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
from cnnviz.card import Card

TOP_TERMS = 8          # a weight's gradient lists this many terms (largest |product| first), the rest summed
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


def output_gradient(s: Step) -> np.ndarray:
    """∂L/∂z = p − y at the K outputs, (K,) float64."""
    return s.passages[0].grad_out.numpy().copy()


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


def untrained_card(preset: str) -> Card:
    """The card an untrained preset is shown with: MNIST's digits and normalisation, nothing learned."""
    from cnnviz.arch import PRESETS
    from cnnviz.preprocess import MNIST_NORMALIZE
    if preset not in PRESETS:
        raise ValueError(f"no preset {preset!r}; the presets are {', '.join(PRESETS)}")
    return Card(name=UNTRAINED + preset, spec=PRESETS[preset].to_json(), dataset="mnist",
                normalize=MNIST_NORMALIZE, test_accuracy=None)
