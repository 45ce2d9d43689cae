"""Calculator figures: the network's tensors as blocks that shrink and deepen; windows sliding along one row."""
from __future__ import annotations

import math
from dataclasses import dataclass

import plotly.graph_objects as go

from cnnviz import dims
from cnnviz.arch import Spec

SHAPE_CHANGING = ("conv", "maxpool", "avgpool", "flatten", "linear")
COLORS = {"input": "#94a3b8", "conv": "#3b82f6", "maxpool": "#f59e0b", "avgpool": "#f97316",
          "flatten": "#a855f7", "linear": "#10b981"}


@dataclass(frozen=True)
class Block:
    """One tensor drawn as a box: front face size (height), depth (channels), where it sits, what it is."""

    label: str
    kind: str
    shape: tuple[int, ...]
    x: float
    height: float
    depth: float
    hover: str


def blocks(spec: Spec, rows: list[dims.Row] | tuple[dims.Row, ...]) -> list[Block]:
    """Lay out the input and every shape-changing layer's output left to right (sizes on a gentle log scale)."""
    items = [("input", "input", spec.input_shape, "")]
    items += [(r.name, r.type, r.out_shape, f"<br>{r.params:,} parameters") for r in rows if r.type in SHAPE_CHANGING]
    max_hw = max(max(s[1:]) if len(s) == 3 else 1 for _, _, s, _ in items)
    max_c = max(s[0] for _, _, s, _ in items)
    out, x = [], 0.0
    for label, kind, shape, extra in items:
        if len(shape) == 3:
            height = 15 + 85 * math.sqrt(max(shape[1:]) / max_hw)
            depth = 4 + 40 * math.log2(shape[0] + 1) / math.log2(max_c + 1)
        else:  # a flat vector: a thin, tall bar
            height = min(100.0, 20 + 20 * math.log10(shape[0] + 1))
            depth = 3.0
        out.append(Block(label, kind, shape, x, height, depth,
                         f"<b>{label}</b> ({kind})<br>{dims.shape_str(shape)}{extra}"))
        x += 12 + depth * 0.8 + (height if len(shape) == 3 else 6) * 0.55 + 25
    return out


def network_blocks(spec: Spec, rows: list[dims.Row] | tuple[dims.Row, ...]) -> go.Figure:
    """The classic CNN picture: each tensor a box, front face ∝ H×W, depth ∝ channels, labelled C×H×W."""
    fig = go.Figure()
    for b in blocks(spec, rows):
        _box(fig, b)
    fig.update_layout(height=280, showlegend=False, margin=dict(l=10, r=10, t=10, b=10),
                      plot_bgcolor="white", hovermode="closest")
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, scaleanchor="x", range=[-72, 82])
    return fig


def _box(fig: go.Figure, b: Block) -> None:
    """Front face, top and side of a pseudo-3D box; hover on the front face."""
    w = b.height * 0.55 if len(b.shape) == 3 else 6.0
    h, dx, dy = b.height, b.depth * 0.8, b.depth * 0.5
    x0, y0 = b.x, -h / 2
    color = COLORS.get(b.kind, "#64748b")
    faces = [
        ([x0, x0 + w, x0 + w + dx, x0 + dx, x0], [y0 + h, y0 + h, y0 + h + dy, y0 + h + dy, y0 + h], 0.55),  # top
        ([x0 + w, x0 + w + dx, x0 + w + dx, x0 + w, x0 + w], [y0, y0 + dy, y0 + h + dy, y0 + h, y0], 0.75),  # side
        ([x0, x0 + w, x0 + w, x0, x0], [y0, y0, y0 + h, y0 + h, y0], 1.0),  # front
    ]
    for xs, ys, opacity in faces:
        fig.add_trace(go.Scatter(x=xs, y=ys, fill="toself", mode="lines", fillcolor=color, opacity=opacity,
                                 line=dict(color="#1e293b", width=1), hoverinfo="text", text=b.hover,
                                 hoveron="fills"))
    fig.add_annotation(x=x0 + w / 2, y=y0 - 4, text=f"{b.label}<br>{dims.shape_str(b.shape)}",
                       showarrow=False, yanchor="top", font=dict(size=11))


def sliding_windows(w: dims.Worked) -> go.Figure:
    """One row of the padded input, and every position the kernel window takes along it (stride, dilation, floor)."""
    fig = go.Figure()
    total = w.size + 2 * w.padding
    for i in range(total):
        pad = i < w.padding or i >= w.padding + w.size
        reached = i < total - w.lost
        fig.add_shape(type="rect", x0=i, x1=i + 0.95, y0=0, y1=0.95, line=dict(color="#334155", width=1),
                      fillcolor="#e2e8f0" if pad else ("#bfdbfe" if reached else "#fecaca"))
        fig.add_annotation(x=i + 0.47, y=0.47, text="0" if pad else str(i - w.padding), showarrow=False,
                           font=dict(size=10, color="#475569"))
    shown = min(w.out, 24)
    for o in range(shown):
        start = o * w.stride
        taps = [start + t * w.dilation for t in range(w.kernel_size)]
        y = -0.45 - 0.35 * o
        color = "#1d4ed8" if o % 2 == 0 else "#0891b2"
        fig.add_trace(go.Scatter(x=[t + 0.47 for t in taps], y=[y] * len(taps), mode="markers+lines",
                                 marker=dict(size=8, color=color), line=dict(width=1, color=color),
                                 hovertext=f"output {o}: input cells {taps[0] - w.padding}..{taps[-1] - w.padding}",
                                 hoverinfo="text"))
        fig.add_annotation(x=taps[-1] + 0.8, y=y, text=f"O[{o}]", showarrow=False, xanchor="left",
                           font=dict(size=10, color=color))
    fig.update_layout(height=max(160, 90 + 26 * shown), showlegend=False, margin=dict(l=10, r=10, t=10, b=10),
                      plot_bgcolor="white")
    fig.update_xaxes(visible=False, range=[-0.5, total + 0.5])
    fig.update_yaxes(visible=False, range=[-0.6 - 0.35 * shown, 1.1])
    return fig
