"""Canvas drawings and uploaded pictures -> MNIST-like 28x28 inputs, keeping each step for display.

MNIST itself was made this way: the ink's bounding box is scaled so its longer
side is 20 px (aspect ratio kept, anti-aliased), then pasted into a 28x28 field
so that the centre of mass sits at the centre. A digit drawn tiny in a corner
therefore looks like any other MNIST digit to the network.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from cnnviz.images import Picture, read_upload, to_grey

MNIST_NORMALIZE = (0.1307, 0.3081)  # MNIST's training pixels' (mean, std): data.DATASETS['mnist'].norm
SIZE = 28          # the field
BOX = 20           # the longer side of the digit inside it
CENTRE = 14.0      # where MNIST's centres of mass sit (mean over the test set: 13.99, 14.01)
INK = 0.2          # a pixel with more ink than this counts as drawn
MIN_UPLOAD_SIDE = 8
UPLOAD_SIDE = 512  # an upload is decoded with its longer side at most this (a JPEG at reduced scale)
DISPLAY_SIDE = 56  # steps are shown small: big pictures are block-averaged down to this


class EmptyInput(ValueError):
    """Nothing was drawn (or the picture holds no ink): the page shows a hint, not an error."""


@dataclass(frozen=True)
class Prepared:
    """A drawing turned into a network input.

    tensor: (1, 1, 28, 28), normalised like the training data.
    pixels: (28, 28) in [0, 1], what the network sees before normalising.
    steps: (caption, small (H, W) image) for each stage, for display.
    """

    tensor: torch.Tensor
    pixels: np.ndarray
    steps: list[tuple[str, np.ndarray]]
    notes: tuple[str, ...] = field(default_factory=tuple)
    # where the 28x28 came from: (crop top, crop left, scale, paste top, paste left, source H, source W)
    geometry: tuple[int, int, float, int, int, int, int] | None = None

    def source_box(self, top: int, bottom: int, left: int, right: int) -> tuple[int, int, int, int] | None:
        """Rows [top, bottom), cols [left, right) of the 28x28 input -> the same region of the drawing (clipped).

        None for an MNIST digit (there is no drawing behind it).
        """
        if self.geometry is None:
            return None
        crop_top, crop_left, scale, paste_top, paste_left, h, w = self.geometry
        rows = [min(max(crop_top + (v - paste_top) / scale, 0), h) for v in (top, bottom)]
        cols = [min(max(crop_left + (v - paste_left) / scale, 0), w) for v in (left, right)]
        return int(np.floor(rows[0])), int(np.ceil(rows[1])), int(np.floor(cols[0])), int(np.ceil(cols[1]))

    def drawing_box(self, top: int, bottom: int, left: int, right: int
                    ) -> tuple[np.ndarray, tuple[float, float, float, float]] | None:
        """The drawing as the first preparation step shows it (small), and `source_box`'s region outlined on it
        in that picture's pixels (top, bottom, left, right); None for an MNIST digit (no drawing behind it)."""
        box = self.source_box(top, bottom, left, right)
        if box is None:
            return None
        picture = self.steps[0][1]
        f = picture.shape[0] / self.geometry[5]  # the small picture's pixels per drawing pixel
        return picture, (box[0] * f, box[1] * f, box[2] * f, box[3] * f)

    def normalized(self, normalize: tuple[float, float]) -> torch.Tensor:
        """The same pixels normalised with another model's (mean, std): (1, 1, 28, 28)."""
        return _normalize(self.pixels, normalize)


def to_mnist(rgba: np.ndarray, normalize: tuple[float, float] = MNIST_NORMALIZE) -> Prepared:
    """Canvas RGBA (H, W, 4) uint8, light ink on dark or transparent -> Prepared; EmptyInput or ValueError."""
    return from_ink(canvas_ink(rgba), normalize)


def canvas_ink(rgba: np.ndarray) -> np.ndarray:
    """(H, W, 4|3) or (H, W) image, uint8 or [0, 1] floats -> (H, W) ink in [0, 1]: brightness times opacity."""
    arr = np.asarray(rgba)
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (1, 3, 4)) or arr.size == 0:
        raise ValueError(f"expected an (H, W, 4) RGBA image, got shape {arr.shape}")
    scale = 255.0 if arr.dtype == np.uint8 else 1.0
    arr = arr.astype(np.float32) / scale
    if arr.ndim == 2:
        return np.clip(arr, 0.0, 1.0)
    grey = to_grey(arr[..., :3]) if arr.shape[2] >= 3 else arr[..., 0]
    alpha = arr[..., 3] if arr.shape[2] == 4 else 1.0
    return np.clip(grey * alpha, 0.0, 1.0)


def from_ink(ink: np.ndarray, normalize: tuple[float, float] = MNIST_NORMALIZE,
             notes: tuple[str, ...] = (), canvas: bool = True) -> Prepared:
    """(H, W) ink map in [0, 1] -> Prepared: crop to the ink, longer side to 20 px, centre of mass at the centre.

    `canvas`: the ink was drawn on the page's canvas (a dot is judged against the canvas size, and
    the messages speak of drawing) rather than found in an uploaded picture.
    """
    ink = np.asarray(ink, dtype=np.float32)
    top, bottom, left, right = _ink_box(ink, canvas)
    crop = ink[top:bottom, left:right]
    scaled = _scale_longer_side(crop / max(float(crop.max()), 1e-6), BOX)
    pixels, paste_top, paste_left = _centre_by_mass(scaled, SIZE)
    scale = BOX / max(crop.shape)  # as _scale_longer_side scales
    # Short captions ("step detail"): the figure puts each under its picture, breaking at the first space.
    steps = [(f"ink {ink.shape[1]}×{ink.shape[0]}", _small(ink)),
             (f"cropped {right - left}×{bottom - top}", _small(crop)),
             (f"scaled {scaled.shape[1]}×{scaled.shape[0]}", scaled),
             (f"centred {SIZE}×{SIZE}", pixels),
             ("normalised (x−μ)/σ", (pixels - normalize[0]) / normalize[1])]
    return Prepared(_normalize(pixels, normalize), pixels, steps, tuple(notes),
                    (top, left, scale, paste_top, paste_left, *ink.shape))


def from_mnist(pixels: np.ndarray | torch.Tensor, normalize: tuple[float, float] = MNIST_NORMALIZE) -> Prepared:
    """An MNIST digit, already (28, 28) in [0, 1] and centred: used as it is."""
    pixels = np.asarray(pixels, dtype=np.float32).reshape(SIZE, SIZE)
    steps = [("MNIST 28×28, already centred", pixels),
             ("normalised (x−μ)/σ", (pixels - normalize[0]) / normalize[1])]
    return Prepared(_normalize(pixels, normalize), pixels, steps)


def from_upload(data: bytes, normalize: tuple[float, float] = MNIST_NORMALIZE) -> Prepared:
    """Uploaded picture bytes -> Prepared; dark-on-light photos are inverted; ValueError with a plain message."""
    return from_picture(read_upload(data, max_side=UPLOAD_SIDE, grey=True), normalize)


def from_picture(picture: Picture, normalize: tuple[float, float] = MNIST_NORMALIZE) -> Prepared:
    """A decoded grey upload (read_upload(..., max_side=UPLOAD_SIDE, grey=True)) -> Prepared, as from_upload."""
    h, w = picture.pixels.shape[:2]
    if min(h, w) < MIN_UPLOAD_SIDE:
        raise ValueError(f"The picture is only {w}x{h} pixels: too small to hold a digit "
                         f"(at least {MIN_UPLOAD_SIDE}x{MIN_UPLOAD_SIDE} needed).")
    ink, notes = photo_ink(picture.pixels, picture.alpha)
    return from_ink(ink, normalize, picture.notes + notes, canvas=False)


def photo_ink(grey: np.ndarray, alpha: np.ndarray | None = None) -> tuple[np.ndarray, tuple[str, ...]]:
    """(H, W) grey in [0, 1] (+ optional alpha) -> ink map: the paper removed, dark ink on light paper inverted."""
    notes: list[str] = []
    if alpha is not None:
        if float(alpha.max()) < 0.05:
            raise EmptyInput("The picture is fully transparent: there is no digit in it.")
        if float(alpha.min()) < 0.95:  # strokes on a transparent background: the opaque part is the ink
            dark = float(np.average(grey, weights=alpha + 1e-6)) < 0.5
            return alpha * ((1.0 - grey) if dark else grey), tuple(notes)
    if float(np.median(grey)) > 0.5:
        grey = 1.0 - grey
        notes.append("Dark ink on light paper: inverted to light ink on black, like MNIST.")
    flat = grey - _paper(grey)  # uneven lighting removed: the paper is ~0 everywhere
    top = float(np.percentile(flat, 99.9))
    if top < 0.15:
        raise EmptyInput("The picture has no contrast: no digit stands out from the background.")
    ink = np.clip(flat / top, 0.0, 1.0)
    ink[~_strokes(ink)] = 0.0  # paper texture, shadows and specks are not ink
    return ink, tuple(notes)


def _paper(grey: np.ndarray, rounds: int = 3) -> np.ndarray:
    """The paper's brightness under uneven lighting: a quadratic surface fitted to the pixels that are not ink.

    Robust fit: fit all (subsampled) pixels, drop those far brighter than the surface (ink), refit.
    """
    h, w = grey.shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    ys, xs = ys / h - 0.5, xs / w - 0.5
    terms = np.stack([np.ones_like(xs), xs, ys, xs * xs, xs * ys, ys * ys], axis=-1)  # (H, W, 6)
    step = max(1, int(np.sqrt(h * w / 5_000)))  # ~5k samples are plenty for 6 coefficients
    a, b = terms[::step, ::step].reshape(-1, 6), grey[::step, ::step].reshape(-1)
    keep = np.ones(b.shape, dtype=bool)
    for _ in range(rounds):
        coef = np.linalg.solve(a[keep].T @ a[keep] + 1e-6 * np.eye(6), a[keep].T @ b[keep])
        residual = b - a @ coef
        spread = 1.4826 * float(np.median(np.abs(residual[keep]))) + 1e-3  # robust sigma
        keep = residual < 3 * spread
    return terms @ coef.astype(np.float32)


def _strokes(ink: np.ndarray) -> np.ndarray:
    """Mask of the strokes in an ink map: hysteresis between INK and Otsu's threshold, specks dropped.

    Faint pixels count only when they touch a stroke's core (above Otsu's threshold), so the
    anti-aliased edges of a stroke stay and shadows on the paper go.
    """
    from skimage.filters import apply_hysteresis_threshold, threshold_otsu  # only uploads need scikit-image
    from skimage.measure import label

    mask = apply_hysteresis_threshold(ink, INK, max(INK, float(threshold_otsu(ink))))
    labels = label(mask, connectivity=2)
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0  # the background
    keep = sizes >= 0.05 * sizes.max()  # a blob under 5% of the largest stroke is a speck
    return keep[labels]


def render_canvas(digit: np.ndarray, scale: float, top: int, left: int, thicken: int = 0,
                  size: int = 280) -> np.ndarray:
    """Draw a (28, 28) digit in [0, 1] onto a black (size, size, 4) uint8 canvas as brush strokes (tests, benches).

    Upscaled by `scale`, thickened by a `thicken`-px max filter, binarised like the
    brush's white opaque strokes, pasted with its top-left at (top, left), clipped.
    """
    t = torch.as_tensor(np.asarray(digit, dtype=np.float32))[None, None]  # (1, 1, 28, 28)
    side = round(t.shape[-1] * scale)
    big = F.interpolate(t, size=(side, side), mode="bilinear", align_corners=False)
    if thicken:
        k = 2 * thicken + 1  # a separable max filter: rows, then columns
        big = F.max_pool2d(big, (1, k), stride=1, padding=(0, thicken))
        big = F.max_pool2d(big, (k, 1), stride=1, padding=(thicken, 0))
    ink = (big[0, 0] > 0.35).numpy().astype(np.uint8) * 255
    canvas = np.zeros((size, size, 4), dtype=np.uint8)
    canvas[..., 3] = 255
    y0, x0, y1, x1 = max(top, 0), max(left, 0), min(top + side, size), min(left + side, size)
    if y1 > y0 and x1 > x0:
        canvas[y0:y1, x0:x1, :3] = ink[y0 - top:y1 - top, x0 - left:x1 - left, None]
    return canvas


def _ink_box(ink: np.ndarray, canvas: bool = True) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of the inked pixels; EmptyInput / ValueError when there is no usable digit."""
    mask = ink > INK
    if not mask.any():
        raise EmptyInput("Nothing drawn yet: draw a digit (white on the black canvas)." if canvas
                         else "No ink found in the picture.")
    h, w = mask.shape
    covered = float(mask.mean())
    if covered > 0.6:
        raise ValueError(f"{covered:.0%} of the picture is ink: " + ("clear it and draw one digit, light strokes "
                         "on a dark background." if canvas else "crop it to one digit on plain paper."))
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    top, bottom, left, right = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    side = max(bottom - top, right - left)
    if canvas and (side < 0.08 * max(h, w) or (side < 0.2 * max(h, w) and _is_blob(mask[top:bottom, left:right]))):
        raise ValueError("That is just a dot: draw a whole digit, a bit bigger.")
    if not canvas and side < MIN_UPLOAD_SIDE:
        raise ValueError(f"The ink in the picture is only {side} px across: too small to be read as a digit.")
    return top, bottom, left, right


def _is_blob(box: np.ndarray) -> bool:
    """A round, solid patch with no hole: a click of the brush (or a short jiggle), not strokes.

    Solidity (ink / its convex hull, pixel centres) tells them apart: a brush dot or jiggle is
    0.986-1.0, small bold digits 0.79-0.95 (DejaVu Bold digits ~50 px tall; MNIST 8s and 9s drawn
    46 px tall with ~10 px strokes: at most 0.92). Fill alone could not: a 46 px bold 8 fills 0.8
    of its box, like a dot, and was refused as one. A digit so fat that its loops close up is a blob.
    """
    from scipy.ndimage import binary_fill_holes  # scikit-image brings scipy; only small marks get here
    from skimage.morphology import convex_hull_image

    h, w = box.shape
    if not 0.7 <= h / w <= 1.4:
        return False
    ink = int(box.sum())
    if int(binary_fill_holes(box).sum()) > ink:  # a loop (0, 6, 8, 9) is never a dot
        return False
    return ink >= 0.97 * int(convex_hull_image(box, offset_coordinates=False).sum())


def _scale_longer_side(image: np.ndarray, side: int) -> np.ndarray:
    """Resize (H, W) so max(H, W) == side, keeping the aspect ratio; anti-aliased both ways."""
    h, w = image.shape
    f = side / max(h, w)
    size = (max(1, round(h * f)), max(1, round(w * f)))
    t = torch.from_numpy(np.ascontiguousarray(image))[None, None]  # (1, 1, H, W)
    out = F.interpolate(t, size=size, mode="bilinear", antialias=True, align_corners=False)
    return out[0, 0].clamp_(0.0, 1.0).numpy()


def _centre_by_mass(image: np.ndarray, size: int) -> tuple[np.ndarray, int, int]:
    """Paste (h, w) into (size, size) so its centre of mass lands on MNIST's (14, 14), staying inside; + (top, left)."""
    h, w = image.shape
    mass = float(image.sum())
    cy = float((image.sum(axis=1) * np.arange(h)).sum()) / mass
    cx = float((image.sum(axis=0) * np.arange(w)).sum()) / mass
    top = min(max(round(CENTRE - cy), 0), size - h)
    left = min(max(round(CENTRE - cx), 0), size - w)
    out = np.zeros((size, size), dtype=np.float32)
    out[top:top + h, left:left + w] = image
    return out, top, left


def _normalize(pixels: np.ndarray, normalize: tuple[float, float]) -> torch.Tensor:
    mean, std = float(normalize[0]), float(normalize[1])
    if std <= 0:
        raise ValueError(f"normalize std must be > 0, got {std}")
    return ((torch.from_numpy(np.ascontiguousarray(pixels, dtype=np.float32)) - mean) / std)[None, None]


def _small(image: np.ndarray, side: int = DISPLAY_SIDE) -> np.ndarray:
    """Block-average (H, W) down so its longer side is at most about `side`, for cheap display."""
    h, w = image.shape
    f = -(-max(h, w) // side)  # ceil
    if f <= 1:
        return image
    ph, pw = -(-h // f) * f, -(-w // f) * f
    padded = np.zeros((ph, pw), dtype=np.float32)
    padded[:h, :w] = image
    return padded.reshape(ph // f, f, pw // f, f).mean(axis=(1, 3))
