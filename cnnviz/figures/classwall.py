"""The class wall's pictures: one tile per student (thumbnail, name, answer, how sure) and the per-digit row.

Tiles are plain data for the Class page's small grid component, which builds its elements with textContent:
a nickname or a class name never becomes markup. The thumbnail is a PNG data URI of the 28x28 drawing
(the browser blows it up with image-rendering: pixelated).
"""
from __future__ import annotations

import numpy as np

from cnnviz import classwall
from cnnviz.figures.inline import data_uri, png
from cnnviz.text import printable


def kind(d: classwall.Drawing, target: str | None) -> str:
    """"wrong" (not the target), "unsure" (the Draw page said not sure), "right" (the target), else "plain"."""
    right = classwall.is_right(d, target)
    if right is False:
        return "wrong"
    if d.unsure:
        return "unsure"
    return "right" if right else "plain"


def tiles(drawings: list[classwall.Drawing], target: str | None) -> list[dict]:
    """The wall in its order (classwall.ordered): {id, src, name, answer, kind} per drawing, texts as typed."""
    names = classwall.names(drawings)
    out = []
    for d in classwall.ordered(drawings, target):
        out.append({"id": d.session, "src": data_uri(png(d.pixels.astype(np.float32) / 255.0)),
                    "name": printable(names[d.session]), "answer": f"{printable(d.answer)} · {d.confidence:.0%}",
                    "kind": kind(d, target)})
    return out
