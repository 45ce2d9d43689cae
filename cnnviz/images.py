"""Reading pictures people upload: any size, any orientation, possibly not a picture at all."""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_UPLOAD_BYTES = 20 * 1024 * 1024     # matches server.maxUploadSize in .streamlit/config.toml
MAX_PIXELS = 60_000_000                  # refuse decompression bombs before decoding them


@dataclass(frozen=True)
class Picture:
    """A decoded upload: float32 pixels in [0, 1], (H, W) grey or (H, W, 3) RGB, plus what was done to it."""

    pixels: np.ndarray
    notes: tuple[str, ...]
    alpha: np.ndarray | None = None  # (H, W) in [0, 1] when the file had transparency


def read_upload(data: bytes, max_side: int = 1024, grey: bool = False) -> Picture:
    """Decode uploaded bytes: EXIF-rotate, downscale so the longer side <= max_side; ValueError with a plain message."""
    if not data:
        raise ValueError("The file is empty.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValueError(f"The file is {len(data) / 2**20:.1f} MB; the limit is {MAX_UPLOAD_BYTES // 2**20} MB.")
    img = _open(data)
    notes = []
    w, h = img.size
    if w * h > MAX_PIXELS:
        raise ValueError(f"The picture is {w}x{h} pixels, too large to open safely (limit {MAX_PIXELS:,} pixels).")
    try:
        rotated = ImageOps.exif_transpose(img)
    except Exception:  # a broken EXIF block should not lose the picture  # noqa: BLE001
        rotated = img
    if rotated is not None and rotated.size != img.size:
        notes.append("Rotated upright using the photo's EXIF orientation.")
    img = rotated if rotated is not None else img
    if max(img.size) > max_side:
        old = img.size
        img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        notes.append(f"Downscaled from {old[0]}x{old[1]} to {img.size[0]}x{img.size[1]} to keep things fast.")
    return _to_picture(img, grey, tuple(notes))


def _open(data: bytes) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            img.load()
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise ValueError("This file is not a picture cnnviz can read (PNG or JPEG expected).") from err
    except (OSError, SyntaxError, ValueError) as err:
        raise ValueError(f"The picture is damaged or truncated and cannot be read ({err}).") from err
    if img.size[0] < 1 or img.size[1] < 1:
        raise ValueError("The picture has no pixels.")
    return img


def _to_picture(img: Image.Image, grey: bool, notes: tuple[str, ...]) -> Picture:
    alpha = None
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        alpha = np.asarray(rgba, dtype=np.float32)[..., 3] / 255.0
        img = rgba
    pixels = np.asarray(img.convert("L" if grey else "RGB"), dtype=np.float32) / 255.0
    return Picture(pixels, notes, alpha)


def to_grey(pixels: np.ndarray) -> np.ndarray:
    """(H, W, 3) RGB in [0, 1] -> (H, W) luminance (ITU-R 601, as PIL's 'L'); (H, W) passes through."""
    pixels = np.asarray(pixels, dtype=np.float32)
    if pixels.ndim == 2:
        return pixels
    if pixels.ndim == 3 and pixels.shape[2] >= 3:
        return pixels[..., 0] * 0.299 + pixels[..., 1] * 0.587 + pixels[..., 2] * 0.114
    raise ValueError(f"expected an (H, W) or (H, W, 3) picture, got shape {pixels.shape}")
