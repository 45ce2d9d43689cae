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


# Budget of the sliding-window diagram: past these sizes it summarises (first and last cells / windows
# and a count) instead of drawing thousands of shapes (W=300 took ~17-40 s of plotly building before).
MAX_CELLS, HEAD_CELLS, TAIL_CELLS = 60, 40, 14
MAX_WINDOWS, HEAD_WINDOWS, TAIL_WINDOWS = 16, 10, 4
GAP = 3.0  # width of the "…" column standing for the cells left out


@dataclass(frozen=True)
class WindowView:
    """What the diagram draws: padded-row cells and output windows (indices), the hidden run, and a note."""

    cells: tuple[int, ...]
    windows: tuple[int, ...]
    hidden: tuple[int, int] | None   # [start, end) of the cells left out, None when all are drawn
    note: str | None


def window_view(w: dims.Worked) -> WindowView:
    """Choose what to draw: everything when small, else the first and last cells and windows, with a note."""
    total = w.size + 2 * w.padding
    hidden = None
    cells = tuple(range(total))
    if total > MAX_CELLS:
        hidden = (HEAD_CELLS, total - TAIL_CELLS)
        cells = tuple(range(HEAD_CELLS)) + tuple(range(total - TAIL_CELLS, total))
    windows = tuple(range(w.out))
    if w.out > MAX_WINDOWS:
        windows = tuple(range(HEAD_WINDOWS)) + tuple(range(w.out - TAIL_WINDOWS, w.out))
    parts = []
    if hidden:
        parts.append(f"the first {HEAD_CELLS} and last {TAIL_CELLS} of the {total:,} cells of the padded row")
    if len(windows) < w.out:
        parts.append(f"the first {HEAD_WINDOWS} and last {TAIL_WINDOWS} of the {w.out:,} window positions")
    note = ("Summarised: showing " + " and ".join(parts) + " (… marks what is left out).") if parts else None
    return WindowView(cells, windows, hidden, note)


def sliding_windows(w: dims.Worked) -> go.Figure:
    """One row of the padded input and the positions the kernel window takes (summarised past a size:
    see window_view)."""
    view = window_view(w)
    total = w.size + 2 * w.padding

    def x_of(i: int) -> float:  # cell index -> x; a hidden cell sits in the middle of the "…" gap
        if view.hidden is None or i < view.hidden[0]:
            return float(i)
        if i >= view.hidden[1]:
            return view.hidden[0] + GAP + (i - view.hidden[1])
        return view.hidden[0] + GAP / 2 - 0.5

    shapes, notes = [], []
    for i in view.cells:
        pad = i < w.padding or i >= w.padding + w.size
        x = x_of(i)
        shapes.append(dict(type="rect", x0=x, x1=x + 0.95, y0=0, y1=0.95, line=dict(color="#334155", width=1),
                           fillcolor="#e2e8f0" if pad else ("#bfdbfe" if i < total - w.lost else "#fecaca")))
        notes.append(dict(x=x + 0.47, y=0.47, text="0" if pad else str(i - w.padding), showarrow=False,
                          font=dict(size=10, color="#475569")))
    if view.hidden:
        notes.append(dict(x=x_of(view.hidden[0]) + 0.47, y=0.47, showarrow=False, font=dict(size=11),
                          text=f"… {view.hidden[1] - view.hidden[0]:,} …"))
    fig = go.Figure()
    for row, o in enumerate(view.windows):
        taps = [o * w.stride + t * w.dilation for t in range(w.kernel_size)]
        y = -0.45 - 0.35 * row
        color = "#1d4ed8" if o % 2 == 0 else "#0891b2"
        shown = [t for t in taps if view.hidden is None or not view.hidden[0] <= t < view.hidden[1]]
        fig.add_trace(go.Scatter(x=[x_of(t) + 0.47 for t in taps], y=[y] * len(taps), mode="lines",
                                 line=dict(width=1, color=color), hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=[x_of(t) + 0.47 for t in shown], y=[y] * len(shown), mode="markers",
                                 marker=dict(size=8, color=color), hoverinfo="text",
                                 hovertext=f"output {o}: input cells {taps[0] - w.padding}..{taps[-1] - w.padding}"))
        notes.append(dict(x=x_of(taps[-1]) + 0.8, y=y, text=f"O[{o}]", showarrow=False, xanchor="left",
                          font=dict(size=10, color=color)))
    n = len(view.windows)
    fig.update_layout(shapes=shapes, annotations=notes, height=max(160, 90 + 26 * n), showlegend=False,
                      margin=dict(l=10, r=10, t=10, b=10), plot_bgcolor="white")
    fig.update_xaxes(visible=False, range=[-0.5, x_of(total - 1) + 2.5])
    fig.update_yaxes(visible=False, range=[-0.6 - 0.35 * n, 1.1])
    return fig
