"""Building blocks for figures: tiling many maps into one array, one-trace heatmaps."""
from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go


def tile(maps: np.ndarray, cols: int | None = None, gap: int = 1, normalize: bool = True) -> np.ndarray:
    """Tile (N, H, W) maps into one (rows*(H+gap)-gap, cols*(W+gap)-gap) array with NaN gaps.

    One Heatmap of the tiled array draws many times faster than N subplots (docs/performance.md).
    With `normalize`, each map is scaled to [0, 1] on its own so faint maps stay visible.
    """
    maps = np.asarray(maps, dtype=np.float32)
    if maps.ndim != 3:
        raise ValueError(f"tile needs (N, H, W) maps, got shape {maps.shape}")
    n, h, w = maps.shape
    cols = cols or max(1, math.ceil(math.sqrt(n)))
    rows = math.ceil(n / cols)
    if normalize:
        lo = maps.reshape(n, -1).min(axis=1)[:, None, None]
        hi = maps.reshape(n, -1).max(axis=1)[:, None, None]
        maps = (maps - lo) / np.where(hi - lo > 0, hi - lo, 1.0)
    out = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap), np.nan, dtype=np.float32)
    for i in range(n):
        r, c = divmod(i, cols)
        out[r * (h + gap): r * (h + gap) + h, c * (w + gap): c * (w + gap) + w] = maps[i]
    return out


def heatmap(array: np.ndarray, title: str = "", colorscale: str = "gray", text: bool = False,
            zmin: float | None = None, zmax: float | None = None, height: int = 300,
            showscale: bool = False) -> go.Figure:
    """One image as a Heatmap, y axis downwards like an image, square pixels; `text` writes each value in its cell.

    Built from plain dicts in one constructor call: update_* chains re-validate and cost several times more.
    """
    array = np.asarray(array, dtype=np.float64)
    trace = {"type": "heatmap", "z": array, "colorscale": colorscale, "zmin": zmin, "zmax": zmax,
             "showscale": showscale, "hovertemplate": "row %{y}, col %{x}: %{z:.3g}<extra></extra>"}
    if text:
        trace["text"] = np.vectorize(lambda v: "" if np.isnan(v) else f"{v:.3g}")(array)
        trace.update(texttemplate="%{text}", textfont={"size": 11})
    layout = {"title": {"text": title}, "height": height,
              "margin": {"l": 10, "r": 10, "t": 40 if title else 10, "b": 10},
              "yaxis": {"autorange": "reversed", "scaleanchor": "x", "showgrid": False, "zeroline": False},
              "xaxis": {"showgrid": False, "zeroline": False, "constrain": "domain"}}
    return go.Figure({"data": [trace], "layout": layout}, skip_invalid=False)
