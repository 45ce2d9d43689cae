"""Reading pictures people upload: any size, any orientation, possibly not a picture at all."""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

# The browser's uploader counts decimal megabytes (Streamlit's frontend: 1 MB = 1,000,000 bytes outside
# Windows), so the limit is stated and checked in decimal: server.maxUploadSize in .streamlit/config.toml.
UPLOAD_MB = 20
MAX_UPLOAD_BYTES = UPLOAD_MB * 1_000_000
MAX_PIXELS = 25_000_000                  # ~6000x4000: any phone photo; checked before decoding
BOMB_BYTES_PER_PIXEL = 0.01              # a real photo or scan takes far more; a bomb claims pixels it lacks
UPLOAD_TYPES = ("png", "jpg", "jpeg", "webp", "bmp", "gif", "tif", "tiff")  # every upload field accepts these
UPLOAD_HELP = (f"PNG, JPEG, WebP, BMP, GIF or TIFF (16-bit grey too), up to {UPLOAD_MB} MB "
               f"({MAX_UPLOAD_BYTES:,} bytes) and {MAX_PIXELS // 1_000_000} megapixels.")


@dataclass(frozen=True)
class Picture:
    """A decoded upload: float32 pixels in [0, 1], (H, W) grey or (H, W, 3) RGB, plus what was done to it."""

    pixels: np.ndarray
    notes: tuple[str, ...]
    alpha: np.ndarray | None = None  # (H, W) in [0, 1] when the file had transparency


def read_upload(data: bytes, max_side: int = 1024, grey: bool = False) -> Picture:
    """Decode uploaded bytes: size checked before decoding, EXIF-rotated, downscaled so the longer side <=
    max_side, 16-bit grey scaled (not clipped) to [0, 1]; ValueError with a plain message."""
    if not data:
        raise ValueError("The file is empty.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValueError(f"The file is {len(data) / 1e6:.1f} MB; the limit is {UPLOAD_MB} MB "
                         f"({MAX_UPLOAD_BYTES:,} bytes).")
    img = _open(data)
    w, h = img.size
    check_pixels(w, h, len(data))
    notes = []
    if img.format == "JPEG":  # decode a big JPEG at 1/2, 1/4 or 1/8 scale: a quarter of the memory or less
        img.draft(img.mode, (max_side, max_side))
    _load(img)
    try:
        rotated = ImageOps.exif_transpose(img)
    except Exception:  # a broken EXIF block should not lose the picture  # noqa: BLE001
        rotated = img
    if rotated is not None and rotated.size != img.size:
        notes.append("Rotated upright using the photo's EXIF orientation.")
        w, h = h, w
    img = _deep_to_float(rotated if rotated is not None else img)
    if max(img.size) > max_side or img.size != (w, h):
        img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        notes.append(f"Downscaled from {w}x{h} to {img.size[0]}x{img.size[1]} to keep things fast.")
    return _to_picture(img, grey, tuple(notes))


def decoded_size(data: bytes, max_side: int = 1024) -> tuple[int, int]:
    """(width, height) `read_upload(data, max_side)` would decode, read from the header only (a big JPEG at its
    reduced scale); ValueError, as read_upload's, for a file that is not a picture or too big to open."""
    if not data:
        raise ValueError("The file is empty.")
    img = _open(data)
    check_pixels(*img.size, len(data))
    if img.format == "JPEG":
        img.draft(img.mode, (max_side, max_side))  # sets the scale the decoder will use; decodes nothing
    return img.size


def check_pixels(width: int, height: int, file_bytes: int) -> None:
    """ValueError unless a picture of width x height from `file_bytes` bytes is safe to decode."""
    pixels = width * height
    if pixels <= MAX_PIXELS:
        return
    if file_bytes < pixels * BOMB_BYTES_PER_PIXEL:
        raise ValueError(f"This file claims to be {width}x{height} pixels ({pixels / 1e6:,.0f} megapixels) but is "
                         f"only {file_bytes / 1e3:,.0f} kB: a 'decompression bomb' built to exhaust memory. "
                         "It was not opened.")
    raise ValueError(f"The picture is {width}x{height} pixels ({pixels / 1e6:.0f} megapixels), more than the "
                     f"{MAX_PIXELS / 1e6:.0f} megapixels cnnviz opens. Make it smaller first (any photo app can).")


def _open(data: bytes) -> Image.Image:
    """The picture's header only (nothing decoded yet)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise ValueError("This file claims far more pixels than any photo: a 'decompression bomb' built to "
                         "exhaust memory. It was not opened.") from err
    except UnidentifiedImageError as err:
        raise ValueError("This file is not a picture cnnviz can read "
                         f"({', '.join(t.upper() for t in UPLOAD_TYPES[:4])} ... expected).") from err
    except (OSError, SyntaxError, ValueError) as err:
        raise ValueError(f"The picture is damaged or truncated and cannot be read ({err}).") from err
    if img.size[0] < 1 or img.size[1] < 1:
        raise ValueError("The picture has no pixels.")
    return img


def _load(img: Image.Image) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning) as err:
        raise ValueError(f"The picture is damaged or truncated and cannot be read ({err}).") from err


def _deep_to_float(img: Image.Image) -> Image.Image:
    """16-bit (and 32-bit) grey -> mode 'F' in [0, 1], scaled by the format's full range, not clipped at 255."""
    if img.mode.startswith("I;16") or img.mode == "I":  # "I": Pillow's 32-bit ints holding a 16-bit file's 0..65535
        return Image.fromarray(np.asarray(img, dtype=np.float32) / 65535.0)
    if img.mode == "F":
        arr = np.nan_to_num(np.asarray(img, dtype=np.float32))
        top = float(arr.max()) if arr.size else 1.0
        return Image.fromarray(arr / top if top > 1.0 else arr)
    return img


def _to_picture(img: Image.Image, grey: bool, notes: tuple[str, ...]) -> Picture:
    if img.mode == "F":
        pixels = np.clip(np.asarray(img, dtype=np.float32), 0.0, 1.0)
        return Picture(pixels if grey else np.repeat(pixels[..., None], 3, axis=2), notes, None)
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
