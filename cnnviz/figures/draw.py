"""Figures of the draw page: preprocessing steps, feature maps per layer, kernels, probabilities, saliency.

Every layer's maps are tiled into one array (1-px NaN gaps) and drawn as one
Heatmap: ~7 ms for 48 maps, where one subplot per map takes ~119 ms.

Why plain dicts and `_validate=False` here instead of `common.heatmap`: the page
builds a dozen figures per drawing within a 25 ms budget. Plotly's property
validation (`update_layout`, `update_yaxes`, named colorscales) costs 3-14 ms
per figure; building the same figure from a dict without it costs ~1 ms.
tests/test_page_draw.py re-validates every figure with `go.Figure(fig.to_dict())`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.colors import get_colorscale

from cnnviz.dims import Row, shape_str
from cnnviz.figures.common import tile
from cnnviz.probe import Look

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
    trace = {"type": "bar", "x": list(labels), "y": probs,
             "marker": {"color": ["#ff4b4b" if k == chosen else "#8ea8c3" for k in range(probs.size)]},
             "text": [f"{p:.0%}" for p in probs], "textposition": "outside",
             "hovertemplate": "%{x}: %{y:.1%}<extra></extra>"}
    layout = {"title": {"text": "Probabilities"}, "height": height, "margin": _MARGIN,
              "yaxis": {"range": [0, 1.15], "tickformat": ".0%"}, "xaxis": {"type": "category"}}
    return _figure([trace], layout)


def saliency_overlay(pixels: np.ndarray, heat: np.ndarray, title: str, height: int = 300) -> go.Figure:
    """The 28x28 input in grey with a saliency map (H, W) in [0, 1] laid over it, half transparent."""
    return _figure(_overlay(pixels, heat), _image_layout(title, height))


def saliency_pair(pixels: np.ndarray, maps: list[tuple[str, np.ndarray]], height: int = 260) -> go.Figure:
    """Several saliency overlays of the same input side by side, each captioned: one figure."""
    return _row([(caption, _overlay(pixels, heat)) for caption, heat in maps], height, font=12)


def steps_strip(steps: list[tuple[str, np.ndarray]], height: int = 210) -> go.Figure:
    """The preprocessing steps side by side at their own resolution: one heatmap per step on its own axes."""
    return _row([(caption, [_heatmap(np.asarray(image, dtype=np.float32), GRAY)]) for caption, image in steps],
                height)


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


@dataclass(frozen=True)
class Panel:
    """All figures for one model on one drawing."""

    probabilities: go.Figure
    saliency: go.Figure         # Grad-CAM (when the model has a conv layer) and input gradient, side by side
    layers: list[LayerView]


def enlargeable(look: Look) -> dict[str, int]:
    """Layers whose output is a stack of maps: name -> number of maps."""
    return {row.name: row.out_shape[0] for row in look.rows if len(row.out_shape) == 3}


def panel(look: Look, pixels: np.ndarray) -> Panel:
    """Build every figure for one model's look at the 28x28 `pixels`."""
    result, sal = look.inspection, look.saliency
    maps = [(f"Grad-CAM ({sal.layer})", sal.grad_cam)] if sal.grad_cam is not None else []
    maps.append(("input gradient", sal.input_gradient))
    layers = [_layer_view(look, row) for row in look.rows]
    probs = probabilities(result.probs, result.verdict.labels, result.verdict.index)
    return Panel(probs, saliency_pair(pixels, maps), layers)


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
