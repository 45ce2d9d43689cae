"""Figures of the draw page: preprocessing steps, feature maps per layer, kernels, probabilities, saliency.

Every layer's maps are tiled into one array (1-px NaN gaps) and drawn as one
Heatmap, many times faster than one subplot per map.

Why plain dicts and `_validate=False` here instead of `common.heatmap`: the page
builds a dozen figures per drawing within a tight budget, and plotly's property
validation (`update_layout`, `update_yaxes`, named colorscales) costs several
times what building the same figure from a dict without it does (the numbers:
docs/performance.md).
tests/test_page_draw.py re-validates every figure with `go.Figure(fig.to_dict())`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.colors import get_colorscale

from cnnviz.dims import Row, shape_str
from cnnviz.explain import Explanation, Field
from cnnviz.figures.common import tile
from cnnviz.probe import Look
from cnnviz.text import plotly as shown

# Colorscales resolved to lists here: without validation plotly would send a Python-only name
# such as "gray" to the browser as it is, and plotly.js would fall back to its default.
GRAY = get_colorscale("gray")
MAPS = get_colorscale("Viridis")
WEIGHTS = get_colorscale("RdBu")
SALIENCY = get_colorscale("Hot")
_MARGIN = {"l": 10, "r": 10, "t": 40, "b": 10}


def layer_title(name: str, shape: tuple[int, ...]) -> str:
    """'conv1 → 16×28×28' from the layer's name and its (C, H, W) or (F,) shape."""
    return f"{name} → {shape_str(shape)}"


def feature_maps(output: np.ndarray, title: str, height: int = 320) -> go.Figure:
    """One layer's output for one image: (C, H, W) maps tiled into one heatmap, (F,) values as bars."""
    output = np.asarray(output, dtype=np.float32)
    if output.ndim == 1:
        return bars(output, title, height=min(height, 220))
    if output.ndim != 3:
        raise ValueError(f"feature maps must be (C, H, W) or (F,), got shape {output.shape}")
    trace = _heatmap(tile(output), MAPS, hover=f"{title}<br>row %{{y}}, col %{{x}}<extra></extra>")
    return _figure([trace], _image_layout(title, height))


def kernels(weight: np.ndarray, title: str, height: int = 320) -> go.Figure:
    """Conv weights (O, I, k, k): one tiled heatmap, a row per output channel and a column per input channel.

    With a single input channel the O kernels are laid out in a square instead.
    Colours are shared and centred on 0 (red negative, blue positive).
    """
    weight = np.asarray(weight, dtype=np.float32)
    if weight.ndim != 4:
        raise ValueError(f"conv weights must be (O, I, k, k), got shape {weight.shape}")
    o, i, kh, kw = weight.shape
    if i == 1:
        grid = tile(weight[:, 0], normalize=False)
    else:
        grid = tile(weight.reshape(o * i, kh, kw), cols=i, normalize=False)
    limit = float(np.nanmax(np.abs(grid))) or 1.0
    trace = _heatmap(grid, WEIGHTS, zmin=-limit, zmax=limit, hover="weight %{z:.3g}<extra></extra>")
    return _figure([trace], _image_layout(title, height))


def one_map(image: np.ndarray, title: str, height: int = 360) -> go.Figure:
    """One feature map (H, W), large, with a colour bar and its values on hover."""
    trace = _heatmap(np.asarray(image, dtype=np.float32), MAPS, showscale=True)
    return _figure([trace], _image_layout(title, height, ticks=True))


def bars(values: np.ndarray, title: str, height: int = 220) -> go.Figure:
    """A flat layer's values (F,) as bars: blue positive, red negative."""
    values = np.asarray(values, dtype=np.float32).reshape(-1)
    colors = np.where(values >= 0, "#1f77b4", "#d62728")
    trace = {"type": "bar", "y": values, "marker": {"color": colors},
             "hovertemplate": "unit %{x}: %{y:.3g}<extra></extra>"}
    return _figure([trace], {"title": {"text": title}, "height": height, "margin": _MARGIN, "bargap": 0.1})


def probabilities(probs: np.ndarray, labels: tuple[str, ...], chosen: int, height: int = 260) -> go.Figure:
    """The class probabilities as bars, the predicted class highlighted in red."""
    probs = np.asarray(probs, dtype=np.float64).reshape(-1)
    trace = {"type": "bar", "x": [shown(n) for n in labels], "y": probs,  # a card's names: text, no HTML
             "marker": {"color": ["#ff4b4b" if k == chosen else "#8ea8c3" for k in range(probs.size)]},
             "text": [f"{p:.0%}" if p >= 0.01 else "" for p in probs], "textposition": "outside",
             "cliponaxis": False, "hovertemplate": "%{x}: %{y:.1%}<extra></extra>"}  # no "0%0%0%" under 1%
    layout = {"title": {"text": "Probabilities"}, "height": height, "margin": _MARGIN,
              "yaxis": {"range": [0, 1.15], "tickformat": ".0%"},
              "xaxis": {"type": "category", "dtick": 1, "tickangle": 0}}  # every class named, even when narrow
    return _figure([trace], layout)


def saliency_pair(pixels: np.ndarray, maps: list[tuple[str, np.ndarray]], height: int = 260) -> go.Figure:
    """Several saliency overlays of the same input side by side, each captioned: one figure."""
    return _row([(caption, _overlay(pixels, heat)) for caption, heat in maps], height, font=12)


def _overlay(pixels: np.ndarray, heat: np.ndarray) -> list[dict[str, Any]]:
    base = _heatmap(np.asarray(pixels, dtype=np.float32), GRAY, zmin=0, zmax=1)
    over = _heatmap(np.asarray(heat, dtype=np.float32), SALIENCY, zmin=0, zmax=1)
    over["opacity"] = 0.55
    return [base, over]


def _row(items: list[tuple[str, list[dict[str, Any]]]], height: int, font: int = 11) -> go.Figure:
    """Pictures in a row, each on its own axes with its caption above (no make_subplots: it is slow)."""
    n = len(items)
    if n == 0:
        raise ValueError("no pictures to show")
    data, layout = [], {"height": height, "margin": {"l": 5, "r": 5, "t": 45, "b": 5}, "annotations": []}
    for k, (caption, traces) in enumerate(items):
        suffix = "" if k == 0 else str(k + 1)
        data += [{**trace, "xaxis": f"x{suffix}", "yaxis": f"y{suffix}"} for trace in traces]
        layout[f"xaxis{suffix}"] = {"domain": [k / n + 0.01, (k + 1) / n - 0.01], "visible": False,
                                    "constrain": "domain"}
        layout[f"yaxis{suffix}"] = {"autorange": "reversed", "scaleanchor": f"x{suffix}", "visible": False}
        layout["annotations"].append({"text": caption.replace(" ", "<br>", 1), "x": (k + 0.5) / n, "y": 1.0,
                                      "xref": "paper", "yref": "paper", "yanchor": "bottom",
                                      "showarrow": False, "font": {"size": font}})
    return _figure(data, layout)


def _heatmap(z: np.ndarray, colorscale: list, zmin: float | None = None, zmax: float | None = None,
             showscale: bool = False, hover: str = "row %{y}, col %{x}: %{z:.3g}<extra></extra>") -> dict[str, Any]:
    trace = {"type": "heatmap", "z": z, "colorscale": colorscale, "showscale": showscale,
             "hovertemplate": hover}
    if zmin is not None:
        trace.update(zmin=zmin, zmax=zmax)
    return trace


def _image_layout(title: str, height: int, ticks: bool = False) -> dict[str, Any]:
    """Image axes: y downwards, square pixels, no grid."""
    return {"title": {"text": title}, "height": height, "margin": _MARGIN,
            "xaxis": {"showgrid": False, "zeroline": False, "constrain": "domain", "showticklabels": ticks},
            "yaxis": {"autorange": "reversed", "scaleanchor": "x", "showgrid": False, "zeroline": False,
                      "showticklabels": ticks}}


def _figure(data: list[dict[str, Any]], layout: dict[str, Any]) -> go.Figure:
    """A go.Figure from plain dicts, skipping plotly's per-property validation (the tests validate).

    Every colour here is explicit, so the figure carries an empty template: copying the default
    template into each new figure was a third of its construction time. (Streamlit's theme still
    styles fonts and backgrounds in the browser.)
    """
    return go.Figure({"data": data, "layout": {"template": {}, **layout}}, _validate=False)


@dataclass(frozen=True)
class LayerView:
    """One layer on the page: its output maps (or bars), the kernels that made them, or a note instead."""

    name: str
    title: str
    maps: go.Figure | None
    kernels: go.Figure | None
    note: str | None


def enlargeable(look: Look) -> dict[str, int]:
    """Layers whose output is a stack of maps: name -> number of maps."""
    return {row.name: row.out_shape[0] for row in look.rows if len(row.out_shape) == 3}


def layer_views(look: Look) -> list[LayerView]:
    """Every layer's figures (maps and kernels), one view per layer: the detail view. No saliency: that is a
    backward pass, made only where it is shown (panel_saliency)."""
    return [_layer_view(look, row) for row in look.rows]


def panel_saliency(look: Look, pixels: np.ndarray) -> go.Figure:
    """Grad-CAM (when the model has a conv layer) and the input gradient over the input, side by side (this
    runs the look's backward pass: Look.saliency)."""
    sal = look.saliency()
    name = shown(look.inspection.verdict.labels[sal.target])  # the class name (a digit, or an own class)
    maps = [(f"Grad-CAM for {name} ({sal.layer})", sal.grad_cam)] if sal.grad_cam is not None else []
    return saliency_pair(pixels, maps + [(f"input gradient for {name}", sal.input_gradient)])


def enlarged(look: Look, layer: str, index: int) -> go.Figure:
    """Map `index` of `layer`'s output, large; ValueError naming the valid range."""
    if layer not in enlargeable(look):
        raise ValueError(f"{layer!r} has no feature maps; choose one of {', '.join(enlargeable(look))}")
    maps = look.inspection.activations[layer][0]  # (C, H, W)
    if not 0 <= index < maps.shape[0]:
        raise ValueError(f"{layer} has maps 0..{maps.shape[0] - 1}, not {index}")
    return one_map(maps[index].numpy(), f"{layer}, map {index} ({maps.shape[1]}×{maps.shape[2]})")


def _layer_view(look: Look, row: Row) -> LayerView:
    title = layer_title(row.name, row.out_shape)
    if row.type == "dropout":
        return LayerView(row.name, title, None, None,
                         f"{row.name}: dropout is switched off when predicting, so its output equals its input.")
    output = look.inspection.activations[row.name][0].numpy()  # (C, H, W) or (F,)
    weight = look.kernels.get(row.name)
    kern = None
    if weight is not None:
        kern = kernels(weight, f"{row.name} kernels {shape_str(tuple(weight.shape))}")
    return LayerView(row.name, title, feature_maps(output, title), kern, None)


# ---- Inside the network: the click-to-explain figures (the overview itself: cnnviz/figures/overview.py) ----

PICK = "rgba(0,0,0,0)"         # clickable points are invisible until selected
PICKED = "rgba(255,75,75,0.9)"


def pick_map(image: np.ndarray, title: str, mark: tuple[int, int] | None = None, height: int = 330) -> go.Figure:
    """One map (H, W), large, with its values on hover and an invisible clickable point on every pixel."""
    image = np.asarray(image, dtype=np.float32)
    h, w = image.shape
    ys, xs = np.divmod(np.arange(h * w), w)
    base = _heatmap(image, MAPS, showscale=True)
    base["hoverinfo"] = "skip"
    points = {"type": "scatter", "mode": "markers", "x": xs, "y": ys, "customdata": image.reshape(-1).tolist(),
              "hovertemplate": "row %{y}, col %{x}: %{customdata:.4f}<br>click to explain<extra></extra>",
              "marker": {"size": max(4, min(16, 300 // max(h, w))), "symbol": "square", "color": PICK},
              "selected": {"marker": {"color": PICKED}}, "unselected": {"marker": {"opacity": 1}}}
    layout = _image_layout(title, height, ticks=True)
    layout.update(dragmode=False, clickmode="event+select", showlegend=False)
    layout["xaxis"]["fixedrange"] = layout["yaxis"]["fixedrange"] = True
    if mark is not None:
        layout["shapes"] = [_box(mark[0], mark[0] + 1, mark[1], mark[1] + 1, "x", "y", width=3)]
    return _figure([base, points], layout)


def _box(top: float, bottom: float, left: float, right: float, xref: str, yref: str,
         color: str = "#ff4b4b", width: int = 2) -> dict[str, Any]:
    """A rectangle around pixels rows [top, bottom), cols [left, right) of an image axis."""
    return {"type": "rect", "xref": xref, "yref": yref, "x0": left - 0.5, "x1": right - 0.5,
            "y0": top - 0.5, "y1": bottom - 0.5, "line": {"color": color, "width": width}}


def source_window(source: np.ndarray, e: Explanation, title: str, height: int = 300) -> go.Figure:
    """The layer's input maps (C, H, W) tiled, the window that made the unit outlined on every channel."""
    source = np.asarray(source, dtype=np.float32)
    if source.ndim == 2:
        source = source[None]
    n, h, w = source.shape
    cols = max(1, math.ceil(math.sqrt(n)))
    k = (e.patch if e.patch is not None else e.window[None]).shape[-1]
    span = e.dilation * (k - 1) + 1
    channels = range(n) if e.type == "conv" else [e.index[0]]
    shapes = [_box(r * (h + 1) + e.top, r * (h + 1) + e.top + span, c * (w + 1) + e.left,
                   c * (w + 1) + e.left + span, "x", "y") for r, c in (divmod(i, cols) for i in channels)]
    layout = _image_layout(title, height)
    layout["shapes"] = shapes
    return _figure([_heatmap(tile(source, cols=cols), MAPS, hover="row %{y}, col %{x}<extra></extra>")], layout)


def conv_arithmetic(e: Explanation, height: int = 260) -> go.Figure:
    """Input patch | kernel slice | products, one row of tiles per input channel; numbers in cells when few."""
    patch, weight, prod = (np.asarray(a, dtype=np.float32) for a in (e.patch, e.weights, e.products))
    n, k, _ = patch.shape
    cols = max(1, math.ceil(math.sqrt(n)))
    limit = float(np.abs(weight).max()) or 1.0
    plimit = float(np.abs(prod).max()) or 1.0
    items = [("input patch (every channel)", [_heatmap(tile(patch, cols=cols, normalize=False), MAPS)]),
             ("trained kernel", [_heatmap(tile(weight, cols=cols, normalize=False), WEIGHTS, -limit, limit)]),
             ("patch × kernel", [_heatmap(tile(prod, cols=cols, normalize=False), WEIGHTS, -plimit, plimit)])]
    if n == 1:  # one channel: write the numbers in the cells
        for _, traces in items:
            z = traces[0]["z"]
            traces[0].update(text=[[f"{v:.2f}" for v in row] for row in z], texttemplate="%{text}",
                             textfont={"size": 10})
    return _row(items, height)


def pool_window(e: Explanation, height: int = 220) -> go.Figure:
    """The pooling window with its numbers, the max (or every cell, for an average) outlined."""
    window = np.asarray(e.window, dtype=np.float64)
    shown = np.where(np.isfinite(window), window, np.nan)
    trace = _heatmap(shown, MAPS)
    trace.update(text=[["pad" if not np.isfinite(v) else f"{v:.3f}" for v in row] for row in window],
                 texttemplate="%{text}", textfont={"size": 13})
    layout = _image_layout(f"{e.layer}: {'max' if e.type == 'maxpool' else 'average'} of this window", height)
    if e.type == "maxpool":
        r, c = np.unravel_index(int(np.nanargmax(shown)), shown.shape)
        layout["shapes"] = [_box(r, r + 1, c, c + 1, "x", "y", width=3)]
    return _figure([trace], layout)


def contributions(e: Explanation, height: int = 260) -> go.Figure:
    """A linear unit's largest input × weight products as horizontal bars, then the rest and the bias."""
    names = [f"{t.source} ({t.input:.3g}×{t.weight:.3g})" for t in e.terms]
    values = [t.product for t in e.terms]
    names += [f"the other {e.n_rest}", "bias"]
    values += [e.rest or 0.0, e.bias or 0.0]
    trace = {"type": "bar", "orientation": "h", "x": values, "y": names,
             "marker": {"color": ["#1f77b4" if v >= 0 else "#d62728" for v in values]},
             "text": [f"{v:+.3f}" for v in values], "textposition": "auto",
             "hovertemplate": "%{y}: %{x:.4f}<extra></extra>"}
    layout = {"title": {"text": f"{e.layer}[{e.index[0]}]: contributions (input × weight)"}, "height": height,
              "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
              "yaxis": {"autorange": "reversed", "type": "category", "automargin": True}}
    return _figure([trace], layout)


def receptive(pixels: np.ndarray, field: Field, source: np.ndarray | None, source_box: tuple | None,
              height: int = 230) -> go.Figure:
    """The part of the 28x28 input (and of the original drawing) one unit can see, outlined."""
    items = [("what the network sees (28×28)", [_heatmap(np.asarray(pixels, np.float32), GRAY, 0, 1)])]
    boxes = [(field.top, field.bottom, field.left, field.right)]
    if source is not None and source_box is not None:
        items.append(("your drawing", [_heatmap(np.asarray(source, np.float32), GRAY, 0, 1)]))
        boxes.append(source_box)
    fig = _row(items, height)
    fig.layout.shapes = [_box(*b, f"x{'' if k == 0 else k + 1}", f"y{'' if k == 0 else k + 1}", width=3)
                         for k, b in enumerate(boxes)]
    return fig
