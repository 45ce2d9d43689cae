"""Convolution & pooling playground: slide a kernel over a picture, then ReLU and pooling, and see every number."""
import numpy as np
import pandas as pd
import streamlit as st

from app_pages.cached import load_split
from cnnviz import data, kernels, ops, pictures
from cnnviz.figures import playground as figs
from cnnviz.images import read_upload

SOURCES = ("Photo", "Pattern", "MNIST digit", "Upload")
CUSTOM = ("custom 3x3", "custom 5x5")
CROPS = ("full", 7, 16, 28, 64, 128)
ZOOM = 2  # big pictures: the step-through shows the window and 2 cells around it, numbers written in
PLAY_MAX = 32  # the autoplay walks every output pixel only when the output is at most this many a side


@st.cache_data(show_spinner=False)
def _photo(name: str) -> np.ndarray:
    return pictures.photo(name)


@st.cache_data(show_spinner=False, max_entries=4)
def _upload(file_id: str, _raw: bytes):  # keyed by the upload's id: hashing 20 MB on every rerun costs ~40 ms
    return read_upload(_raw, max_side=512)


@st.cache_data(show_spinner=False, max_entries=64)
def _run(image: np.ndarray, settings: ops.Settings) -> ops.Result:
    return ops.run(image, settings)


def choose_picture() -> np.ndarray | None:
    source = st.radio("Picture", SOURCES, horizontal=True, key="pg_source")
    if source == "Pattern":
        size = st.slider("Pattern size", 3, 32, 7, key="pg_pattern_size")
        return pictures.pattern(st.selectbox("Pattern", pictures.PATTERNS, key="pg_pattern"), size)
    if source == "MNIST digit":
        if not data.available("mnist"):
            st.warning(data.missing_message("mnist") + " Meanwhile, pick a photo, a pattern or an upload.")
            return None
        index = st.number_input("Test digit number", 0, 9999, 0, key="pg_digit")
        pixels, label = pictures.digit(load_split("mnist", "test"), index)
        st.caption(f"This digit is a **{label}**; 28x28 grey.")
        return pixels
    if source == "Upload":
        file = st.file_uploader("A PNG or JPEG picture", type=["png", "jpg", "jpeg"], key="pg_upload")
        if file is None:
            return None
        pic = _upload(file.file_id, file.getvalue())  # ValueError for a corrupt or non-image file: shown by the caller
        for note in pic.notes:
            st.caption(note)
        image = pic.pixels
    else:
        image = _photo(st.selectbox("Photo (bundled with scikit-image)", pictures.PHOTOS, key="pg_photo"))
    crop = st.select_slider("Crop (small crops show every number)", CROPS, key="pg_crop")
    if crop == "full":
        return image
    r, c = st.columns(2)
    return pictures.crop_at(image, crop, r.slider("Crop centre ↓", 0.0, 1.0, 0.5, key="pg_crop_r"),
                            c.slider("Crop centre →", 0.0, 1.0, 0.5, key="pg_crop_c"))


def choose_kernel() -> np.ndarray:
    names = list(kernels.NAMED) + list(CUSTOM)
    name = st.selectbox("Kernel", names, index=names.index("outline"), key="pg_kernel",
                        format_func=lambda n: n if n in CUSTOM else f"{kernels.group_of(n)}: {kernels.label(n)}")
    if name not in CUSTOM:
        st.caption(kernels.DESCRIPTIONS[name])
        return kernels.KERNELS[name]
    size = int(name[-1])
    start = pd.DataFrame(kernels.get("identity") if size == 3 else np.pad(kernels.get("identity"), 1))
    grid = st.data_editor(start, key=f"pg_grid_{size}", hide_index=True)
    return kernels.parse_custom(grid)  # ValueError naming an empty / non-numeric cell


def choose_settings(kernel: np.ndarray, rgb: bool) -> ops.Settings:
    do_conv = st.toggle("Convolution", True, key="pg_conv", help="Off: pooling alone, on the picture")
    stride = st.slider("Stride S", 1, 4, 1, key="pg_stride")
    c1, c2 = st.columns([3, 2])
    mode = c1.radio("Padding P", ("valid", "same", "number"), horizontal=True, key="pg_pad_mode")
    number = c2.number_input("P", 0, 16, 1, key="pg_pad", disabled=mode != "number")
    dilation = st.slider("Dilation D", 1, 4, 1, key="pg_dilation", help="Gaps between the kernel's taps")
    per_channel = rgb and st.toggle("Keep the 3 colour channels (filter depth 3)", key="pg_rgb")
    relu = st.toggle("ReLU after the convolution", key="pg_relu", disabled=not do_conv)
    pool = st.selectbox("Pooling", ("none", "max", "avg"), key="pg_pool")
    p1, p2 = st.columns(2)
    size = p1.slider("Pool size", 2, 4, 2, key="pg_pool_size", disabled=pool == "none")
    pool_stride = p2.slider("Pool stride", 1, 4, 2, key="pg_pool_stride", disabled=pool == "none")
    return ops.Settings(ops.settings_kernel(kernel), stride, ops.resolve_padding(number if mode == "number" else mode,
                        kernel.shape[0], dilation), dilation, per_channel, do_conv, relu and do_conv,
                        None if pool == "none" else pool, size, pool_stride)


def show_size(label: str, worked: tuple) -> None:
    rows, cols = worked
    st.markdown(f"**{label} output: {rows.out} x {cols.out}** ({rows.padding_kind} padding), "
                "by the calculator's formula:")
    st.code("\n".join(("height:" if rows != cols else "height and width:", *rows.steps)
                      + (("width:", *cols.steps) if rows != cols else ())), language=None)
    for note in dict.fromkeys(rows.notes + cols.notes):
        st.caption(note)


def position(label: str, shape: tuple[int, ...], key: str, play: bool = False) -> tuple[int, int]:
    """Row and column sliders for an output position (kept inside the output); `play` steps it once first."""
    r, c = (min(st.session_state.get(f"{key}_{a}", n // 2), n - 1) for a, n in zip("rc", shape[:2]))
    r, c = ops.next_position(r, c, *shape[:2]) if play else (r, c)
    st.session_state[f"{key}_r"], st.session_state[f"{key}_c"] = r, c
    cols = st.columns(2)
    return tuple(col.slider(f"{label} {axis}", 0, n - 1, key=f"{key}_{a}") if n > 1 else 0
                 for col, axis, a, n in zip(cols, ("row", "column"), "rc", shape[:2]))


def step_conv(res: ops.Result, s: ops.Settings, play: bool) -> None:
    """Pick (or autoplay) one output pixel; its window on the input and the multiply-then-sum behind it."""
    out = res.conv
    r, c = position("Output", out.shape, "pg_pos", play)
    ex = ops.explain_pixel(res.image, s.kernel_array, r, c, s.stride, s.padding, s.dilation)
    left, right = st.columns(2)
    left.plotly_chart(figs.picture(res.image, "Input: the window", s.padding, ex.window, 340, ZOOM), width="stretch")
    right.plotly_chart(figs.picture(out, f"Output: pixel ({r}, {c})", 0, ops.window(out.shape, r, c, 1), 340, ZOOM),
                       width="stretch")
    st.plotly_chart(figs.explain_figure(ex), width="stretch")
    sums = " + ".join(f"{v:.4g}" for v in ex.channel_sums) + " = " if len(ex.channel_sums) > 1 else ""
    st.markdown(f"Sum of the products: {sums}**{ex.total:.4g}** = output[{r}, {c}] = **{out[r, c]:.4g}**")
    if res.activated is not None:
        st.markdown(f"Then ReLU: max(0, {out[r, c]:.4g}) = **{res.activated[r, c]:.4g}**")


def step_pool(res: ops.Result, s: ops.Settings) -> None:
    """One pooled value: its window on the pooling input and the max or mean of it."""
    src, pooled = res.pool_input, res.pooled
    r, c = position("Pooled", pooled.shape, "pg_ppos")
    ex = ops.explain_pool(src, r, c, s.pool, s.pool_size, s.pool_stride)
    ch = st.radio("Channel", (0, 1, 2), format_func="RGB".__getitem__, horizontal=True) if src.ndim == 3 else 0
    left, right = st.columns([3, 2])
    left.plotly_chart(figs.picture(src, "Pooling input: the window", 0, ex.window, 340, ZOOM), width="stretch")
    right.plotly_chart(figs.pool_figure(ex, ch), width="stretch")
    value = pooled[r, c] if pooled.ndim == 2 else pooled[r, c, ch]
    st.markdown(f"{s.pool} of the window = **{ex.result[ch]:.4g}** = pooled[{r}, {c}] = **{value:.4g}**")

st.title("🔍 Convolution & pooling playground")
st.caption("Slide a kernel over a picture: at each position multiply the pixels under it by the kernel's weights, "
           "element by element, and add the products up — one output pixel. Like PyTorch's `conv2d` this is "
           "*cross-correlation*: the kernel is not flipped, as in every CNN.")
alerts = st.container()  # messages go above the figures, where the eye is, not into the sidebar


def attempt(choose, *args):
    """Run a widget group; a ValueError (corrupt upload, empty kernel cell, impossible padding) becomes a message."""
    try:
        return choose(*args)
    except ValueError as err:
        alerts.error(str(err))
        return None


with st.sidebar:
    st.subheader("Picture")
    image = attempt(choose_picture)
    st.subheader("Kernel")
    kernel = attempt(choose_kernel)
    st.subheader("CONV → RELU → POOL")
    settings = attempt(choose_settings, kernels.KERNELS["identity"] if kernel is None else kernel,
                       image is not None and image.ndim == 3)
if image is None:
    alerts.info("Choose a picture in the sidebar to start.")
if image is None or kernel is None or settings is None:
    st.stop()
try:
    res = _run(image, settings)
except ValueError as err:
    st.error(f"{err}. Use a smaller kernel or dilation, add padding, or pick a bigger picture.")
    st.stop()

cols = st.columns([5, 2, 5])
cols[0].plotly_chart(figs.picture(res.image, f"Input ({pictures.describe(res.image)})", settings.padding),
                     width="stretch")
if settings.convolve:
    cols[1].plotly_chart(figs.kernel_figure(settings.kernel_array), width="stretch")
    cols[2].plotly_chart(figs.picture(res.conv, "Convolution output"), width="stretch")
    if res.channels is not None:
        st.info("An RGB picture has 3 channels, so the filter has depth 3 — here the same kernel on each channel "
                "(a trained CNN learns a different slice per channel). Its 3 responses add up to one output map.")
        st.plotly_chart(figs.channels_figure(res.channels), width="stretch")
    show_size("Convolution", res.conv_sizes)
if settings.pool is not None or settings.relu:
    cols = st.columns(2)
    if res.activated is not None:
        cols[0].plotly_chart(figs.picture(res.activated, "After ReLU: max(0, x)"), width="stretch")
    if res.pooled is not None:
        cols[1].plotly_chart(figs.picture(res.pooled, f"After {settings.pool} pooling"), width="stretch")
        show_size(f"{settings.pool.capitalize()} pooling", res.pool_sizes)

st.header("Step through one output pixel")
conv_tab, pool_tab = st.tabs(["Convolution", "Pooling"])
with conv_tab:
    if res.conv is None:
        st.info("The convolution is off: pooling alone.")
    else:
        small = max(res.conv.shape) <= PLAY_MAX
        st.toggle("▶ Play: slide the window cell by cell", key="pg_play", disabled=not small,
                  help=None if small else f"For outputs up to {PLAY_MAX}x{PLAY_MAX}: crop the picture first.")
        play = small and st.session_state.get("pg_play", False)
        st.fragment(step_conv, run_every=0.8 if play else None)(res, settings, play)
with pool_tab:
    if res.pooled is None:
        st.info("Choose max or avg pooling in the sidebar to see a pooling window.")
    else:
        st.fragment(step_pool)(res, settings)
