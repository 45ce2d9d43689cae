"""Draw's "Inside the network" overview as server-drawn pictures: a column per layer, each one PNG, plus the
probabilities as plain bars; the page's component lays them out and turns a click into (column, tile).

Why not a plotly figure: as one plotly figure (a heatmap and a scatter of invisible clickable points per column)
it cost the browser most of its CPU per stroke, and it was drawn even while folded on a phone
(bench/browser_cpu.py; the numbers: docs/performance.md). A few PNGs are decoded and scaled, nothing else.

Everything here is JSON-ready (the component's `data`): plain dicts, lists, numbers and strings; names (layers,
a card's class names) are text the component sets as text, never as HTML.
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np
from plotly.colors import get_colorscale, sample_colorscale

from cnnviz.dims import shape_str
from cnnviz.explain import Stage
from cnnviz.figures.common import tile
from cnnviz.figures.inline import data_uri, rgb_png
from cnnviz.probe import Look

CHOSEN, OTHER = "#ff4b4b", "#8ea8c3"   # the predicted class's bar and the others' (as the probabilities chart)
HEAD_PX = 48                           # room for a column's two-line heading above its picture


@lru_cache(maxsize=8)
def lut(name: str) -> np.ndarray:
    """Plotly's colorscale `name` sampled at 256 points: (256, 3) uint8, the colours plotly.js would paint."""
    rgb = sample_colorscale(get_colorscale(name), np.linspace(0.0, 1.0, 256).tolist())
    return np.array([[round(float(v)) for v in c[4:-1].split(",")] for c in rgb], dtype=np.uint8)


def coloured(values: np.ndarray, name: str, lo: float = 0.0, hi: float = 1.0) -> np.ndarray:
    """(H, W) values -> (H, W, 3) uint8 through colorscale `name` from `lo` to `hi` (NaN: white, a gap)."""
    values = np.asarray(values, dtype=np.float32)
    if values.ndim != 2 or values.size == 0:
        raise ValueError(f"coloured needs a non-empty (H, W) array, got shape {values.shape}")
    span = hi - lo if hi > lo else 1.0
    index = np.clip(np.nan_to_num((values - lo) / span, nan=0.0), 0.0, 1.0) * 255
    out = lut(name)[np.rint(index).astype(np.int64)]
    out[np.isnan(values)] = 255
    return out


def overview_cols(n: int, rows: int | None = None) -> int:
    """Tiles per row of a layer's column: about three times as tall as wide, so every column fits one screen;
    with `rows`, as few per row as `rows` rows allow (taller columns, bigger tiles: presenter mode)."""
    return max(1, math.ceil(n / rows) if rows else math.ceil(math.sqrt(n / 3)))


def _picture(heading: list[str], rgb: np.ndarray, share: float, square: bool, k: int, n: int, cols: int,
             tile_hw: tuple[int, int], gap: int, layer: str) -> dict[str, Any]:
    h, w = rgb.shape[:2]
    return {"kind": "picture", "heading": heading, "src": data_uri(rgb_png(rgb)), "share": share,
            "square": square, "k": k, "n": n, "cols": cols, "th": tile_hw[0], "tw": tile_hw[1], "gap": gap,
            "width": w, "height": h, "layer": layer, "labels": None, "mark": None}


def _stage_column(out: np.ndarray, k: int, stage: Stage, rows: int | None) -> dict[str, Any]:
    heading = [stage.layer, shape_str(stage.shape)]
    if out.ndim == 3:  # (C, H, W): the maps tiled, each scaled to [0, 1] on its own, 1-px gaps
        n, h, w = out.shape
        cols = overview_cols(n, rows)
        grid = tile(out, cols=cols)
        share = (cols * (w + 1) - 1) / (math.ceil(n / cols) * (h + 1) - 1)
        return _picture(heading, coloured(grid, "Viridis"), share, True, k, n, cols, (h, w), 1, stage.layer)
    values = out.reshape(-1)  # (F,): a strip of cells, one per unit, centred on 0
    limit = float(np.abs(values).max()) or 1.0
    column = _picture(heading, coloured(values.reshape(-1, 1), "RdBu", -limit, limit), 0.12 if rows else 0.22,
                      False, k, values.size, 1, (1, 1), 0, stage.layer)
    column["labels"] = [f"{stage.layer} unit {i}: {v:.3g}" for i, v in enumerate(values)]
    return column


def _bars(probs: np.ndarray, labels: tuple[str, ...], chosen: int, share: float, pick_k: int | None) -> dict:
    probs = np.asarray(probs, dtype=np.float64).reshape(-1)
    rows = [{"label": str(labels[i]), "width": round(float(p) * 100, 2),
             "text": f"{p:.0%}" if p >= 0.01 else "", "colour": CHOSEN if i == chosen else OTHER}
            for i, p in enumerate(probs)]
    return {"kind": "bars", "heading": ["probabilities", ""], "share": share, "rows": rows, "k": pick_k}


def overview(look: Look, pixels: np.ndarray, stages: list[Stage], height: int = 420, rows: int | None = None,
             picked: tuple[int, int] | None = None, font_px: int = 12) -> dict[str, Any]:
    """The whole network, a column per layer: the input, every stage's maps tiled (after its activation), the
    probabilities. `rows` (presenter mode): map columns at most that many tiles tall, the input and the bars
    narrower, so the maps get the width. `picked` (column k, tile i) is outlined, as is the winning unit of a
    flat last stage. Columns' `k` index `stages`; a click on a bar picks that unit of the last stage when it
    is flat (its logit)."""
    acts, verdict = look.inspection.activations, look.inspection.verdict
    side = (0.45, 0.6) if rows else (0.7, 1.1)  # width shares of the input and of the probabilities
    pixels = np.asarray(pixels, dtype=np.float32)
    columns = [_picture(["input", shape_str(tuple(pixels.shape))], coloured(pixels, "gray"), side[0], True,
                        -1, 0, 1, pixels.shape, 0, "input")]
    for k, stage in enumerate(stages):
        columns.append(_stage_column(acts[stage.shown][0].numpy(), k, stage, rows))
    if stages and len(stages[-1].shape) == 1:  # the output layer: its winning unit outlined, like its bar
        columns[-1]["mark"] = verdict.index
    flat_last = len(stages) - 1 if stages and len(stages[-1].shape) == 1 else None
    columns.append(_bars(look.inspection.probs, verdict.labels, verdict.index, side[1], flat_last))
    return {"height": height - HEAD_PX, "font": font_px, "columns": columns,
            "picked": list(picked) if picked is not None else None}

