"""Convolution and pooling on pictures, exactly as PyTorch computes them, and the worked numbers of one output.

Images are numpy float arrays, (H, W) grey or (H, W, C). PyTorch's conv2d is a
cross-correlation: the kernel is laid on the picture as it is, not flipped.
Output sizes come from cnnviz.dims (the calculator's formula), never recomputed.
float64 in -> float64 out; anything else computes in float32, as a CNN does.
"""
from __future__ import annotations

import operator
from dataclasses import dataclass, field, replace

import numpy as np
import torch
import torch.nn.functional as F

from cnnviz import dims
from cnnviz.images import to_grey

POOL_KINDS = ("max", "avg")


def _image(image: np.ndarray) -> np.ndarray:
    """Validate a picture; (H, W) or (H, W, C) float32/float64, all finite."""
    arr = np.asarray(image)
    if arr.dtype != np.float64:
        arr = arr.astype(np.float32)
    if arr.ndim not in (2, 3) or 0 in arr.shape:
        raise ValueError(f"a picture must be (H, W) or (H, W, C) with no empty side, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError("the picture contains NaN or infinite values")
    return arr


def _kernel(kernel: np.ndarray, channels: int) -> np.ndarray:
    """Validate a (k, k) kernel (same for every channel) or a (k, k, C) filter; float64."""
    k = np.asarray(kernel, dtype=np.float64)
    square = k.ndim in (2, 3) and k.shape[0] == k.shape[1] and k.shape[0] >= 1
    if not square or (k.ndim == 3 and k.shape[2] != channels):
        raise ValueError(f"a kernel must be (k, k) or (k, k, {channels}) for this picture, got shape {k.shape}")
    if not np.isfinite(k).all():
        raise ValueError("the kernel contains NaN or infinite values; every cell must be a number")
    return k


def _int(name: str, value: object) -> int:
    try:
        return operator.index(value)  # accepts numpy integers, refuses 1.5 and "2"
    except TypeError:
        raise ValueError(f"{name} must be a whole number, got {value!r}") from None


def sizes(height: int, width: int, kernel_size: int, stride: int = 1, padding: int = 0,
          dilation: int = 1) -> tuple[dims.Worked, dims.Worked]:
    """dims.worked for the rows and the columns; ValueError saying which picture and kernel do not fit."""
    args = [_int(n, v) for n, v in (("kernel size", kernel_size), ("stride", stride),
                                     ("padding", padding), ("dilation", dilation))]
    try:
        return dims.worked(height, *args), dims.worked(width, *args)
    except ValueError as err:
        raise ValueError(f"a {height}x{width} picture and a {kernel_size}x{kernel_size} kernel "
                         f"(stride {stride}, padding {padding}, dilation {dilation}) do not fit: {err}") from None


def _chw(arr: np.ndarray) -> torch.Tensor:
    """(H, W) or (H, W, C) -> (1, C, H, W)."""
    t = torch.from_numpy(np.require(arr, requirements=["C", "W"]))  # copies only read-only/strided input
    return t[None, None] if t.ndim == 2 else t.permute(2, 0, 1)[None].contiguous()


def _conv(image: np.ndarray, kernel: np.ndarray, stride: int, padding: int, dilation: int,
          depthwise: bool) -> torch.Tensor:
    img = _image(image)
    c = 1 if img.ndim == 2 else img.shape[2]
    k = _kernel(kernel, c)
    rows, cols = sizes(img.shape[0], img.shape[1], k.shape[0], stride, padding, dilation)
    w = np.broadcast_to(k if k.ndim == 3 else k[..., None], (*k.shape[:2], c))  # (k, k, C)
    weight = torch.from_numpy(np.array(w.transpose(2, 0, 1))).to(_dtype(img))  # (C, k, k)
    weight = weight[:, None] if depthwise else weight[None]  # (C, 1, k, k) or (1, C, k, k)
    out = F.conv2d(_chw(img), weight, stride=stride, padding=padding, dilation=dilation,
                   groups=c if depthwise else 1)[0]  # (C or 1, Ho, Wo)
    assert out.shape[1:] == (rows.out, cols.out), "dims and torch disagree"
    return out


def _dtype(img: np.ndarray) -> torch.dtype:
    return torch.float64 if img.dtype == np.float64 else torch.float32


def convolve(image: np.ndarray, kernel: np.ndarray, stride: int = 1, padding: int = 0,
             dilation: int = 1) -> np.ndarray:
    """One filter over the picture, as F.conv2d: (H, W[, C]) -> (Ho, Wo), channels summed."""
    return _conv(image, kernel, stride, padding, dilation, depthwise=False)[0].numpy()


def convolve_channels(image: np.ndarray, kernel: np.ndarray, stride: int = 1, padding: int = 0,
                      dilation: int = 1) -> np.ndarray:
    """Each channel's own response before the sum: (H, W, C) -> (Ho, Wo, C); their sum is convolve()."""
    out = _conv(image, kernel, stride, padding, dilation, depthwise=True)
    return out.permute(1, 2, 0).numpy()


def _pool_args(image: np.ndarray, kind: str, kernel_size: int, stride: int | None,
               padding: int) -> tuple[np.ndarray, int, int, int, tuple[dims.Worked, dims.Worked]]:
    if kind not in POOL_KINDS:
        raise ValueError(f"pooling kind must be one of {POOL_KINDS}, got {kind!r}")
    img = _image(image)
    k = _int("pooling kernel size", kernel_size)
    s = k if stride is None else _int("pooling stride", stride)
    p = _int("pooling padding", padding)
    if p < 0:
        raise ValueError(f"pooling padding {padding} must be between 0 and half the kernel {kernel_size}")
    dims.check_pool_padding(k, p)
    return img, k, s, p, sizes(img.shape[0], img.shape[1], k, s, p)


def pool(image: np.ndarray, kind: str = "max", kernel_size: int = 2, stride: int | None = None,
         padding: int = 0) -> np.ndarray:
    """Max or average pooling per channel, as F.max_pool2d / F.avg_pool2d (stride defaults to kernel_size)."""
    img, k, s, p, _ = _pool_args(image, kind, kernel_size, stride, padding)
    fn = F.max_pool2d if kind == "max" else F.avg_pool2d
    out = fn(_chw(img), k, stride=s, padding=p)[0]  # (C, Ho, Wo)
    return out[0].numpy() if img.ndim == 2 else out.permute(1, 2, 0).numpy()


def relu(x: np.ndarray) -> np.ndarray:
    """max(x, 0) element-wise."""
    return np.maximum(x, 0)


def resolve_padding(mode: str | int, kernel_size: int, dilation: int = 1) -> int:
    """'valid' -> 0, 'same' -> (K_eff - 1)/2 (from dims), a number -> itself; ValueError otherwise."""
    if mode == "valid":
        return 0
    if mode == "same":
        p = dims.same_padding(kernel_size, dilation)
        if p is None:
            raise ValueError(f"no symmetric 'same' padding exists for a {kernel_size}x{kernel_size} kernel "
                             f"with dilation {dilation} (even span); pick a number")
        return p
    p = _int("padding", mode)
    if p < 0:
        raise ValueError(f"padding must be 0 or more, got {p}")
    return p


@dataclass(frozen=True)
class Window:
    """Where one output position looks in the input: tap coordinates (may fall in the padding)."""

    rows: tuple[int, ...]
    cols: tuple[int, ...]
    inside: np.ndarray        # (k, k) bool: True where the tap hits a real pixel, False in the padding

    def gather(self, img: np.ndarray, fill: float) -> np.ndarray:
        """The pixels under the taps, (k, k) or (k, k, C), `fill` where the tap is in the padding."""
        r = np.clip(np.array(self.rows), 0, img.shape[0] - 1)
        c = np.clip(np.array(self.cols), 0, img.shape[1] - 1)
        values = img[np.ix_(r, c)].astype(np.float64)
        mask = self.inside if img.ndim == 2 else self.inside[..., None]
        return np.where(mask, values, fill)


def taps(out_index: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> tuple[int, ...]:
    """The input positions one output position reads along one axis: index*S - P + i*D for i < k (a position
    below 0 or past the edge is in the padding). The calculator's window and explain's worked units share it."""
    return tuple(out_index * stride - padding + i * dilation for i in range(kernel_size))


def window(shape: tuple[int, ...], row: int, col: int, kernel_size: int, stride: int = 1, padding: int = 0,
           dilation: int = 1) -> Window:
    """The taps of output (row, col): input rows row*S - P + i*D; ValueError if (row, col) is not an output."""
    rw, cw = sizes(shape[0], shape[1], kernel_size, stride, padding, dilation)
    row, col = _int("row", row), _int("column", col)
    if not (0 <= row < rw.out and 0 <= col < cw.out):
        raise ValueError(f"output position ({row}, {col}) is outside the {rw.out}x{cw.out} output")
    rows, cols = (taps(i, kernel_size, stride, padding, dilation) for i in (row, col))
    inside = np.outer([0 <= r < shape[0] for r in rows], [0 <= c < shape[1] for c in cols])
    return Window(rows, cols, inside)


@dataclass(frozen=True)
class PixelExplanation:
    """One output pixel worked out: patch ⊙ kernel = products; per-channel sums; their total."""

    row: int
    col: int
    window: Window
    patch: np.ndarray         # (k, k) or (k, k, C) float64, 0 where the tap is in the zero padding
    kernel: np.ndarray        # (k, k) or (k, k, C) float64
    products: np.ndarray      # patch * kernel, same shape as patch
    channel_sums: tuple[float, ...]
    total: float              # == convolve(...)[row, col]


def explain_pixel(image: np.ndarray, kernel: np.ndarray, row: int, col: int, stride: int = 1,
                  padding: int = 0, dilation: int = 1) -> PixelExplanation:
    """The two operations behind convolve()[row, col]: element-wise multiply, then sum."""
    img = _image(image)
    k = _kernel(kernel, 1 if img.ndim == 2 else img.shape[2])
    win = window(img.shape, row, col, k.shape[0], stride, padding, dilation)
    patch = win.gather(img, 0.0)
    products = patch * (k if k.ndim == patch.ndim else k[..., None])
    sums = products.sum(axis=(0, 1)) if products.ndim == 3 else np.array([products.sum()])
    return PixelExplanation(row, col, win, patch, k, products, tuple(float(v) for v in sums),
                            float(sums.sum()))


@dataclass(frozen=True)
class PoolExplanation:
    """One pooled value worked out: the window's max or mean (per channel)."""

    row: int
    col: int
    kind: str
    window: Window
    values: np.ndarray        # (k, k) or (k, k, C); -inf (max) or 0 (avg) in the padding
    result: tuple[float, ...]  # per channel == pool(...)[row, col]
    argmax: tuple[tuple[int, int], ...] = field(default=())  # max: the winning cell per channel


def explain_pool(image: np.ndarray, row: int, col: int, kind: str = "max", kernel_size: int = 2,
                 stride: int | None = None, padding: int = 0) -> PoolExplanation:
    """The window behind pool()[row, col] and its max or mean (padding counts as 0 in the mean, like torch)."""
    img, k, s, p, _ = _pool_args(image, kind, kernel_size, stride, padding)
    win = window(img.shape, row, col, k, s, p)
    values = win.gather(img, -np.inf if kind == "max" else 0.0)
    per_channel = values if values.ndim == 3 else values[..., None]  # (k, k, C)
    flat = per_channel.reshape(k * k, -1)
    if kind == "max":
        best = flat.argmax(axis=0)
        return PoolExplanation(row, col, kind, win, values, tuple(float(v) for v in flat.max(axis=0)),
                               tuple(divmod(int(i), k) for i in best))
    return PoolExplanation(row, col, kind, win, values, tuple(float(v) for v in flat.mean(axis=0)))


def next_position(row: int, col: int, out_rows: int, out_cols: int) -> tuple[int, int]:
    """The window's next stop, row by row (wraps to (0, 0) after the last) — for the step-through."""
    index = (row * out_cols + col + 1) % (out_rows * out_cols)
    return divmod(index, out_cols)


@dataclass(frozen=True)
class Settings:
    """Everything the playground's widgets choose, as plain values (a page builds it; tests build it too)."""

    kernel: tuple[tuple[float, ...], ...] = ((0.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 0.0))
    stride: int = 1
    padding: int = 0
    dilation: int = 1
    per_channel: bool = False   # RGB picture: keep its channels (filter depth 3); False: make it grey first
    convolve: bool = True       # False: pooling alone
    relu: bool = False
    pool: str | None = None     # None, "max" or "avg"
    pool_size: int = 2
    pool_stride: int | None = None

    @property
    def kernel_array(self) -> np.ndarray:
        """The kernel as a (k, k) float64 array."""
        return np.asarray(self.kernel, dtype=np.float64)


def settings_kernel(kernel: np.ndarray) -> tuple[tuple[float, ...], ...]:
    """A (k, k) array -> the hashable nested tuple Settings stores."""
    return tuple(tuple(float(v) for v in row) for row in np.asarray(kernel, dtype=np.float64))


@dataclass(frozen=True)
class Result:
    """The CONV -> RELU -> POOL block run on one picture; None for a stage that is switched off."""

    image: np.ndarray                         # what the block ran on: (H, W) or (H, W, C)
    conv_sizes: tuple[dims.Worked, dims.Worked] | None
    channels: np.ndarray | None               # (Ho, Wo, C) per-channel responses, C > 1 only
    conv: np.ndarray | None                   # (Ho, Wo) the filter's output (channels summed)
    activated: np.ndarray | None              # relu(conv)
    pool_sizes: tuple[dims.Worked, dims.Worked] | None
    pooled: np.ndarray | None

    @property
    def pool_input(self) -> np.ndarray:
        """What the pooling stage sees: the last conv stage, or the picture itself."""
        for stage in (self.activated, self.conv, self.image):
            if stage is not None:
                return stage
        raise AssertionError("unreachable")


def prepare(image: np.ndarray, per_channel: bool) -> np.ndarray:
    """The picture the block runs on: grey unless per-channel is asked for (alpha dropped)."""
    img = _image(image)
    if img.ndim == 3 and img.shape[2] == 4:
        img = img[..., :3]
    return img if per_channel or img.ndim == 2 else to_grey(img).astype(img.dtype)


def run(image: np.ndarray, settings: Settings) -> Result:
    """Run the playground's block (conv, optional ReLU, optional pooling) with its output sizes worked out."""
    s = settings
    img = prepare(image, s.per_channel)
    conv_sizes = channels = conv = activated = None
    if s.convolve:
        k = s.kernel_array
        conv_sizes = sizes(img.shape[0], img.shape[1], k.shape[0], s.stride, s.padding, s.dilation)
        if img.ndim == 3:  # one depthwise conv, then the sum: what conv2d does, without computing it twice
            channels = convolve_channels(img, k, s.stride, s.padding, s.dilation)
            conv = channels.sum(axis=2, dtype=channels.dtype)
        else:
            conv = convolve(img, k, s.stride, s.padding, s.dilation)
        activated = relu(conv) if s.relu else None
    result = Result(img, conv_sizes, channels, conv, activated, None, None)
    if s.pool is None:
        return result
    src = result.pool_input
    return replace(result, pool_sizes=_pool_args(src, s.pool, s.pool_size, s.pool_stride, 0)[4],
                   pooled=pool(src, s.pool, s.pool_size, s.pool_stride))


def size_text(label: str, worked: tuple[dims.Worked, dims.Worked]) -> tuple[str, str, tuple[str, ...]]:
    """(headline, the formula's worked lines, notes) of one stage's output size, height and width."""
    rows, cols = worked
    head = f"**{label} output: {rows.out} x {cols.out}** ({rows.padding_kind} padding), by the calculator's formula:"
    lines = (("height:" if rows != cols else "height and width:", *rows.steps)
             + (("width:", *cols.steps) if rows != cols else ()))
    return head, "\n".join(lines), tuple(dict.fromkeys(rows.notes + cols.notes))


def sum_text(ex: PixelExplanation, out: np.ndarray, activated: np.ndarray | None = None) -> str:
    """The sentence under the worked pixel: channel sums, their total, the output value (and ReLU of it)."""
    r, c = ex.row, ex.col
    sums = " + ".join(f"{v:.4g}" for v in ex.channel_sums) + " = " if len(ex.channel_sums) > 1 else ""
    text = f"Sum of the products: {sums}**{ex.total:.4g}** = output[{r}, {c}] = **{out[r, c]:.4g}**"
    if activated is not None:
        text += f"; then ReLU: max(0, {out[r, c]:.4g}) = **{activated[r, c]:.4g}**"
    return text


def clamp_position(row: int | None, col: int | None, shape: tuple[int, ...]) -> tuple[int, int]:
    """An output position kept inside a (rows, cols, ...) output; None (not chosen yet) is the centre."""
    return tuple(n // 2 if v is None else min(max(int(v), 0), n - 1) for v, n in zip((row, col), shape[:2]))


def start_position(out: np.ndarray) -> tuple[int, int]:
    """Where the step-through starts: the output pixel of largest |value| (the first, row by row, on ties), so
    the first sum a class sees is a real one; the centre of an output that is 0 everywhere."""
    a = np.abs(np.asarray(out, dtype=np.float64))
    a = a if a.ndim == 2 else a.max(axis=tuple(range(2, a.ndim)))  # (H, W): the strongest channel
    if not np.any(a > 0):
        return clamp_position(None, None, a.shape)
    r, c = np.unravel_index(int(np.nanargmax(a)), a.shape)
    return int(r), int(c)


@dataclass(frozen=True)
class Stepped:
    """The stepped pixel as the page last showed it: on which output shape, where, and whether it was the
    automatic start (which follows the output) or a choice (a link's, the slider's, Play's), which stays."""

    shape: tuple[int, int]
    row: int
    col: int
    auto: bool

    def next(self) -> Stepped:
        """One cell on, row by row (Play): a position Play moved to is kept like a chosen one."""
        return Stepped(self.shape, *next_position(self.row, self.col, *self.shape), False)


def stepped_position(row: int | None, col: int | None, out: np.ndarray, last: Stepped | None = None) -> Stepped:
    """The pixel to step through on `out`: (row, col) when someone chose it since `last` was shown (a link,
    a lesson, the slider), kept inside the output; else the start_position, for a new output or one whose
    start moved, and for a picture of another size (a kept position would land in a corner of it)."""
    shape = tuple(int(n) for n in np.shape(out)[:2])
    if row is not None and col is not None:
        chosen = last is None or (int(row), int(col)) != (last.row, last.col)
        if chosen or (not last.auto and last.shape == shape):
            return Stepped(shape, *clamp_position(row, col, shape), False)
    return Stepped(shape, *start_position(out), True)
