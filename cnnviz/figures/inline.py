"""Pictures inlined into HTML (PNG data URIs): cheap to redraw, for what changes often and needs no hover.

The trainer's live view changes every second while a run trains. As plotly figures (a heatmap with 16
annotations, another for the filters) each refresh cost the browser and the server ~0.6 of a core on a 2-core
machine (bench/train_inapp.py), time taken from the training itself. Here the 16 digits are small PNGs with an
HTML caption each and the filters one PNG: the browser only swaps a few pictures and some text. The Draw page's
preprocessing strip is a row of PNGs for the same reason: it is redrawn on every stroke, right after the answer.
"""
from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Sequence

import numpy as np
from PIL import Image

from cnnviz.figures.common import tile

RIGHT, WRONG = "#15803d", "#b91c1c"  # green-700 / red-700: readable on white from the back of a room
NOTE = "#64748b"  # slate-500: Streamlit's caption grey


def png(pixels: np.ndarray, scale: int = 1) -> bytes:
    """A grey picture (H, W) in [0, 1] (NaN: white gap) as PNG bytes, each pixel `scale` x `scale`."""
    pixels = np.asarray(pixels, dtype=np.float32)
    if pixels.ndim != 2 or pixels.size == 0 or scale < 1:
        raise ValueError(f"png needs a non-empty (H, W) picture and scale >= 1, got {pixels.shape}, scale {scale}")
    grey = np.where(np.isnan(pixels), 1.0, np.clip(pixels, 0.0, 1.0))
    img = (grey * 255).round().astype(np.uint8)
    if scale > 1:
        img = img.repeat(scale, axis=0).repeat(scale, axis=1)
    out = io.BytesIO()
    Image.fromarray(img, mode="L").save(out, format="PNG")
    return out.getvalue()


def rgb_png(rgb: np.ndarray) -> bytes:
    """A colour picture (H, W, 3) uint8 as PNG bytes."""
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.size == 0 or rgb.dtype != np.uint8:
        raise ValueError(f"rgb_png needs a non-empty (H, W, 3) uint8 picture, got {rgb.shape} {rgb.dtype}")
    out = io.BytesIO()
    Image.fromarray(rgb, mode="RGB").save(out, format="PNG")
    return out.getvalue()


def auto_png(picture: np.ndarray, scale: int = 1) -> bytes:
    """PNG bytes of (H, W) values of any range, scaled from their own min (black) to max (white), as plotly does."""
    picture = np.asarray(picture, dtype=np.float32)
    if picture.ndim != 2 or picture.size == 0:
        raise ValueError(f"auto_png needs a non-empty (H, W) picture, got shape {picture.shape}")
    finite = picture[np.isfinite(picture)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    return png((picture - lo) / (hi - lo) if hi > lo else np.zeros_like(picture), scale)


def picture_row(items: list[tuple[str, np.ndarray]], height_px: int = 96, font_px: int = 13) -> str:
    """Pictures side by side, each `height_px` tall with its caption under it: [(caption, (H, W) array)]."""
    if not items:
        raise ValueError("no pictures to show")
    cells = []
    for caption, picture in items:
        picture = np.asarray(picture, dtype=np.float32)
        scale = max(1, -(-height_px // max(picture.shape[0], 1)))  # a 28 px digit is blown up, not blurred
        cells.append(f"<figure><img alt='{html.escape(caption, quote=True)}' "
                     f"src='{data_uri(auto_png(picture, scale if scale <= 4 else 4))}'>"
                     f"<figcaption>{html.escape(caption)}</figcaption></figure>")
    style = (f"<style>.cnnviz-row{{display:flex;gap:10px;align-items:flex-start;flex-wrap:wrap}} "
             f".cnnviz-row figure{{margin:0;display:flex;flex-direction:column;align-items:center}} "
             f".cnnviz-row img{{height:{height_px}px;image-rendering:pixelated;border:1px solid #cbd5e1}} "
             f".cnnviz-row figcaption{{font-size:{font_px}px;line-height:1.2;text-align:center;max-width:"
             f"{height_px + 20}px}}</style>")
    return style + "<div class='cnnviz-row'>" + "".join(cells) + "</div>"


def data_uri(png_bytes: bytes) -> str:
    """PNG bytes as a data: URI for an <img> tag."""
    return "data:image/png;base64," + base64.b64encode(png_bytes).decode("ascii")


def captions(frame, classes: Sequence[str]) -> list[tuple[str, bool]]:
    """Each grid digit's caption, '7 93%', and whether the guess is right."""
    return [(f"{classes[int(p)]} {float(c):.0%}", int(p) == int(t))
            for p, c, t in zip(frame.predicted, frame.confidence, frame.labels)]


def guess_grid(images: np.ndarray, frame, classes: Sequence[str], cols: int = 8, font_px: int = 15,
               cell_px: int = 56) -> str:
    """The live grid as HTML: each digit (N, H, W in [0, 1], ink dark on white) over its caption, green / red."""
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 3 or len(images) != len(frame.predicted):
        raise ValueError(f"guess_grid needs one (H, W) picture per guess, got {images.shape} for "
                         f"{len(frame.predicted)} guesses")
    cells = []
    for picture, (text, right) in zip(images, captions(frame, classes)):
        colour, mark = (RIGHT, "right") if right else (WRONG, "wrong")
        cells.append(f"<div class='cnnviz-cell'><img alt='test digit' src='{data_uri(png(1.0 - picture))}'>"
                     f"<span class='cnnviz-{mark}' style='color:{colour}'>{html.escape(text)}</span></div>")
    style = (f"<style>.cnnviz-grid{{display:grid;grid-template-columns:repeat({cols},minmax(0,{cell_px}px));"
             f"gap:6px 10px;margin:0.25rem 0 0.5rem 0}} .cnnviz-cell{{display:flex;flex-direction:column;"
             f"align-items:center}} .cnnviz-cell img{{width:100%;max-width:{cell_px}px;image-rendering:pixelated;"
             f"border:1px solid #cbd5e1}} .cnnviz-cell span{{font-size:{font_px}px;font-weight:700;"
             f"line-height:1.2;white-space:nowrap}}</style>")
    return style + "<div class='cnnviz-grid'>" + "".join(cells) + "</div>"


def filters_picture(kernels: np.ndarray, cols: int = 8, cell_px: int = 40) -> np.ndarray:
    """Kernels (N, kH, kW) tiled, each scaled to [0, 1] on its own, blown up to ~`cell_px` px: (H, W) in [0, 1]."""
    kernels = np.asarray(kernels, dtype=np.float32)
    if kernels.ndim != 3 or len(kernels) == 0:
        raise ValueError(f"filters_picture needs (N, kH, kW) kernels, got shape {kernels.shape}")
    scale = max(1, math.ceil(cell_px / max(kernels.shape[1:])))
    big = kernels.repeat(scale, axis=1).repeat(scale, axis=2)
    return tile(big, cols=min(cols, len(kernels)), gap=2)  # tile scales each kernel to [0, 1] on its own


def filters_html(kernels: np.ndarray, cols: int = 8, height_px: int = 110) -> str:
    """The filters picture as one <img>, `height_px` tall (white = strong positive weight, black = negative)."""
    picture = filters_picture(kernels, cols)
    return (f"<img alt='first-layer filters' src='{data_uri(png(picture))}' "
            f"style='height:{height_px}px;max-width:100%;object-fit:contain;image-rendering:pixelated'>")


def note(text: str, font_px: int = 14) -> str:
    """A grey caption line, as st.caption draws it."""
    return (f"<div class='cnnviz-note' style='color:{NOTE};font-size:{font_px}px;margin:0.25rem 0'>"
            f"{html.escape(text)}</div>")


def live_panel(frame, images: np.ndarray, classes: Sequence[str], filters_note: str, font_px: int = 15) -> str:
    """The live view's right half as HTML: how many grid digits are right, the grid, the first layer's filters.

    `frame` is a snapshots.Frame (None until the first arrives: a note says what is coming).
    """
    if frame is None:
        return note("The digits and filters appear with the first batches…", font_px - 1)
    head = (f"<div class='cnnviz-head' style='font-size:{font_px + 1}px;margin-bottom:0.25rem'><b>{frame.right} of "
            f"{len(frame.labels)} test digits right</b> · its guess · confidence (batch {frame.batch:,})</div>")
    out = head + guess_grid(images, frame, classes, font_px=font_px)
    if frame.filters is not None:
        out += note(filters_note, font_px - 1) + filters_html(frame.filters)
    return out


def columns(*parts: str, min_px: int = 340) -> str:
    """HTML side by side in equal columns, which stack when the page is narrower than `min_px` per column."""
    if not parts:
        raise ValueError("columns needs at least one part")
    cells = "".join(f"<div style='flex:1 1 {min_px}px;min-width:0'>{p}</div>" for p in parts)
    return f"<div class='cnnviz-columns' style='display:flex;flex-wrap:wrap;gap:1rem 2rem'>{cells}</div>"
