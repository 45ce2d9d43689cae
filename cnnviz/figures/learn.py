"""Figures of *How it learns*: the gradient at the outputs, the gradient's way back through one layer, a filter's
gradient to click a weight on, the terms of that weight's gradient, the kernel before and after, the loss curve.

Built from plain dicts with the draw page's building blocks (no per-property validation; the tests validate).
Gradients are drawn on a diverging scale centred on 0 (red negative, blue positive), each panel to its own size:
the numbers are often 1e-6 and would vanish on a shared scale.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import plotly.graph_objects as go

from cnnviz.backprop import Step, Terms
from cnnviz.figures.common import tile
from cnnviz.figures.draw import GRAY, MAPS, PICK, PICKED, WEIGHTS, _box, _figure, _heatmap, _image_layout, _row

RIGHT = "#ff4b4b"     # the right class
OTHER = "#8ea8c3"
AFTER = "#2e7d32"


def _diverging(z: np.ndarray, hover: str = "row %{y}, col %{x}: %{z:.4g}<extra></extra>") -> dict[str, Any]:
    z = np.asarray(z, dtype=np.float64)
    limit = float(np.nanmax(np.abs(z))) if np.isfinite(z).any() else 0.0
    return _heatmap(z, WEIGHTS, -(limit or 1.0), limit or 1.0, hover=hover)


def output_gradient(s: Step, labels: tuple[str, ...], height: int = 240) -> go.Figure:
    """∂L/∂z = p − y for every class as bars; the right class (the only negative one) in red."""
    g = s.passages[0].grad_out.numpy()
    trace = {"type": "bar", "x": list(labels), "y": g,
             "marker": {"color": [RIGHT if k == s.label else OTHER for k in range(g.size)]},
             "text": [f"{v:.3g}" for v in g], "textposition": "outside", "cliponaxis": False,
             "hovertemplate": "%{x}: p − y = %{y:.6f}<extra></extra>"}
    layout = {"title": {"text": "Gradient at the outputs: p − y"}, "height": height,
              "margin": {"l": 10, "r": 10, "t": 40, "b": 10}, "xaxis": {"type": "category"},
              "yaxis": {"zeroline": True, "zerolinecolor": "#888"}}
    return _figure([trace], layout)


def passage(s: Step, layer: str, channel: int = 0, height: int = 260) -> go.Figure:
    """The gradient arriving at `layer`'s output, what the layer does with it, and what leaves for its input.

    Maps (channel `channel`, clamped to each tensor's channels) for layers with maps; bars (flat_passage) when
    either side is flat.
    The middle panel: max pooling's winners, ReLU's on/off units, a tanh / sigmoid slope (others have none).
    """
    p = s.passage(layer)
    if p.grad_out.dim() == 1 or p.grad_in.dim() == 1:  # dense, flatten: the numbers as bars
        return flat_passage(s, layer, height)
    items = [(f"gradient at {layer}'s output", [_diverging(_pick(p.grad_out, channel))])]
    if p.mask is not None:
        what = "white: the max of a window (gets it)" if p.type == "maxpool" else "white: the unit was on (passes it)"
        items.append((what, [_heatmap(_pick(p.mask.double(), channel), GRAY, 0, 1)]))
    elif p.type in ("tanh", "sigmoid"):
        y = s.outputs[layer].double()
        slope = 1 - y * y if p.type == "tanh" else y * (1 - y)
        items.append(("its slope", [_heatmap(_pick(slope, channel), MAPS)]))
    items.append((f"gradient at {layer}'s input", [_diverging(_pick(p.grad_in, channel))]))
    return _row(items, height, font=12)


def _pick(t, channel: int) -> np.ndarray:
    """Map `channel` of (C, H, W) (clamped), or a flat (F,) tensor as one row."""
    a = np.asarray(t, dtype=np.float64)
    if a.ndim == 3:
        return a[min(max(channel, 0), a.shape[0] - 1)]
    return a.reshape(1, -1)


def flat_passage(s: Step, layer: str, height: int = 220) -> go.Figure:
    """A layer without maps on either side: the gradient at its output and at its input as bars, side by side."""
    p = s.passage(layer)
    data, layout = [], {"height": height, "margin": {"l": 10, "r": 10, "t": 40, "b": 10}, "showlegend": False,
                        "annotations": []}
    for k, (caption, t) in enumerate(((f"gradient at {layer}'s output", p.grad_out),
                                      (f"gradient at {layer}'s input", p.grad_in))):
        suffix = "" if k == 0 else "2"
        a = np.asarray(t, dtype=np.float64).reshape(-1)
        data.append({"type": "bar", "y": a, "xaxis": f"x{suffix}", "yaxis": f"y{suffix}",
                     "marker": {"color": np.where(a >= 0, "#1f77b4", "#d62728")},
                     "hovertemplate": "%{x}: %{y:.4g}<extra></extra>"})
        layout[f"xaxis{suffix}"] = {"domain": [k / 2 + 0.02, (k + 1) / 2 - 0.02]}
        layout[f"yaxis{suffix}"] = {"anchor": f"x{suffix}", "showticklabels": k == 0}
        layout["annotations"].append({"text": caption, "x": (k + 0.5) / 2, "y": 1.0, "xref": "paper",
                                      "yref": "paper", "yanchor": "bottom", "showarrow": False})
    return _figure(data, layout)


def filter_gradient(s: Step, name: str, out: int, mark: tuple[int, ...] | None = None,
                    height: int = 260) -> go.Figure:
    """The gradient of conv filter `out`: one k×k tile per input channel, every cell clickable.

    Each cell's customdata is its (c, u, v); `mark` (c, u, v) is outlined.
    """
    g = s.grads[name][out].numpy()                            # (C, k, k)
    c, k, _ = g.shape
    cols = max(1, math.ceil(math.sqrt(c)))
    grid = tile(g, cols=cols, normalize=False)
    cells = [(ch, u, v) for ch in range(c) for u in range(k) for v in range(k)]
    xs = [divmod(ch, cols)[1] * (k + 1) + v for ch, u, v in cells]
    ys = [divmod(ch, cols)[0] * (k + 1) + u for ch, u, v in cells]
    base = _diverging(grid)
    base["hoverinfo"] = "skip"
    points = {"type": "scatter", "mode": "markers", "x": xs, "y": ys, "customdata": [list(cell) for cell in cells],
              "text": [f"{g[cell]:.4g}" for cell in cells],
              "hovertemplate": "channel %{customdata[0]}, row %{customdata[1]}, col %{customdata[2]}: "
                               "g = %{text}<br>click to see its terms<extra></extra>",
              "marker": {"size": max(5, min(18, 260 // (grid.shape[0] or 1))), "symbol": "square", "color": PICK},
              "selected": {"marker": {"color": PICKED}}, "unselected": {"marker": {"opacity": 1}}}
    layout = _image_layout(f"∂L/∂{name}[{out}] (click a weight)", height)
    layout.update(dragmode=False, clickmode="event+select", showlegend=False)
    layout["xaxis"]["fixedrange"] = layout["yaxis"]["fixedrange"] = True
    if mark is not None:
        r, q = divmod(int(mark[0]), cols)
        top, left = r * (k + 1) + int(mark[1]), q * (k + 1) + int(mark[2])
        layout["shapes"] = [_box(top, top + 1, left, left + 1, "x", "y", width=3)]
    return _figure([base, points], layout)


def dense_gradient(s: Step, name: str, out: int, mark: int | None = None, height: int = 220) -> go.Figure:
    """The gradient of dense output `out`'s weights (one per input) as bars, each clickable."""
    g = s.grads[name][out].numpy()                            # (I,)
    colors = np.where(g >= 0, "#1f77b4", "#d62728").astype(object)
    if mark is not None and 0 <= mark < g.size:
        colors[mark] = RIGHT
    trace = {"type": "bar", "y": g, "marker": {"color": list(colors)},
             "hovertemplate": "input %{x}: g = %{y:.4g}<br>click to see its term<extra></extra>"}
    layout = {"title": {"text": f"∂L/∂{name}, output {out} (click a weight)"}, "height": height,
              "margin": {"l": 10, "r": 10, "t": 40, "b": 10}, "clickmode": "event+select", "dragmode": False}
    return _figure([trace], layout)


def term_maps(t: Terms, top: int = 8, height: int = 250) -> go.Figure:
    """Where a conv weight's gradient comes from: the input value it met at each output position, the gradient
    that came back there, and their product (the products add up to the gradient); the largest terms outlined."""
    if t.grid is None:
        raise ValueError(f"{t.name}: a dense weight has one term, no maps")
    rows, cols = t.grid
    items = [("input value it met", [_heatmap(t.inputs.reshape(rows, cols), MAPS)]),
             ("gradient that came back", [_diverging(t.upstream.reshape(rows, cols))]),
             ("product (Σ = its gradient)", [_diverging(t.products.reshape(rows, cols))])]
    fig = _row(items, height, font=12)
    order = np.argsort(-np.abs(t.products), kind="stable")[:top]
    fig.layout.shapes = [_box(i, i + 1, j, j + 1, "x3", "y3", width=2)
                         for i, j in (divmod(int(m), cols) for m in order)]
    return fig


def kernel_change(s: Step, name: str, out: int, height: int = 250) -> go.Figure:
    """Conv filter `out` before the step, after it, and the change (−lr × gradient), one tile per input channel."""
    before, after = s.before[name][out].double().numpy(), s.after[name][out].double().numpy()   # (C, k, k)
    cols = max(1, math.ceil(math.sqrt(before.shape[0])))
    limit = float(max(np.abs(before).max(), np.abs(after).max())) or 1.0
    items = [("before", [_heatmap(tile(before, cols=cols, normalize=False), WEIGHTS, -limit, limit)]),
             ("after", [_heatmap(tile(after, cols=cols, normalize=False), WEIGHTS, -limit, limit)]),
             ("change (its own scale)", [_diverging(tile(after - before, cols=cols, normalize=False))])]
    return _row(items, height, font=12)


def probabilities_change(s: Step, labels: tuple[str, ...], height: int = 250) -> go.Figure:
    """The same image's probabilities before the step and after it, side by side for every class."""
    before, after = s.probs_before.numpy(), s.probs_after.numpy()
    traces = [{"type": "bar", "name": name, "x": list(labels), "y": p, "marker": {"color": color},
               "hovertemplate": f"{name}: " + "%{x}: %{y:.2%}<extra></extra>"}
              for name, p, color in (("before", before, OTHER), ("after", after, AFTER))]
    layout = {"title": {"text": f"Probabilities, before → after (right: {labels[s.label]})"},
              "height": height, "margin": {"l": 10, "r": 10, "t": 40, "b": 10}, "barmode": "group",
              "xaxis": {"type": "category"}, "yaxis": {"range": [0, 1.05], "tickformat": ".0%"},
              "legend": {"orientation": "h", "y": 0.98, "x": 0.99, "xanchor": "right", "yanchor": "top"}}
    return _figure(traces, layout)


def loss_curve(losses: list[float], height: int = 250) -> go.Figure:
    """The loss on this one image after each step (0: before any); a log axis when it falls by 100x or more."""
    if not losses:
        raise ValueError("no losses to draw")
    y = np.asarray(losses, dtype=np.float64)
    trace = {"type": "scatter", "mode": "lines+markers", "x": list(range(len(y))), "y": y,
             "line": {"color": RIGHT}, "hovertemplate": "after step %{x}: loss %{y:.4g}<extra></extra>"}
    positive = y[y > 0]
    log = positive.size == y.size and y.max() / positive.min() >= 100
    layout = {"title": {"text": f"Loss on this image: {losses[0]:.3g} → {losses[-1]:.3g} in {len(y) - 1} steps"},
              "height": height, "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
              "xaxis": {"title": {"text": "steps"}, "dtick": 1}, "yaxis": {"type": "log" if log else "linear"}}
    return _figure([trace], layout)
