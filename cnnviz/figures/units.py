"""Figures of "what a channel has learned": its strongest test images (the unit's receptive field
outlined), the patches that field saw, and the input grown to excite it."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from cnnviz.figures.draw import GRAY, _box, _heatmap, _row


def _suffix(k: int) -> str:
    return "" if k == 0 else str(k + 1)


def _with_boxes(fig: go.Figure, boxes: Sequence[tuple[int, int, int, int]]) -> go.Figure:
    fig.layout.shapes = [_box(*box, xref=f"x{_suffix(k)}", yref=f"y{_suffix(k)}") for k, box in enumerate(boxes)]
    return fig


def top_images(images: np.ndarray, captions: Sequence[str], boxes: Sequence[tuple[int, int, int, int]],
               height: int = 190) -> go.Figure:
    """(k, H, W) images in [0, 1] in a row, each captioned, the unit that fired most outlined on each."""
    if len(images) != len(captions) or len(images) != len(boxes):
        raise ValueError(f"{len(images)} images, {len(captions)} captions and {len(boxes)} boxes must match")
    items = [(caption, [_heatmap(np.asarray(im, dtype=np.float32), GRAY, 0, 1)]) for im, caption in
             zip(images, captions, strict=True)]
    return _with_boxes(_row(items, height, font=12), boxes)


def patches(crops: Sequence[np.ndarray], captions: Sequence[str], height: int = 150) -> go.Figure:
    """The parts of those images the unit saw (its receptive field), each enlarged to the same width."""
    items = [(caption, [_heatmap(np.asarray(c, dtype=np.float32), GRAY, 0, 1)]) for c, caption in
             zip(crops, captions, strict=True)]
    return _row(items, height, font=12)


def dream(pixels: np.ndarray, box: tuple[int, int, int, int], height: int = 220) -> go.Figure:
    """The grown input whole (the centre unit's receptive field outlined) and that field enlarged."""
    top, bottom, left, right = box
    whole = [_heatmap(np.asarray(pixels, dtype=np.float32), GRAY, 0, 1)]
    field = [_heatmap(np.asarray(pixels[top:bottom, left:right], dtype=np.float32), GRAY, 0, 1)]
    return _with_boxes(_row([("the whole 28×28 input", whole), ("what the unit sees", field)], height, font=12),
                       [box])
