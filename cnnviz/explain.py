"""The arithmetic of one unit: how exactly one number inside a trained network was made.

Given a model built from a spec, its input and the activations captured by `probe`, `unit`
recomputes one output value of one layer from the layer's input and its trained weights, keeping
every intermediate number for display: a conv unit's input patch on every channel, the kernel
slices, the element-wise products, the per-channel sums, the bias and the activation that follows;
a pooling window and its max (or average); a linear unit's largest contributions (input x weight),
the bias, and for the output layer the softmax with the logits substituted.

The numbers are recomputed in float64 from the float32 tensors the model used, so they match the
model's own output to ~1e-6 (tests/test_explain.py checks 1e-5 for every layer of every shipped model).

Also here: the overview's stages (a column per layer that changes the shape, with its activation
folded in) and the theoretical receptive field of a unit, walked back through the spec.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from cnnviz.arch import Spec
from cnnviz.dims import effective_kernel, shape_str
from cnnviz.ops import taps

ACTIVATIONS = ("relu", "tanh", "sigmoid")
TOP_TERMS = 8   # a linear unit shows its largest contributions, then the rest summed
SHOWN_SUMS = 6  # a conv unit's line shows this many channel sums, then the rest summed


@dataclass(frozen=True)
class Stage:
    """One column of the overview: a layer that computes (conv, pool, linear), its output shown after `shown`.

    `shown` is the activation that directly follows (relu1 after conv1), or the layer itself.
    """

    layer: str
    type: str
    shown: str
    shape: tuple[int, ...]

    @property
    def title(self) -> str:
        """'conv1 16×28×28' (the column's heading)."""
        return f"{self.layer} {shape_str(self.shape)}"


def stages(spec: Spec) -> list[Stage]:
    """The overview's columns: every conv, pool and linear layer, each with the activation that follows it."""
    names, layers = spec.layer_names(), spec.layers
    from cnnviz import dims  # dims imports arch; kept local like arch.build does
    rows = dims.table(spec)
    out = []
    for i, (name, layer) in enumerate(zip(names, layers)):
        if layer.type not in ("conv", "maxpool", "avgpool", "linear"):
            continue
        follows = i + 1 < len(layers) and layers[i + 1].type in ACTIVATIONS
        out.append(Stage(name, layer.type, names[i + 1] if follows else name, rows[i].out_shape))
    return out


@dataclass(frozen=True)
class Term:
    """One contribution to a linear unit: input number `index` (named `source`) times its weight."""

    index: int
    source: str
    input: float
    weight: float

    @property
    def product(self) -> float:
        """input x weight."""
        return self.input * self.weight


@dataclass(frozen=True)
class Softmax:
    """p_k = exp(z_k - m) / sum_j exp(z_j - m), m = max z, with every number kept."""

    logits: np.ndarray   # (K,)
    exps: np.ndarray     # (K,) exp(z - max)
    total: float
    probs: np.ndarray    # (K,)


@dataclass(frozen=True)
class Explanation:
    """How the value of `layer` at `index` was made. Fields that do not apply to the layer's type are None.

    value: the number as the overview shows it (after `activation` when one follows the layer).
    conv: patch / weights / products (I, k, k), channel_sums (I,), bias, pre = sum + bias.
    pooling: window (k, k) of the input channel (padding shown as -inf for max, 0 for average).
    linear: terms (largest |input x weight| first), rest (sum of the other products), bias, pre.
    The window's place in the source layer: rows [top, top + span), cols [left, left + span), step `dilation`.
    """

    layer: str
    type: str
    index: tuple[int, ...]
    source: str                          # the layer whose output is this layer's input ("input" for the first)
    value: float
    shown: str                           # the layer whose output holds `value`
    pre: float | None = None             # before the activation
    activation: str | None = None
    patch: np.ndarray | None = None
    weights: np.ndarray | None = None
    products: np.ndarray | None = None
    channel_sums: np.ndarray | None = None
    bias: float | None = None
    window: np.ndarray | None = None
    top: int | None = None
    left: int | None = None
    dilation: int = 1
    terms: tuple[Term, ...] = ()
    rest: float | None = None
    n_rest: int = 0
    softmax: Softmax | None = None
    lines: tuple[str, ...] = field(default=())

    @property
    def value_text(self) -> str:
        """`value` written as the lines write it: the page's "holds" states the very number the lines end on."""
        return _fmt(self.value)


def unit(model: nn.Module, x: torch.Tensor, acts: dict[str, torch.Tensor], layer: str,
         index: tuple[int, ...]) -> Explanation:
    """Explain the output of `layer` at `index` ((c, row, col) or (j,)) for input x (1, C, H, W).

    `acts` are the captured outputs (probe.activations / probe.look) of the same forward pass.
    ValueError naming the layer and the valid range when the layer or the index does not exist.
    """
    spec = getattr(model, "spec", None)
    if not isinstance(spec, Spec):
        raise ValueError(f"{type(model).__name__} was not built by cnnviz.arch.build: it has no spec")
    names = spec.layer_names()
    if layer not in names:
        raise ValueError(f"no layer {layer!r}; the layers are {', '.join(names)}")
    i = names.index(layer)
    index = _check_index(layer, index, tuple(acts[layer].shape[1:]))
    source = "input" if i == 0 else names[i - 1]
    src = (x if i == 0 else acts[source])[0].detach().double().cpu()   # (C, H, W) or (F,)
    kind = spec.layers[i].type
    module = dict(model.named_children())[layer]
    if kind == "conv":
        e = _conv(module, src, index)
    elif kind in ("maxpool", "avgpool"):
        e = _pool(spec.layers[i], kind, src, index)
    elif kind == "linear":
        e = _linear(module, src, index, _flat_names(spec, names, i))
    else:
        e = _elementwise(kind, src, index)
    e = {**e, "layer": layer, "type": kind, "index": index, "source": source}
    return _finish(e, spec, names, i, acts)


def _check_index(layer: str, index: tuple[int, ...], shape: tuple[int, ...]) -> tuple[int, ...]:
    index = tuple(int(v) for v in index)
    if len(index) != len(shape) or any(not 0 <= v < n for v, n in zip(index, shape)):
        ranges = ", ".join(f"0..{n - 1}" for n in shape)
        raise ValueError(f"{layer} has output {shape_str(shape)}: index {index} is outside ({ranges})")
    return index


def _conv(conv: nn.Conv2d, src: torch.Tensor, index: tuple[int, ...]) -> dict:
    """The patch under the kernel on every input channel (zeros where it hangs over the padding)."""
    o, r, c = index
    w = conv.weight.detach().double()[o]                              # (I, k, k)
    k, s, p, d = w.shape[-1], conv.stride[0], conv.padding[0], conv.dilation[0]
    rows, cols = taps(r, k, s, p, d), taps(c, k, s, p, d)
    top, left = rows[0], cols[0]
    patch = _window(src, rows, cols, fill=0.0)                        # (I, k, k)
    products = patch * w
    sums = products.sum(dim=(1, 2))
    bias = float(conv.bias.detach()[o]) if conv.bias is not None else 0.0
    pre = float(sums.sum()) + bias
    return {"patch": patch.numpy(), "weights": w.numpy(), "products": products.numpy(),
            "channel_sums": sums.numpy(), "bias": bias, "pre": pre, "top": top, "left": left, "dilation": d}


def _pool(spec_layer, kind: str, src: torch.Tensor, index: tuple[int, ...]) -> dict:
    c, r, col = index
    k, s, p, d = spec_layer.k, spec_layer.s, spec_layer.pad, spec_layer.dil
    rows, cols = taps(r, k, s, p, d), taps(col, k, s, p, d)
    top, left = rows[0], cols[0]
    window = _window(src[c:c + 1], rows, cols, fill=-math.inf if kind == "maxpool" else 0.0)[0]
    pre = float(window.max()) if kind == "maxpool" else float(window.sum()) / (k * k)  # count_include_pad
    return {"window": window.numpy(), "pre": pre, "top": top, "left": left, "dilation": d}


def _window(src: torch.Tensor, taps_r: tuple[int, ...], taps_c: tuple[int, ...], fill: float) -> torch.Tensor:
    """src (C, H, W) sampled at the rows and columns of ops.taps, `fill` outside: (C, k, k)."""
    _, h, w = src.shape
    rows, cols = torch.tensor(taps_r), torch.tensor(taps_c)
    inside = ((rows >= 0) & (rows < h))[:, None] & ((cols >= 0) & (cols < w))[None, :]
    out = src[:, rows.clamp(0, h - 1)][:, :, cols.clamp(0, w - 1)]  # (C, k, k)
    return torch.where(inside, out, torch.full_like(out, fill))


def _linear(fc: nn.Linear, src: torch.Tensor, index: tuple[int, ...], source_names: list[str]) -> dict:
    j = index[0]
    w = fc.weight.detach().double()[j]                                # (F,)
    products = src * w
    order = torch.argsort(products.abs(), descending=True)
    top = order[:TOP_TERMS].tolist()
    terms = tuple(Term(t, source_names[t], float(src[t]), float(w[t])) for t in top)
    rest = float(products[order[TOP_TERMS:]].sum())
    bias = float(fc.bias.detach()[j]) if fc.bias is not None else 0.0
    pre = float(products.sum()) + bias
    return {"terms": terms, "rest": rest, "n_rest": max(0, products.numel() - len(top)), "bias": bias, "pre": pre}


def _flat_names(spec: Spec, names: list[str], i: int) -> list[str]:
    """Names of linear layer i's inputs: 'pool2[3, 4, 5]' through a flatten, else 'fc1[7]' (dropouts skipped)."""
    from cnnviz import dims  # dims imports arch; kept local like arch.build does
    j = i - 1
    while j >= 0 and spec.layers[j].type == "dropout":
        j -= 1
    shape = spec.input_shape if j < 0 else dims.table(spec)[j].in_shape
    if j >= 0 and spec.layers[j].type == "flatten":
        j -= 1
        while j >= 0 and spec.layers[j].type == "dropout":
            j -= 1
        owner = names[j] if j >= 0 else "input"
        return [f"{owner}[{', '.join(str(int(v)) for v in np.unravel_index(t, shape))}]"
                for t in range(math.prod(shape))]
    owner = names[j] if j >= 0 else "input"
    width = math.prod(shape) if j < 0 else dims.table(spec)[j].out_shape[0]
    return [f"{owner}[{t}]" for t in range(width)]


def _elementwise(kind: str, src: torch.Tensor, index: tuple[int, ...]) -> dict:
    """relu / tanh / sigmoid / dropout (off when predicting) / flatten (the same number, re-addressed)."""
    if kind == "flatten":
        return {"pre": float(src.reshape(-1)[index[0]])}
    return {"pre": float(src[index])}


_FUNCS = {"relu": lambda v: max(v, 0.0), "tanh": math.tanh, "sigmoid": lambda v: 1.0 / (1.0 + math.exp(-v))}


def _finish(e: dict, spec: Spec, names: list[str], i: int, acts: dict[str, torch.Tensor]) -> Explanation:
    """Apply the activation (the layer's own, or the one that follows a conv / linear), add softmax and text."""
    kind, pre = e["type"], e["pre"]
    activation, shown = None, e["layer"]
    if kind in ACTIVATIONS:
        activation = kind
    elif kind in ("conv", "linear") and i + 1 < len(names) and spec.layers[i + 1].type in ACTIVATIONS:
        activation, shown = spec.layers[i + 1].type, names[i + 1]
    value = _FUNCS[activation](pre) if activation else pre
    soft = None
    if kind == "linear" and i == len(names) - 1:
        soft = softmax(acts[e["layer"]][0].double().numpy())
    e.update(value=value, shown=shown, activation=activation, softmax=soft)
    return Explanation(**e, lines=tuple(_lines(e)))


def softmax(logits: np.ndarray) -> Softmax:
    """Softmax of (K,) logits with its intermediate numbers (shifted by the max, as torch does)."""
    z = np.asarray(logits, dtype=np.float64).reshape(-1)
    exps = np.exp(z - z.max())
    total = float(exps.sum())
    return Softmax(z, exps, total, exps / total)


def _fmt(v: float) -> str:
    text = f"{v:.4f}" if abs(v) < 1e4 else f"{v:.4g}"
    return text.lstrip("-") if float(text) == 0 else text  # -0.00001 is "0.0000", not "-0.0000"


# The rounding rule, public so that other worked calculations (cnnviz.backprop_lines) write their numbers the same way.
DECIMALS = "4 decimals"
SIGNIFICANT = "4 significant digits"


def fmt(v: float) -> str:
    """A number as the arithmetic lines write it: 4 decimals (4 significant digits from 10,000 up)."""
    return _fmt(v)


def fmt_sig(v: float, digits: int = 4) -> str:
    """A number with `digits` significant digits ('0.8123', '-1.234e-05'): gradients are often far below 0.0001."""
    text = f"{v:#.{digits}g}"
    return text.lstrip("-") if float(text) == 0 else text


def bracket(text: str) -> str:
    """A shown number inside a sum or product: negatives in brackets, '0.57 + (-0.03)'."""
    return f"({text})" if text.startswith("-") else text


def shown(text: str) -> float:
    """The number a shown term stands for: '(-0.0326)' -> -0.0326."""
    return _shown(text)


def sign(result: str, again: float, write=_fmt) -> str:
    """'=' when `again` (recomputed from the shown numbers) is written as the shown `result` is, else '≈'."""
    return _is(result, write(again))


def reason(line: str, digits: str = DECIMALS) -> str:
    """An '≈' line says why: its numbers are shown rounded (to `digits`), so they need not add up to the last digit."""
    return f"{line} (≈: terms rounded to {digits})" if "≈" in line else line


def _term(v: float) -> str:
    """A number inside a sum: negatives in brackets, '0.57 + (-0.03)'."""
    return f"({_fmt(v)})" if v < 0 else _fmt(v)


def _shown(text: str) -> float:
    """The number a shown term stands for: '(-0.0326)' -> -0.0326."""
    return float(text.strip("()"))


def _is(result: str, again: str) -> str:
    """'=' when the result recomputed from the shown numbers is written as the shown result is, else '≈'."""
    return "=" if float(again) == float(result) else "≈"


def _why(line: str) -> str:
    """An '≈' line says why: its numbers are rounded, so they need not add up to the last digit."""
    return reason(line, SIGNIFICANT if re.search(r"\de[+-]\d", line) else DECIMALS)  # _fmt's two styles


def _sum(terms: list[str], total: float) -> tuple[str, str]:
    """(sign, text) for `total` written after the shown `terms`: '=' when they add up to it as shown."""
    text = _fmt(total)
    return _is(text, _fmt(sum(_shown(t) for t in terms))), text


def _conv_lines(sums: np.ndarray, bias: float, pre: float) -> list[str]:
    """Σ over the channels (the first SHOWN_SUMS, then the rest in one term), then + bias."""
    n = len(sums)
    terms = [_term(v) for v in sums[:SHOWN_SUMS]]
    labels = list(terms)
    if n > SHOWN_SUMS:
        terms.append(_term(float(sums[SHOWN_SUMS:].sum())))
        labels.append(f"{terms[-1]} (the other {n - SHOWN_SUMS})")
    sign, total = _sum(terms, float(sums.sum()))
    first = _why(f"Σ patch × kernel on {n} input channel{'s' * (n > 1)} = " + " + ".join(labels) + f" {sign} {total}")
    sign, text = _sum([total, _term(bias)], pre)
    return [first, _why(f"{total} + bias {_term(bias)} {sign} {text}")]


def _linear_lines(terms: tuple[Term, ...], rest: float, n_rest: int, bias: float, pre: float) -> list[str]:
    """The three largest contributions, then their sum + the rest + bias."""
    top = _fmt(sum(t.product for t in terms))
    sign, text = _sum([top, _term(rest), _term(bias)], pre)
    return [" + ".join(f"{t.source}·w ({_fmt(t.input)}×{_fmt(t.weight)})" for t in terms[:3]) + " + …",
            _why(f"= {top} (top {len(terms)}) + {_term(rest)} (the other {n_rest}) + bias {_term(bias)} {sign} {text}")]


def _softmax_line(soft: Softmax, j: int) -> str:
    """p_j with its logit and the largest one substituted; each '=' checked against the shown numbers."""
    z, top, e, total = _fmt(soft.logits[j]), _fmt(soft.logits.max()), _fmt(soft.exps[j]), _fmt(soft.total)
    p = f"{soft.probs[j]:.2%}"
    first = _is(e, _fmt(math.exp(_shown(z) - _shown(top))))
    second = "=" if f"{_shown(e) / _shown(total):.2%}" == p else "≈"
    return _why(f"softmax: p = exp({z} − {top}) / Σ exp(z − max) {first} {e} / {total} {second} {p}")


def _lines(e: dict) -> list[str]:
    """The arithmetic in words and numbers, one step a line (the page prints them as they are).

    Each '=' holds for the numbers as shown (rounded): a result is written after '=' only when the shown
    terms give it at the shown precision; otherwise '≈' and the reason, never terms that visibly do not add up.
    """
    kind, pre = e["type"], e["pre"]
    out = []
    if kind == "conv":
        out += _conv_lines(e["channel_sums"], e["bias"], pre)
    elif kind in ("maxpool", "avgpool"):
        k = e["window"].shape[0]
        out.append(f"{'max' if kind == 'maxpool' else 'average'} of the {k}×{k} window = {_fmt(pre)}")
    elif kind == "linear":
        out += _linear_lines(e["terms"], e["rest"], e["n_rest"], e["bias"], pre)
    elif kind == "dropout":
        out.append(f"dropout is off when predicting: {_fmt(pre)} passes unchanged")
    elif kind == "flatten":
        out.append(f"flatten only re-addresses the number: {_fmt(pre)}")
    if e["activation"]:
        value = _fmt(e["value"])
        again = _fmt(_FUNCS[e["activation"]](_shown(_fmt(pre))))
        out.append(_why(f"{e['activation']}({_fmt(pre)}) {_is(value, again)} {value}"))
    if e["softmax"] is not None:
        out.append(_softmax_line(e["softmax"], e["index"][0]))
    return out


@dataclass(frozen=True)
class Field:
    """The part of the input one unit can see: rows [top, bottom), cols [left, right), clipped to the input."""

    top: int
    bottom: int
    left: int
    right: int
    whole: bool     # after a flatten / linear layer every unit sees the whole input


def receptive_field(spec: Spec, layer: str, row: int = 0, col: int = 0) -> Field:
    """The theoretical receptive field of unit (row, col) of `layer`, walked back through the spec's windows.

    Each conv or pool maps output rows [a, b] to input rows [a*s - p, b*s - p + d*(k-1)] (the same
    recurrence dims.table uses for its receptive-field size, here with positions).
    """
    names = spec.layer_names()
    if layer not in names:
        raise ValueError(f"no layer {layer!r}; the layers are {', '.join(names)}")
    i = names.index(layer)
    _, h, w = spec.input_shape
    if any(spec.layers[j].type in ("flatten", "linear") for j in range(i + 1)):
        return Field(0, h, 0, w, True)
    r0, r1, c0, c1 = row, row, col, col
    for j in range(i, -1, -1):
        lay = spec.layers[j]
        if lay.type in ("conv", "maxpool", "avgpool"):
            span = effective_kernel(lay.k, lay.dil) - 1
            r0, r1 = r0 * lay.s - lay.pad, r1 * lay.s - lay.pad + span
            c0, c1 = c0 * lay.s - lay.pad, c1 * lay.s - lay.pad + span
    return Field(max(r0, 0), min(r1 + 1, h), max(c0, 0), min(c1 + 1, w), False)
