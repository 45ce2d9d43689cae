"""cnnviz.figures.classwall: the wall's tiles, in the wall's order, with the drawing itself as the picture."""
from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

from cnnviz import classwall
from cnnviz.figures import classwall as figs


def _d(session, answer, confidence, unsure=False, joined=0.0, name=""):
    pixels = np.random.default_rng(int(joined)).integers(0, 256, (28, 28), dtype=np.uint8)
    return classwall.Drawing(session, name, pixels, answer, confidence, unsure, joined, joined)


def test_tiles_follow_the_walls_order_and_mark_wrong_unsure_right():
    ds = [_d("a", "7", 0.99, joined=1), _d("b", "1", 0.95, joined=2), _d("c", "7", 0.4, True, joined=3)]
    t = figs.tiles(ds, "7")
    assert [x["id"] for x in t] == ["b", "c", "a"] and [x["kind"] for x in t] == ["wrong", "unsure", "right"]
    assert t[0]["answer"] == "1 · 95%" and t[0]["name"] == "student 2"
    assert [x["kind"] for x in figs.tiles(ds, None)] == ["unsure", "plain", "plain"]


def test_the_tile_picture_is_the_drawing_and_names_stay_text():
    d = _d("a", "7", 0.5, joined=4, name="<img src=x onerror=alert(1)>")
    [tile] = figs.tiles([d], None)
    assert tile["name"] == "<img src=x onerror=alert(1)>"  # shown with textContent by the page's grid: inert
    raw = base64.b64decode(tile["src"].split(",", 1)[1])
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(raw))), d.pixels)
