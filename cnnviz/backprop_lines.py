"""The text the 'How it learns' page shows for a backprop.Step, every number substituted.

The loss line, the gradient at the outputs, a weight's gradient as its terms and its update, the probability
after the step, each layer's backward rule with a worked example. Each '=' holds for the shown (rounded)
numbers, else '≈' and why. The numbers themselves come from cnnviz/backprop.py, which does not import this.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from cnnviz.backprop import TOP_TERMS, Passage, Step, Terms, _param, terms
from cnnviz.explain import DECIMALS, SIGNIFICANT, bracket, fmt, fmt_sig, reason, shown, sign

FACTOR_DIGITS = 5      # factors are shown with one digit more than their 4-digit product: with 4 and 4, about half
                       # the products of the shown factors rounded differently (an '≈' on every other line)
FACTORS = "5 significant digits"


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
