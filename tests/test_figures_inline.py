"""cnnviz.figures.live: the trainer's live view as HTML and PNGs (cheap to redraw every second)."""
from __future__ import annotations

import base64
import io
import re

import numpy as np
import pytest
from PIL import Image

from cnnviz.figures import inline as live
from cnnviz.snapshots import Frame

CLASSES = [str(d) for d in range(10)]


def _decode(uri: str) -> np.ndarray:
    assert uri.startswith("data:image/png;base64,")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))))


def test_png_round_trips_a_picture_scaled_up_with_nan_as_white_gaps():
    pixels = np.array([[0.0, 1.0], [0.5, np.nan]], dtype=np.float32)
    img = np.asarray(Image.open(io.BytesIO(live.png(pixels, scale=3))))
    assert img.shape == (6, 6) and img.dtype == np.uint8
    assert img[0, 0] == 0 and img[0, 5] == 255 and img[5, 0] == 128 and img[5, 5] == 255
    with pytest.raises(ValueError, match="scale"):
        live.png(pixels, scale=0)
    with pytest.raises(ValueError):
        live.png(np.zeros((0, 3)))


def test_guess_grid_shows_every_digit_over_its_caption_green_right_red_wrong():
    images = np.zeros((3, 28, 28), dtype=np.float32)
    images[1, 10:18, 12:16] = 1.0  # ink
    frame = Frame(10, 0.1, None, np.array([7, 3, 1]), np.array([0.93, 0.41, 0.5], dtype=np.float32),
                  np.array([7, 2, 1]))
    html = live.guess_grid(images, frame, CLASSES, cols=8, font_px=20)
    cells = re.findall(r"<img alt='test digit' src='([^']+)'><span class='cnnviz-(\w+)' style='color:([^']+)'>"
                       r"([^<]+)</span>", html)
    assert [(mark, colour, text) for _, mark, colour, text in cells] == [
        ("right", live.RIGHT, "7 93%"), ("wrong", live.WRONG, "3 41%"), ("right", live.RIGHT, "1 50%")]
    second = _decode(cells[1][0])
    assert second.shape == (28, 28) and second[14, 14] == 0 and second[0, 0] == 255  # ink dark on white
    assert "font-size:20px" in html and "repeat(8," in html


def test_guess_grid_escapes_class_names_and_refuses_a_mismatch():
    frame = Frame(1, 0.0, None, np.array([0]), np.array([0.5], dtype=np.float32), np.array([0]))
    html = live.guess_grid(np.zeros((1, 28, 28)), frame, ["<b>circle</b>"])
    assert "<b>circle" not in html and "&lt;b&gt;circle&lt;/b&gt; 50%" in html
    with pytest.raises(ValueError, match="one"):
        live.guess_grid(np.zeros((2, 28, 28)), frame, CLASSES)


def test_filters_picture_scales_each_kernel_on_its_own_and_tiles_them():
    kernels = np.stack([np.arange(25, dtype=np.float32).reshape(5, 5), -100 * np.eye(5, dtype=np.float32)])
    pic = live.filters_picture(kernels, cols=8, cell_px=40)  # 5 -> 40 px: 8x each side
    assert pic.shape == (40, 40 * 2 + 2)
    first, second = pic[:, :40], pic[:, 42:]
    assert first.min() == 0.0 and first.max() == 1.0 and second.min() == 0.0 and second.max() == 1.0
    assert np.isnan(pic[:, 40:42]).all()  # the gap
    assert second[0, 0] == 0.0 and second[0, 8] == 1.0  # -100 on the diagonal: dark; 0 elsewhere: light
    uri = re.search(r"src='([^']+)'", live.filters_html(kernels)).group(1)
    assert _decode(uri).shape == pic.shape
    with pytest.raises(ValueError):
        live.filters_picture(np.zeros((0, 5, 5)))


def test_auto_png_scales_from_min_to_max_like_plotly():
    img = np.asarray(Image.open(io.BytesIO(live.auto_png(np.array([[-0.4, 2.8], [1.2, np.nan]])))))
    assert img[0, 0] == 0 and img[0, 1] == 255 and img[1, 0] == 128 and img[1, 1] == 255
    flat = np.asarray(Image.open(io.BytesIO(live.auto_png(np.full((2, 2), 3.0)))))
    assert (flat == 0).all()  # one value everywhere: black, not a division by zero


def test_picture_row_blows_small_pictures_up_and_captions_each():
    steps = [("ink 280×280", np.random.default_rng(0).random((140, 140))), ("centred 28×28", np.eye(28)),
             ("<script>", np.eye(3))]
    row = live.picture_row(steps, height_px=84, font_px=18)
    uris = re.findall(r"src='([^']+)'", row)
    assert [_decode(u).shape for u in uris] == [(140, 140), (28 * 3, 28 * 3), (12, 12)]  # at most 4x, pixelated
    assert re.findall(r"<figcaption>([^<]+)</figcaption>", row) == ["ink 280×280", "centred 28×28", "&lt;script&gt;"]
    assert "height:84px" in row and "font-size:18px" in row and "<script>" not in row
    with pytest.raises(ValueError):
        live.picture_row([])


def test_live_panel_heads_the_grid_with_the_count_and_adds_the_filters():
    images = np.zeros((3, 28, 28), dtype=np.float32)
    frame = Frame(1234, 0.5, np.zeros((4, 5, 5), dtype=np.float32), np.array([7, 3, 1]),
                  np.array([0.9, 0.4, 0.5], dtype=np.float32), np.array([7, 2, 1]))
    html = live.live_panel(frame, images, CLASSES, "filters <here>", font_px=20)
    assert "<b>2 of 3 test digits right</b>" in html and "(batch 1,234)" in html
    assert html.count("alt='test digit'") == 3 and "alt='first-layer filters'" in html
    assert "filters &lt;here&gt;" in html  # a note is text, escaped
    waiting = live.live_panel(None, images, CLASSES, "filters")
    assert "appear with the first batches" in waiting and "<img" not in waiting


def test_columns_sit_side_by_side_and_wrap_when_narrow():
    html = live.columns("<p>a</p>", "<p>b</p>", min_px=300)
    assert html.count("flex:1 1 300px") == 2 and "flex-wrap:wrap" in html and html.index("a") < html.index("b")
    with pytest.raises(ValueError, match="at least one"):
        live.columns()
