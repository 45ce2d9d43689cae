"""cnnviz.images: uploads checked before decoding, 16-bit scaled not clipped, bombs named, limits stated truly."""
from __future__ import annotations

import io
import struct
import tomllib
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cnnviz import data, images, preprocess

ROOT = Path(__file__).resolve().parents[1]


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def _claim_size(png: bytes, width: int, height: int) -> bytes:
    """The same PNG with its header (IHDR) claiming another size: what a decompression bomb looks like."""
    ihdr = png[12:29]  # b"IHDR" + 13 bytes of fields
    fields = struct.pack(">II", width, height) + ihdr[12:]
    chunk = b"IHDR" + fields
    return png[:8] + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk)) + png[33:]


@pytest.fixture(scope="module")
def digit(data_root) -> np.ndarray:
    """A real MNIST test digit (a 7), 28x28 in [0, 1], enlarged to a 112x112 'scan': dark ink on light paper."""
    split = data.load("mnist", "test", root=data_root, download=False)
    pixels = split.raw(0).numpy().reshape(28, 28)
    return 1.0 - np.kron(pixels, np.ones((4, 4), np.float32))


def test_a_16_bit_grey_scan_is_scaled_not_clipped(digit):
    sixteen = Image.fromarray((digit * 65535).round().astype(np.uint16))
    eight = Image.fromarray((digit * 255).round().astype(np.uint8))
    pic16 = images.read_upload(_png(sixteen), grey=True)
    assert pic16.pixels.min() < 0.05 and pic16.pixels.max() > 0.95  # clipping at 255 made it all 1.0
    assert np.abs(pic16.pixels - images.read_upload(_png(eight), grey=True).pixels).max() < 0.01
    prepared16, prepared8 = preprocess.from_upload(_png(sixteen)), preprocess.from_upload(_png(eight))
    assert np.abs(prepared16.pixels - prepared8.pixels).max() < 0.02  # the digit, not "no contrast"
    rgb = images.read_upload(_png(sixteen)).pixels
    assert rgb.shape == (112, 112, 3) and np.allclose(rgb[..., 0], pic16.pixels)


def test_a_dim_16_bit_scan_keeps_its_grey_levels():
    ramp = Image.fromarray(np.tile(np.linspace(0, 4000, 64), (64, 1)).astype(np.uint16))
    pixels = images.read_upload(_png(ramp), grey=True).pixels
    assert pixels.max() == pytest.approx(4000 / 65535, abs=1e-3) and len(np.unique(pixels)) > 32


@pytest.mark.parametrize("width, height", [(9000, 9000), (20000, 20000), (100_000, 100_000)])
def test_a_decompression_bomb_gets_its_own_message_and_is_never_decoded(monkeypatch, width, height):
    bomb = _claim_size(_png(Image.new("L", (64, 64))), width, height)
    monkeypatch.setattr(images, "_load", lambda img: pytest.fail("decoded a picture before checking its size"))
    with pytest.raises(ValueError, match="decompression bomb"):
        images.read_upload(bomb)


def test_too_many_pixels_is_refused_before_decoding_with_the_limit_named(monkeypatch):
    noise = Image.fromarray(np.random.default_rng(0).integers(0, 256, (400, 400, 3), dtype=np.uint8))
    big = _claim_size(_png(noise), 6000, 5000)  # 30 Mpx from ~480 kB: a real photo's proportions
    monkeypatch.setattr(images, "_load", lambda img: pytest.fail("decoded a picture before checking its size"))
    with pytest.raises(ValueError, match=r"6000x5000 pixels \(30 megapixels\), more than the 25 megapixels"):
        images.read_upload(big)
    images.check_pixels(5000, 5000, 10**6)  # 25 Mpx exactly: allowed


def test_the_upload_limit_is_decimal_and_matches_the_server_setting():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == images.UPLOAD_MB
    with pytest.raises(ValueError, match=r"is 20.0 MB; the limit is 20 MB \(20,000,000 bytes\)"):
        images.read_upload(b"\0" * (images.MAX_UPLOAD_BYTES + 1))
    with pytest.raises(ValueError, match="not a picture"):  # 19.99 MB: under the limit, judged on content
        images.read_upload(b"\0" * (images.MAX_UPLOAD_BYTES - 10_000))
    assert "20 MB (20,000,000 bytes)" in images.UPLOAD_HELP and "25 megapixels" in images.UPLOAD_HELP


@pytest.mark.parametrize("fmt", ["WEBP", "BMP", "GIF", "TIFF", "JPEG"])
def test_every_listed_format_reads(digit, fmt):
    buf = io.BytesIO()
    Image.fromarray((digit * 255).astype(np.uint8)).convert("RGB").save(buf, format=fmt)
    assert images.read_upload(buf.getvalue(), grey=True).pixels.shape == (112, 112)
    assert fmt.lower() in images.UPLOAD_TYPES or fmt == "JPEG"


def test_a_big_jpeg_is_decoded_small_and_says_so():
    photo = Image.fromarray(np.random.default_rng(1).integers(0, 256, (1500, 2400, 3), dtype=np.uint8))
    buf = io.BytesIO()
    photo.save(buf, format="JPEG", quality=70)
    pic = images.read_upload(buf.getvalue(), max_side=300)
    assert max(pic.pixels.shape[:2]) == 300
    assert "Downscaled from 2400x1500 to 300x188" in pic.notes[0]


def test_decoded_size_comes_from_the_header_and_knows_the_jpeg_scale():
    png, jpeg = io.BytesIO(), io.BytesIO()
    Image.new("1", (5000, 4000)).save(png, format="PNG")
    Image.new("L", (4000, 3000), 255).save(jpeg, format="JPEG")
    assert images.decoded_size(png.getvalue(), max_side=512) == (5000, 4000)
    assert images.decoded_size(jpeg.getvalue(), max_side=512) == (1000, 750)  # decoded at 1/4
    assert images.decoded_size(jpeg.getvalue(), max_side=4000) == (4000, 3000)
    bomb = io.BytesIO()
    Image.new("1", (8000, 8000)).save(bomb, format="PNG")
    for bad, says in ((bomb.getvalue(), "megapixels"), (b"hello", "not a picture"), (b"", "empty")):
        with pytest.raises(ValueError, match=says):
            images.decoded_size(bad)
