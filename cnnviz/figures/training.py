"""Figures of a training run: live curves, confusion matrix, a labelled grid of digits.

The live digits and filters are drawn by inline.py."""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from cnnviz.evaluate import percent_text
from cnnviz.figures.common import heatmap, tile
from cnnviz.text import plotly as shown

TRAIN_COLOR, VAL_COLOR = "#1f77b4", "#ff7f0e"
TRAIN_NAME, VAL_NAME = "train (last few batches)", "held-out"  # VAL_NAME: when the events do not say how many
RIGHT, WRONG = "#2ca02c", "#d62728"


def log_ticks(lo: float, hi: float) -> list[float]:
    """Readable ticks for a log axis from `lo` to `hi`: 1-2-5 per decade (1-2-3-5-7 for a narrow range)."""
    if not (0 < lo <= hi and math.isfinite(hi)):
        raise ValueError(f"log_ticks needs 0 < lo <= hi, got lo={lo!r}, hi={hi!r}")
    decades = range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)
    if len(decades) > 5:  # a blow-up towards 1e30: powers of ten only, about six of them
        return [10.0 ** d for d in decades[::math.ceil(len(decades) / 6)] if lo <= 10.0 ** d <= hi]
    for mantissas in ((1, 2, 5), (1, 1.5, 2, 3, 5, 7), (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8, 9)):
        ticks = [float(f"{m * 10.0 ** d:.6g}") for d in decades for m in mantissas]
        inside = [t for t in ticks if lo <= t <= hi]
        if len(inside) >= 3:
            return inside
    return inside


def val_name(total: int | None, what: str = "test images") -> str:
    """The held-out curve's name with its real count: 'held-out (1,000 test images)', '4 held-out drawings'."""
    if total is None:
        return VAL_NAME
    return f"{total:,} {what}" if what.startswith(VAL_NAME) else f"{VAL_NAME} ({total:,} {what})"


def run_epochs(history: Sequence) -> float:
    """How many epochs the whole run will take, from its latest progress event."""
    last = history[-1]
    return last.total_batches * last.epoch / max(last.batch, 1)


def linear_ticks(lo: float, hi: float, most: int = 6) -> list[float]:
    """Round ticks (steps of 1, 2 or 5 times a power of ten) from `lo` to `hi`, at most `most` of them."""
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi and most >= 2):
        raise ValueError(f"linear_ticks needs finite lo < hi and most >= 2, got lo={lo!r}, hi={hi!r}, most={most!r}")
    power = 10.0 ** math.floor(math.log10((hi - lo) / most))
    count = lambda step: math.floor(hi / step + 1e-9) - math.ceil(lo / step - 1e-9) + 1  # noqa: E731
    step = next(m * power for m in (1, 2, 5, 10, 20, 50, 100) if count(m * power) <= most)
    first = math.ceil(lo / step - 1e-9)
    return [float(f"{k * step:.10g}") for k in range(first, math.floor(hi / step + 1e-9) + 1)]


@dataclass(frozen=True)
class CurvePlan:
    """What the loss and accuracy curves show, drawn by plotly (`curves`) or as SVG (`figures/svg.py`)."""
    loss_title: str
    acc_title: str
    x: list[float]               # epochs of the training events
    loss: list[float]            # may hold NaN/inf: a blow-up
    acc: list[float]
    xv: list[float]              # epochs of the held-out evaluations
    val_loss: list[float]
    val_acc: list[float]
    epochs: float                # the x axis spans the whole run: 0 .. epochs
    loss_range: tuple[float, float]  # (lo, hi) of the log loss axis, in loss units
    loss_ticks: list[float]
    acc_range: tuple[float, float]   # percent
    broken: list[float]          # epochs where the loss was NaN/inf (marked at the top of the loss axis)
    val_name: str = VAL_NAME     # the held-out curve's name, with its count when the events carry it


def curve_plan(history: Sequence) -> CurvePlan:
    """Titles, series, axis ranges and ticks of the curves for `history` (>= 1 Progress)."""
    if not history:
        raise ValueError("curves needs at least one progress event; show a placeholder until the first arrives")
    val = [e for e in history if e.val_loss is not None]
    loss, val_loss = [e.loss for e in history], [e.val_loss for e in val]  # loss may end in NaN/inf: a blow-up
    acc, val_acc = [e.train_accuracy for e in history], [e.val_accuracy for e in val]
    peak = max((v for v in loss if math.isfinite(v)), default=math.nan)
    loss_title = f"loss: {history[0].loss:.3g} → {history[-1].loss:.3g}" + (
        f" (peak {peak:,.3g})" if peak > 2 * max(loss[0], 1e-9) else "")
    acc_title = f"accuracy: {history[-1].train_accuracy:.1f}%" + (_held_out_title(val[-1]) if val else "")
    total = getattr(val[-1], "val_total", None) if val else None
    finite = [v for v in loss + val_loss if math.isfinite(v)] or [1.0]
    lo, hi = max(min(finite), 1e-6) / 1.3, max(finite) * 1.3
    accs = [a for a in acc + val_acc if math.isfinite(a)] or [0.0]
    return CurvePlan(loss_title, acc_title, [e.epoch for e in history], loss, acc, [e.epoch for e in val],
                     val_loss, val_acc, run_epochs(history), (lo, hi), log_ticks(lo, hi),
                     (max(0.0, min(accs) - 5), 101.0), [e.epoch for e in history if not math.isfinite(e.loss)],
                     val_name(total, getattr(val[-1], "val_what", "test images")) if val else VAL_NAME)


def _held_out_title(event) -> str:
    """' (held-out 98.5%)': with only the decimals its count justifies when the event carries the count (named in
    the legend: the title stays short enough for half a projector's width)."""
    total = getattr(event, "val_total", None)
    if not total:
        return f" (held-out {event.val_accuracy:.1f}%)"
    return f" (held-out {percent_text(round(event.val_accuracy * total / 100), total)})"


def curves(history: Sequence, height: int = 340) -> go.Figure:
    """Loss (log axis, 1-2-5 ticks) and accuracy against epochs, train and held-out; `history` is >= 1 Progress.

    The x axis spans the whole run, so the curves grow left to right as it trains.
    """
    plan = curve_plan(history)
    fig = make_subplots(rows=1, cols=2, subplot_titles=(plan.loss_title, plan.acc_title), horizontal_spacing=0.1)
    hover = "epoch %{x:.2f}: %{y:.3g}<extra>%{fullData.name}</extra>"
    for col, ys, yv in ((1, plan.loss, plan.val_loss), (2, plan.acc, plan.val_acc)):
        fig.add_trace(go.Scatter(x=plan.x, y=ys, name=TRAIN_NAME, mode="lines", hovertemplate=hover,
                                 line={"color": TRAIN_COLOR, "width": 2.5}, legendgroup="train",
                                 showlegend=col == 1), 1, col)
        fig.add_trace(go.Scatter(x=plan.xv, y=yv, name=plan.val_name, mode="lines+markers",
                                 hovertemplate=hover, line={"color": VAL_COLOR, "width": 2.5},
                                 legendgroup="val", showlegend=col == 1 and bool(plan.xv)), 1, col)
    lo, hi = plan.loss_range
    if plan.broken:  # a NaN/inf has no place on a log axis: mark where the loss left the chart
        fig.add_trace(go.Scatter(x=plan.broken, y=[hi / 1.15] * len(plan.broken), mode="markers+text",
                                 marker={"symbol": "x", "size": 14, "color": WRONG}, text=["NaN"] * len(plan.broken),
                                 textposition="middle left", textfont={"color": WRONG}, name="loss is NaN",
                                 hoverinfo="skip", showlegend=False), 1, 1)
    fig.update_xaxes(title_text="epoch", range=[0, plan.epochs])
    fig.update_yaxes(type="log", range=[math.log10(lo), math.log10(hi)], tickvals=plan.loss_ticks,
                     tickformat="~g", minor={"showgrid": False}, row=1, col=1)
    fig.update_yaxes(range=list(plan.acc_range), ticksuffix="%", row=1, col=2)
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10), font={"size": 14},
                      legend=dict(orientation="h", y=-0.28))
    fig.update_annotations(font_size=16)  # the subplot titles
    return fig


def confusion(matrix: np.ndarray, classes: Sequence[str], height: int = 460) -> go.Figure:
    """The confusion matrix as a heatmap with counts; rows = true class, columns = predicted."""
    matrix, names = np.asarray(matrix), [shown(c) for c in classes]  # an own dataset's names: text, no HTML
    fig = go.Figure(go.Heatmap(z=np.log1p(matrix), x=names, y=names, colorscale="Blues",
                               text=matrix, texttemplate="%{text}", textfont={"size": 13}, showscale=False,
                               xgap=1, ygap=1, hovertemplate="true %{y}, predicted %{x}: %{text}<extra></extra>"))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10), font={"size": 14},
                      title="confusion matrix: how often each true class was predicted as each class",
                      title_font_size=15, plot_bgcolor="white")
    axis = dict(type="category", showgrid=False, zeroline=False, ticks="", constrain="domain")
    fig.update_xaxes(title_text="predicted", side="bottom", **axis)
    fig.update_yaxes(title_text="true", autorange="reversed", scaleanchor="x", **axis)
    return fig


def labelled_grid(images: np.ndarray, predicted: Sequence[int], true: Sequence[int], classes: Sequence[str],
                  cols: int = 8, gap: int = 6, captions: Sequence[str] | None = None) -> go.Figure:
    """Digits (N, H, W) in [0, 1] tiled into ONE heatmap, each captioned 'pred (true)': green right, red wrong."""
    captions = captions or [shown(f"{classes[p]} ({classes[t]})") for p, t in zip(predicted, true)]
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 3 or len(images) == 0:
        raise ValueError(f"labelled_grid needs (N, H, W) images with N >= 1, got shape {images.shape}")
    n, h, w = images.shape
    cols = min(cols, n)
    rows = math.ceil(n / cols)
    fig = heatmap(tile(images, cols=cols, gap=gap, normalize=False), colorscale="gray_r", zmin=0, zmax=1,
                  height=int(100 * rows + 40))
    for i, (p, t, text) in enumerate(zip(predicted, true, captions)):
        r, c = divmod(i, cols)
        fig.add_annotation(x=c * (w + gap) + w / 2 - 0.5, y=r * (h + gap) - 2.5, showarrow=False, text=text,
                           font={"color": RIGHT if p == t else WRONG, "size": 15, "weight": "bold"})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, range=[rows * (h + gap), -gap])
    fig.update_layout(margin=dict(l=5, r=5, t=25, b=5))
    return fig
