"""cnnviz.preprocess: canvas / upload -> MNIST-like 28x28, checked with real MNIST digits and the shipped model."""
from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from cnnviz import preprocess
from cnnviz.preprocess import EmptyInput, from_upload, to_mnist
from cnnviz.preprocess import render_canvas as render

CANVAS = 280


# name -> (scale, top, left, thicken): a 28x28 digit's ink is ~20 px, so scale 3 draws it ~60 px tall.
PLACEMENTS = {
    "full canvas": (10, 0, 0, 0),
    "small, top-left corner": (3, 0, 0, 0),
    "small, bottom-right corner": (3, CANVAS - 84, CANVAS - 84, 0),
    "large, edges cut": (12, -28, -28, 0),
    "off-centre": (5, 150, 20, 0),
    "thick strokes": (8, 28, 28, 6),
}


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """Thousands of tiny per-image ops: on a busy 2-core machine OpenMP's spinning makes 2 threads ~10x slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def mnist_test():
    from cnnviz import data
    split = data.load("mnist", "test", download=False)
    return split.raw()[:, 0].numpy(), split.labels.numpy()


@pytest.fixture(scope="module")
def tutorial_a():
    from cnnviz import checkpoints
    model, card = checkpoints.load("tutorial_a")
    return model, card.normalize


def _accuracy(model, inputs: torch.Tensor, labels: np.ndarray) -> float:
    with torch.no_grad():
        return float((model(inputs).argmax(1).numpy() == labels).mean())


@pytest.mark.slow
def test_canvas_digits_classified_nearly_as_well_as_originals(mnist_test, tutorial_a):
    # Measured with the shipped tutorial_a on the first 300 test digits: originals 99.3%; drawn on the
    # canvas 99.0% in every placement, except thick strokes 96.0% (on 1,000 digits: 99.1% originals,
    # 99.0-99.2% drawn, 96.6% thick). Floors: 1.5 points below the originals, 5 for thick strokes.
    model, norm = tutorial_a
    pixels, labels = mnist_test[0][:300], mnist_test[1][:300]
    original = _accuracy(model, (torch.from_numpy(pixels)[:, None] - norm[0]) / norm[1], labels)
    assert original >= 0.98
    for name, (scale, top, left, thicken) in PLACEMENTS.items():
        batch = torch.cat([to_mnist(render(p, scale, top, left, thicken), norm).tensor for p in pixels])
        drawn = _accuracy(model, batch, labels)
        floor = original - (0.05 if thicken else 0.015)
        assert drawn >= floor, f"{name}: {drawn:.1%} drawn vs {original:.1%} original"


def photo(digit: np.ndarray, rng: np.random.Generator) -> bytes:
    """A phone-photo-like JPEG of a digit: dark ink on paper lit unevenly (darker to the right), noise, specks."""
    big = np.asarray(Image.fromarray((digit * 255).astype(np.uint8)).resize((168, 168), Image.Resampling.BILINEAR),
                     np.float32) / 255
    h, w = 240, 320
    ys, xs = np.mgrid[0:h, 0:w]
    img = 0.85 - 0.25 * xs / w - 0.05 * ys / h + rng.normal(0, 0.03, (h, w))
    top, left = rng.integers(0, h - 168), rng.integers(0, w - 168)
    img[top:top + 168, left:left + 168] -= 0.6 * big
    for _ in range(4):
        sy, sx = rng.integers(0, h - 3), rng.integers(0, w - 3)
        img[sy:sy + 3, sx:sx + 3] = 0.3
    buf = io.BytesIO()
    Image.fromarray((np.clip(img, 0, 1) * 255).astype(np.uint8)).save(buf, format="JPEG", quality=85)
    return buf.getvalue()


def test_photo_uploads_classified_like_originals(mnist_test, tutorial_a):
    # Measured (shipped tutorial_a, first 200 test digits as photos): 99.5% vs 99.0% for the originals;
    # before the lighting fit and speck removal it was 86%.
    model, norm = tutorial_a
    rng = np.random.default_rng(0)
    pixels, labels = mnist_test[0][:100], mnist_test[1][:100]
    batch = torch.cat([from_upload(photo(p, rng), norm).tensor for p in pixels])
    assert _accuracy(model, batch, labels) >= 0.96


def test_steps_and_shapes():
    canvas = np.zeros((CANVAS, CANVAS, 4), np.uint8)
    canvas[..., 3] = 255
    canvas[40:120, 200:212, :3] = 255  # a "1": 80 px tall, 12 px wide, in the top-right
    prepared = to_mnist(canvas)
    assert prepared.tensor.shape == (1, 1, 28, 28) and prepared.tensor.dtype == torch.float32
    assert prepared.pixels.shape == (28, 28) and prepared.pixels.max() == pytest.approx(1.0)
    captions = [c for c, _ in prepared.steps]
    assert captions == ["ink 280×280", "cropped 12×80", "scaled 3×20", "centred 28×28", "normalised (x−μ)/σ"]
    assert prepared.steps[2][1].shape == (20, 3)  # longer side 20, aspect kept: 80x12 -> 20x3
    assert all(img.shape[0] <= 56 and img.shape[1] <= 56 for _, img in prepared.steps)
    ys, xs = np.mgrid[0:28, 0:28]
    mass = prepared.pixels.sum()
    assert abs((prepared.pixels * ys).sum() / mass - 14) <= 0.5
    assert abs((prepared.pixels * xs).sum() / mass - 14) <= 0.5
    expected = (torch.from_numpy(prepared.pixels) - 0.1307) / 0.3081
    assert torch.allclose(prepared.tensor[0, 0], expected)
    assert torch.allclose(prepared.normalized((0.5, 0.5))[0, 0], (torch.from_numpy(prepared.pixels) - 0.5) / 0.5)


def test_transparent_background_canvas_works():
    canvas = np.zeros((CANVAS, CANVAS, 4), np.uint8)  # background "" -> transparent
    canvas[60:220, 130:150] = 255  # white, opaque strokes
    assert to_mnist(canvas).pixels.max() == pytest.approx(1.0)


def _blank(value: int = 0, alpha: int = 255) -> np.ndarray:
    canvas = np.full((CANVAS, CANVAS, 4), value, np.uint8)
    canvas[..., 3] = alpha
    return canvas


def test_empty_canvas_is_a_hint_not_an_error():
    with pytest.raises(EmptyInput, match="draw a digit"):
        to_mnist(_blank())


@pytest.mark.parametrize("radius, drag", [(3, 0), (10, 0), (20, 0), (12, 10), (16, 10), (20, 10), (25, 0)])
def test_single_dot(radius, drag):
    """A click of the brush (up to the widest, 40 px, and a bit more), or a short jiggle of it, is a dot."""
    canvas = _blank()
    ys, xs = np.mgrid[0:CANVAS, 0:CANVAS]
    for dx in range(0, drag + 1, 2):
        canvas[(ys - 140) ** 2 + (xs - 100 - dx) ** 2 <= radius ** 2, :3] = 255
    with pytest.raises(ValueError, match="dot") as err:
        to_mnist(canvas)
    assert not isinstance(err.value, EmptyInput)


BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"  # Debian's fonts-dejavu-core (Chromium's fonts)


def _font_digit(char: str, px: int = 62) -> np.ndarray:
    """A bold DejaVu digit about 50 px tall drawn white on the black canvas."""
    from PIL import ImageDraw, ImageFont
    img = Image.new("RGBA", (CANVAS, CANVAS), (0, 0, 0, 255))
    font = ImageFont.truetype(BOLD, px)
    ImageDraw.Draw(img).text((110, 100), char, font=font, fill="white", stroke_width=3, stroke_fill="white")
    return np.asarray(img)


def test_small_bold_digits_are_read_not_refused_as_dots(mnist_test, tutorial_a):
    """8s and 9s about 46 px tall, bold, were refused as "just a dot"; now they are read."""
    model, norm = tutorial_a
    pixels, labels = mnist_test
    chosen = np.concatenate([np.flatnonzero(labels == d)[:40] for d in (8, 9)])
    canvases = [render(pixels[i], 2.3, 120, 90, thicken=2) for i in chosen]  # ink ~46-53 px tall, strokes ~10 px
    batch = torch.cat([to_mnist(c, norm).tensor for c in canvases])  # none raises "just a dot"
    assert _accuracy(model, batch, labels[chosen]) >= 0.9


@pytest.mark.skipif(not __import__("os").path.exists(BOLD), reason="DejaVu fonts not installed")
def test_small_bold_font_digits_are_read(tutorial_a):
    model, norm = tutorial_a
    for char in "89":
        canvas = _font_digit(char)
        assert 40 <= np.ptp(np.flatnonzero(canvas[..., 0].any(1))) <= 56
        with torch.no_grad():
            assert int(model(to_mnist(canvas, norm).tensor).argmax()) == int(char)


def test_fully_white_canvas():
    with pytest.raises(ValueError, match="100% of the picture is ink"):
        to_mnist(_blank(255))


def test_transparent_image():
    with pytest.raises(EmptyInput):
        to_mnist(_blank(255, alpha=0))


@pytest.mark.parametrize("shape", [(280, 280, 2), (0, 0, 4), (5,)])
def test_bad_array_shapes(shape):
    with pytest.raises(ValueError, match="RGBA"):
        to_mnist(np.zeros(shape, np.uint8))


def _png(array: np.ndarray, mode: str) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array, mode).save(buf, format="PNG")
    return buf.getvalue()


def test_upload_dark_on_light_is_inverted(mnist_test):
    digit = (255 - mnist_test[0][0] * 255).astype(np.uint8)  # a 7, black ink on white paper
    photo = np.asarray(Image.fromarray(digit).resize((200, 200), Image.Resampling.BILINEAR))
    prepared = from_upload(_png(photo, "L"))
    assert any("inverted" in n for n in prepared.notes)
    assert prepared.pixels[0, 0] == 0.0 and prepared.pixels.max() > 0.9


def test_upload_light_on_dark_kept(mnist_test):
    digit = (mnist_test[0][0] * 255).astype(np.uint8)
    prepared = from_upload(_png(digit, "L"))
    assert not any("inverted" in n for n in prepared.notes)
    # a real MNIST digit goes through almost unchanged
    assert np.abs(prepared.pixels - mnist_test[0][0]).mean() < 0.08


def test_upload_dark_strokes_on_transparent():
    rgba = np.zeros((100, 100, 4), np.uint8)
    rgba[20:80, 45:55, 3] = 255  # black, opaque strokes; the rest transparent
    assert from_upload(_png(rgba, "RGBA")).pixels.max() == pytest.approx(1.0)


def test_upload_fully_transparent():
    with pytest.raises(EmptyInput, match="transparent"):
        from_upload(_png(np.zeros((50, 50, 4), np.uint8), "RGBA"))


def test_upload_one_pixel():
    with pytest.raises(ValueError, match="1x1 pixels"):
        from_upload(_png(np.zeros((1, 1), np.uint8), "L"))


def test_upload_not_an_image():
    with pytest.raises(ValueError, match="not a picture"):
        from_upload(b"%PDF-1.4 this is not an image")


def test_upload_blank_paper():
    with pytest.raises(EmptyInput, match="contrast"):
        from_upload(_png(np.full((64, 64), 240, np.uint8), "L"))


def test_from_mnist_keeps_the_digit(mnist_test):
    prepared = preprocess.from_mnist(mnist_test[0][3])
    assert np.array_equal(prepared.pixels, mnist_test[0][3])
    assert prepared.tensor.shape == (1, 1, 28, 28)


def test_render_canvas_clips_and_binarises(mnist_test):
    canvas = render(mnist_test[0][0], 12, -28, -28)
    assert canvas.shape == (CANVAS, CANVAS, 4) and canvas.dtype == np.uint8
    assert set(np.unique(canvas[..., :3])) == {0, 255} and (canvas[..., 3] == 255).all()
    assert render(mnist_test[0][0], 3, 500, 500)[..., :3].max() == 0  # entirely off the canvas


def test_source_box_maps_the_input_back_onto_the_drawing(mnist_test):
    canvas = render(mnist_test[0][0], 5, 150, 20)  # a 7, ~100 px tall, off-centre
    prepared = to_mnist(canvas)
    ink = canvas[..., 0] > 0
    rows, cols = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
    seen = prepared.pixels > 0
    r, c = np.flatnonzero(seen.any(1)), np.flatnonzero(seen.any(0))
    top, bottom, left, right = prepared.source_box(r[0], r[-1] + 1, c[0], c[-1] + 1)
    scale = 1 / prepared.geometry[2]  # one input pixel covers this many canvas pixels
    assert abs(top - rows[0]) <= scale and abs(bottom - rows[-1] - 1) <= scale
    assert abs(left - cols[0]) <= scale and abs(right - cols[-1] - 1) <= scale
    # the whole input holds the whole drawing, clipped to the canvas
    t, b, left_, r_ = prepared.source_box(0, 28, 0, 28)
    assert t <= rows[0] and b >= rows[-1] + 1 and left_ <= cols[0] and r_ >= cols[-1] + 1 and b <= 280
    assert preprocess.from_mnist(mnist_test[0][0]).source_box(0, 1, 0, 1) is None
    picture, box = prepared.drawing_box(r[0], r[-1] + 1, c[0], c[-1] + 1)  # the same region on the small picture
    f = picture.shape[0] / 280
    assert picture is prepared.steps[0][1] and box == pytest.approx((top * f, bottom * f, left * f, right * f))
    assert preprocess.from_mnist(mnist_test[0][0]).drawing_box(0, 1, 0, 1) is None
