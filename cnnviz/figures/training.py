"""Figures of a training run: live curves, confusion matrix, a labelled grid of digits, learned filters."""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from cnnviz.figures.common import heatmap, tile

TRAIN_COLOR, VAL_COLOR = "#1f77b4", "#ff7f0e"
RIGHT, WRONG = "#2ca02c", "#d62728"


def curves(history: Sequence, height: int = 320) -> go.Figure:
    """Loss and accuracy against epochs, train and held-out, side by side; `history` is a list of Progress."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("loss", "accuracy (%)"))
    x = [e.epoch for e in history]
    val = [e for e in history if e.val_loss is not None]
    xv = [e.epoch for e in val]
    fig.add_trace(go.Scatter(x=x, y=[e.loss for e in history], name="train", mode="lines",
                             line={"color": TRAIN_COLOR}, legendgroup="train"), 1, 1)
    fig.add_trace(go.Scatter(x=xv, y=[e.val_loss for e in val], name="held-out", mode="lines+markers",
                             line={"color": VAL_COLOR}, legendgroup="val"), 1, 1)
    fig.add_trace(go.Scatter(x=x, y=[e.train_accuracy for e in history], name="train", mode="lines",
                             line={"color": TRAIN_COLOR}, legendgroup="train", showlegend=False), 1, 2)
    fig.add_trace(go.Scatter(x=xv, y=[e.val_accuracy for e in val], name="held-out", mode="lines+markers",
                             line={"color": VAL_COLOR}, legendgroup="val", showlegend=False), 1, 2)
    fig.update_xaxes(title_text="epoch")
    fig.update_yaxes(type="log", row=1, col=1)
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.25))
    return fig


def confusion(matrix: np.ndarray, classes: Sequence[str], height: int = 420) -> go.Figure:
    """The confusion matrix as a heatmap with counts; rows = true class, columns = predicted."""
    matrix = np.asarray(matrix)
    fig = go.Figure(go.Heatmap(z=np.log1p(matrix), x=list(classes), y=list(classes), colorscale="Blues",
                               text=matrix, texttemplate="%{text}", showscale=False,
                               hovertemplate="true %{y}, predicted %{x}: %{text}<extra></extra>"))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10), title="confusion matrix")
    fig.update_xaxes(title_text="predicted", type="category", side="bottom")
    fig.update_yaxes(title_text="true", type="category", autorange="reversed", scaleanchor="x")
    return fig


def labelled_grid(images: np.ndarray, predicted: Sequence[int], true: Sequence[int], classes: Sequence[str],
                  cols: int = 8, gap: int = 4) -> go.Figure:
    """Digits (N, H, W) in [0, 1] tiled into ONE heatmap, each captioned 'pred (true)': green right, red wrong."""
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 3 or len(images) == 0:
        raise ValueError(f"labelled_grid needs (N, H, W) images with N >= 1, got shape {images.shape}")
    n, h, w = images.shape
    cols = min(cols, n)
    rows = math.ceil(n / cols)
    fig = heatmap(tile(images, cols=cols, gap=gap, normalize=False), colorscale="gray_r", zmin=0, zmax=1,
                  height=int(90 * rows + 40))
    for i, (p, t) in enumerate(zip(predicted, true)):
        r, c = divmod(i, cols)
        fig.add_annotation(x=c * (w + gap) + w / 2 - 0.5, y=r * (h + gap) - 1.5, showarrow=False,
                           text=f"{classes[p]} ({classes[t]})", font={"color": RIGHT if p == t else WRONG, "size": 12})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, range=[rows * (h + gap), -gap])
    fig.update_layout(margin=dict(l=5, r=5, t=25, b=5))
    return fig


def filters(kernels: np.ndarray, title: str = "first-layer filters") -> go.Figure:
    """Learned kernels (N, kH, kW), each scaled on its own, tiled into one heatmap."""
    kernels = np.asarray(kernels, dtype=np.float32)
    cols = min(len(kernels), 8)
    rows = math.ceil(len(kernels) / cols)
    fig = heatmap(tile(kernels, cols=cols, gap=1), title=title, colorscale="gray",
                  height=int(60 * rows * (kernels.shape[1] / 5) + 60))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig
