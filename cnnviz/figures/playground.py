"""Figures of the convolution playground: pictures with padding and the sliding window, kernels, worked pixels.

Speed (bench/playground_latency.py, numbers in docs/performance.md): a 512x512 map as a Heatmap sends
~262k numbers of JSON, so big pictures go to the browser as one JPEG (go.Image with a data URI, far
cheaper to encode than a PNG); small ones, whose numbers matter, are Heatmaps with every value written
in its cell. Figures are built in one go.Figure(...) call: each later update_layout re-validates.
"""
from __future__ import annotations

import base64
import io

import numpy as np
import plotly.graph_objects as go
from PIL import Image

from cnnviz.figures.common import tile
from cnnviz.ops import PixelExplanation, PoolExplanation, Window

SMALL_SIDE = 40     # at most this many pixels a side: a Heatmap with hover values
TEXT_SIDE = 16      # at most this many: every value written in its cell
KERNEL_WIDTH = 185  # px: the kernel figure's own width on the page. Streamlit draws a plotly chart at least
                    # 150 px wide and cuts off what its column cannot hold (the right column of the kernel was
                    # lost in a 121 px column); 185 px fits a square kernel at the playground's 235 px height
WINDOW_COLOUR = "#f59e0b"
PAD_COLOUR = "#2563eb"
# diverging: negative blue, 0 white, positive red (RdBu reversed)
_STOPS = np.array([[33, 102, 172], [146, 197, 222], [247, 247, 247], [244, 165, 130], [178, 24, 43]], float)
_LUT = np.stack([np.interp(np.linspace(0, len(_STOPS) - 1, 255), np.arange(len(_STOPS)), _STOPS[:, ch])
                 for ch in range(3)], axis=1).round().astype(np.uint8)  # (255, 3): entry 127 is 0, white
DIVERGING = [[i / (len(_STOPS) - 1), "rgb({:.0f},{:.0f},{:.0f})".format(*c)] for i, c in enumerate(_STOPS)]


def value_range(a: np.ndarray, robust: bool = False) -> tuple[float, float, bool]:
    """(zmin, zmax, signed): symmetric around 0 when there are negatives, else min..max (never empty).

    With `robust`, a few extreme pixels may not wash the rest out: when the 99.5th percentile of |a|
    is under half the maximum, the scale ends there (the extremes saturate).
    """
    finite = a[~np.isnan(a)] if np.isnan(a).any() else a.ravel()
    lo, hi = float(finite.min()), float(finite.max())
    top = max(-lo, hi)
    if robust and finite.size > SMALL_SIDE ** 2:
        q = float(np.percentile(np.abs(finite), 99.5))
        if 0 < q < top / 2:
            lo, hi, top = max(lo, -q), min(hi, q), q
    if lo < 0:
        return -top, top, True
    return lo, hi if hi > lo else lo + 1.0, False


def colourize(array: np.ndarray, rng: tuple[float, float, bool] | None = None) -> np.ndarray:
    """(H, W[, 3]) floats -> (H, W, 3) uint8 for display; NaN -> white.

    RGB is clipped to [0, 1]; a map with negatives gets the diverging scale
    symmetric around 0, others grey from min (black) to max (white); big maps use the
    robust range of value_range (see legend()); pass `rng` when it is already known.
    """
    a = np.asarray(array, dtype=np.float32)
    nan = np.isnan(a) if a.ndim == 2 else np.isnan(a).any(axis=2)
    has_nan = bool(nan.any())
    if a.ndim == 3:
        rgb = ((np.nan_to_num(a) if has_nan else a).clip(0.0, 1.0) * 255.0).round().astype(np.uint8)
    else:
        lo, hi, signed = rng or value_range(a, robust=True)
        filled = np.where(nan, lo, a) if has_nan else a
        if signed:  # -top .. 0 .. top -> 0 .. 127 .. 254
            rgb = _LUT[(filled * (127.0 / hi)).round().clip(-127, 127).astype(np.int16) + 127]
        else:
            index = ((filled - lo) * (255.0 / (hi - lo))).round().clip(0, 255).astype(np.uint8)
            rgb = np.repeat(index[..., None], 3, axis=2)
    if has_nan:
        rgb[nan] = 255
    return rgb


def legend(array: np.ndarray, rng: tuple[float, float, bool] | None = None) -> str:
    """What colourize's colours mean, in one line: 'black = 0, white = 1' or 'blue = -4, white = 0, red = 4'."""
    a = np.asarray(array, dtype=np.float32)
    if a.ndim == 3:
        return "RGB, values clipped to [0, 1]"
    lo, hi, signed = rng or value_range(a, robust=True)
    real_lo, real_hi = float(np.nanmin(a)), float(np.nanmax(a))
    low = f"{lo:.3g}" if real_lo >= lo else f"≤ {lo:.3g} (min {real_lo:.3g})"
    high = f"{min(hi, real_hi):.3g}" if real_hi <= hi else f"≥ {hi:.3g} (max {real_hi:.3g})"
    return f"blue = {low}, white = 0, red = {high}" if signed else f"black = {low}, white = {high}"


def jpeg_uri(rgb: np.ndarray) -> str:
    """(H, W, 3) uint8 -> 'data:image/jpeg;base64,...' (quality 92, no chroma subsampling)."""
    buf = io.BytesIO()
    Image.fromarray(rgb, "RGB").save(buf, format="JPEG", quality=92, subsampling=0)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _layout(title: str, height: int, reversed_y: bool = True, **extra) -> dict:
    return dict(title=dict(text=title, font=dict(size=14)), height=height, margin=dict(l=10, r=10, t=60, b=10),
                yaxis=dict(autorange="reversed" if reversed_y else True, scaleanchor="x", showgrid=False,
                           zeroline=False),
                xaxis=dict(showgrid=False, zeroline=False, constrain="domain"), **extra)


def _cell_text(a: np.ndarray, pad: np.ndarray | None = None, pad_text: str = "0", digits: int = 3) -> np.ndarray:
    # + 0.0: no "-0"
    text = np.array([[("" if np.isnan(v) else f"{v + 0.0:.{digits}g}") for v in row] for row in a], dtype=object)
    if pad is not None:
        text[~pad] = f"{pad_text}<br>pad"
    return text


def _map_trace(shown: np.ndarray, y0: int, x0: int,
               rng: tuple[float, float, bool] | None = None) -> go.Heatmap | go.Image:
    """The trace of one picture: a Heatmap (small grey), go.Image of pixels (small RGB) or of a JPEG (big)."""
    small = max(shown.shape[:2]) <= SMALL_SIDE
    if small and shown.ndim == 2:
        lo, hi, signed = value_range(shown)
        text = _cell_text(shown) if max(shown.shape) <= TEXT_SIDE else None
        return go.Heatmap(z=shown, x0=x0, y0=y0, zmin=lo, zmax=hi, showscale=False,
                          colorscale=DIVERGING if signed else "gray", text=text,
                          texttemplate="%{text}" if text is not None else None,
                          hovertemplate="row %{y}, col %{x}: %{z:.4g}<extra></extra>")
    rgb = colourize(shown, rng)
    if small:
        return go.Image(z=rgb, x0=x0, y0=y0, hovertemplate="row %{y}, col %{x}<extra></extra>")
    return go.Image(source=jpeg_uri(rgb), x0=x0, y0=y0, hoverinfo="x+y")


def picture(array: np.ndarray, title: str = "", padding: int = 0, window: Window | None = None,
            height: int = 420, zoom: int = 0) -> go.Figure:
    """A picture or feature map with its zero padding drawn and, optionally, a window's taps outlined.

    Axes are the input's own pixel coordinates: padding cells sit at -1, -2, ... and H, H+1, ...
    With `zoom` > 0 and a window on a big picture, only the window and `zoom` cells around it are shown,
    so their numbers can be read.
    """
    a = np.asarray(array, dtype=np.float32)
    h, w = a.shape[:2]
    shown = np.pad(a, [(padding, padding), (padding, padding)] + [(0, 0)] * (a.ndim - 2)) if padding else a
    top, left = 0, 0
    zoomed = bool(zoom) and window is not None and max(shown.shape[:2]) > SMALL_SIDE
    if zoomed:
        top, bottom = _span(window.rows, padding, zoom, shown.shape[0])
        left, right = _span(window.cols, padding, zoom, shown.shape[1])
        shown = shown[top:bottom, left:right]
    rng = value_range(shown, robust=True) if shown.ndim == 2 else None  # once, for the colours and the legend
    shapes, traces = [], [_map_trace(shown, top - padding, left - padding, rng)]
    if padding:
        shapes.append(dict(type="rect", x0=-0.5, y0=-0.5, x1=w - 0.5, y1=h - 0.5,
                           line=dict(color=PAD_COLOUR, width=2, dash="dash")))
    if window is not None:
        shapes.append(_window_rect(window))
        if _gapped(window) or max(shown.shape[:2]) > SMALL_SIDE:  # a tiny window on a big picture needs a marker
            traces.append(_window_taps(window))
    sub = f"{h}x{w}" + (f" + zero padding {padding} (dashed: the picture's edge)" if padding else "")
    if zoomed:
        sub += f", zoomed to rows {top - padding}..{top - padding + shown.shape[0] - 1}"
    layout = _layout(f"{title}<br><sup>{sub}; {legend(shown, rng)}</sup>", height, shapes=shapes, showlegend=False)
    if zoomed:  # fixed ranges, or the (unclipped) padding rectangle would zoom the axes back out
        layout["xaxis"]["range"] = [left - padding - 0.5, left - padding + shown.shape[1] - 0.5]
        layout["yaxis"].update(range=[top - padding + shown.shape[0] - 0.5, top - padding - 0.5], autorange=False)
    return go.Figure(traces, layout=layout)


def _span(taps: tuple[int, ...], padding: int, margin: int, size: int) -> tuple[int, int]:
    """[start, stop) in padded-array indices: the taps plus `margin` cells each side, kept inside."""
    return max(0, taps[0] + padding - margin), min(size, taps[-1] + padding + margin + 1)


def _window_rect(win: Window) -> dict:
    return dict(type="rect", x0=win.cols[0] - 0.5, y0=win.rows[0] - 0.5, x1=win.cols[-1] + 0.5,
                y1=win.rows[-1] + 0.5, line=dict(color=WINDOW_COLOUR, width=3))


def _gapped(win: Window) -> bool:
    return len(win.rows) > 1 and win.rows[1] - win.rows[0] > 1


def _window_taps(win: Window) -> go.Scatter:
    """A marker on every tap when dilation leaves gaps, else one big marker so a tiny window stays visible."""
    gapped = _gapped(win)
    rr, cc = np.meshgrid(win.rows, win.cols, indexing="ij")
    x = cc.ravel() if gapped else [(win.cols[0] + win.cols[-1]) / 2]
    y = rr.ravel() if gapped else [(win.rows[0] + win.rows[-1]) / 2]
    return go.Scatter(x=x, y=y, mode="markers", hoverinfo="skip",
                      marker=dict(symbol="square-open", size=10 if gapped else 18, color=WINDOW_COLOUR,
                                  line=dict(width=2)))


def kernel_figure(kernel: np.ndarray, title: str = "Kernel", height: int = 260) -> go.Figure:
    """The kernel's weights as a diverging heatmap with every number written in."""
    k = np.asarray(kernel, dtype=np.float64)
    top = float(np.abs(k).max()) or 1.0
    trace = go.Heatmap(z=k, zmin=-top, zmax=top, colorscale=DIVERGING, showscale=False, text=_cell_text(k),
                       texttemplate="%{text}", hovertemplate="%{z:.6g}<extra></extra>")
    layout = _layout(f"{title} {k.shape[0]}x{k.shape[1]}", height)
    layout["xaxis"]["showticklabels"] = layout["yaxis"]["showticklabels"] = False
    return go.Figure(trace, layout=layout)


def channels_figure(channels: np.ndarray, names: tuple[str, ...] = ("R", "G", "B"), height: int = 300) -> go.Figure:
    """Each channel's response side by side, on one shared colour scale (so their sizes compare)."""
    maps = np.moveaxis(np.asarray(channels, dtype=np.float32), 2, 0)  # (C, Ho, Wo)
    tiled = tile(maps, cols=maps.shape[0], gap=max(1, maps.shape[2] // 40), normalize=False)
    labels = " | ".join(names[: maps.shape[0]])
    return picture(tiled, title=f"Each channel's response ({labels}); their sum is the output", height=height)


def _blocks(ex: PixelExplanation) -> list[tuple[np.ndarray, np.ndarray | None]]:
    """(values, inside-mask) per block, row-major: for each channel patch, kernel, products."""
    patch = ex.patch if ex.patch.ndim == 3 else ex.patch[..., None]  # (k, k, C)
    products = ex.products if ex.products.ndim == 3 else ex.products[..., None]
    kern = ex.kernel if ex.kernel.ndim == 3 else np.repeat(ex.kernel[..., None], patch.shape[2], axis=2)
    return [b for c in range(patch.shape[2])
            for b in ((patch[..., c], ex.window.inside), (kern[..., c], None), (products[..., c], None))]


def explain_figure(ex: PixelExplanation, names: tuple[str, ...] = ("R", "G", "B"), cell: int = 52,
                   digits: int = 3) -> go.Figure:
    """patch × kernel = products, one row per input channel, as one tiled Heatmap with every number written in.

    Colours are scaled per block (each block's own largest |value| is full colour); the text is the real value,
    to `digits` significant digits (2 leaves room for a projector's bigger numbers).
    """
    blocks = _blocks(ex)
    k = blocks[0][0].shape[0]
    norm = np.stack([b / (np.abs(b).max() or 1.0) for b, _ in blocks])  # (3C, k, k) in [-1, 1]
    c = len(blocks) // 3
    z = tile(norm, cols=3, gap=1, normalize=False)
    text = tile(np.zeros_like(norm), cols=3, gap=1, normalize=False).astype(object)
    real = tile(np.stack([b for b, _ in blocks]), cols=3, gap=1, normalize=False)
    for i, (values, pad) in enumerate(blocks):
        r, col = divmod(i, 3)
        text[r * (k + 1): r * (k + 1) + k, col * (k + 1): col * (k + 1) + k] = _cell_text(values, pad, digits=digits)
    text[np.isnan(real)] = ""
    trace = go.Heatmap(z=z, text=text, texttemplate="%{text}", customdata=real, zmin=-1, zmax=1, showscale=False,
                       colorscale=DIVERGING, hovertemplate="%{customdata:.6g}<extra></extra>", xgap=1, ygap=1)
    notes = []
    for r in range(c):
        label = f"{names[r]}: " if c > 1 else ""
        y = r * (k + 1) + (k - 1) / 2
        notes += [dict(x=k, y=y, text="×", showarrow=False, font=dict(size=22)),
                  dict(x=2 * k + 1, y=y, text="=", showarrow=False, font=dict(size=22))]
        notes.append(dict(x=3 * k + 1.5, y=y, text=f"{label}sum {ex.channel_sums[r]:.4g}", showarrow=False,
                          xanchor="left"))
    layout = _layout(f"patch × kernel = products; their sum {ex.total:.4g} is the output pixel",
                     cell * (c * (k + 1)) + 80, annotations=notes)
    layout["xaxis"].update(showticklabels=False, range=[-0.5, 3 * k + 8])
    layout["yaxis"].update(showticklabels=False)
    return go.Figure(trace, layout=layout)


def pool_figure(ex: PoolExplanation, channel: int = 0, height: int = 260) -> go.Figure:
    """The pooling window's numbers; for max the winning cell is outlined."""
    values = ex.values if ex.values.ndim == 2 else ex.values[..., channel]
    shown = np.where(ex.window.inside, values, np.nan)
    lo, hi, _ = value_range(np.nan_to_num(shown, nan=0.0))
    text = _cell_text(np.nan_to_num(shown), ex.window.inside, "-∞" if ex.kind == "max" else "0")
    trace = go.Heatmap(z=shown, zmin=lo, zmax=hi, colorscale="gray", showscale=False, text=text,
                       texttemplate="%{text}", hovertemplate="%{z:.6g}<extra></extra>")
    shapes = []
    if ex.kind == "max":
        i, j = ex.argmax[channel]
        shapes.append(dict(type="rect", x0=j - 0.5, y0=i - 0.5, x1=j + 0.5, y1=i + 0.5,
                           line=dict(color=WINDOW_COLOUR, width=4)))
    layout = _layout(f"{ex.kind} of the window = {ex.result[channel]:.4g}", height, shapes=shapes)
    layout["xaxis"]["showticklabels"] = layout["yaxis"]["showticklabels"] = False
    return go.Figure(trace, layout=layout)
