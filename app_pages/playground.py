"""Convolution & pooling playground: slide a kernel over a picture, then ReLU and pooling, and see every number."""
import numpy as np
import streamlit as st

from app_pages.parts.playground_controls import choose_kernel, choose_picture, choose_settings
from app_pages.shell import ui, words
from cnnviz import kernels, ops, pagestate, pictures
from cnnviz.figures import playground as figs

PAGE, SCHEMA = "playground", pagestate.playground()
TABS = pagestate.PG_STEP_TABS
ZOOM = 2  # big pictures: the step-through shows the window and 2 cells around it, numbers written in
PLAY_MAX = 32  # the autoplay walks every output pixel only when the output is at most this many a side
H = 235  # figure height: picture, kernel, output and the step-through fit one 1280x720 screen


@st.cache_data(show_spinner=False, max_entries=64)
def _run(image: np.ndarray, settings: ops.Settings) -> ops.Result:
    return ops.run(image, settings)


def show_size(label: str, worked: tuple) -> None:
    head, lines, notes = ops.size_text(label, worked)
    words.markdown(head)
    st.code(lines, language=None)
    for note in notes:
        words.caption(note)


def position(label: str, out: np.ndarray, key: str, play: bool = False) -> tuple[int, int]:
    """Row and column sliders for an output position: a link's or the slider's choice, else the strongest pixel
    (ops.stepped_position); `play` steps it once first."""
    at = ops.stepped_position(st.session_state.get(f"{key}_r"), st.session_state.get(f"{key}_c"), out,
                              st.session_state.get(f"{key}_at"))
    at = st.session_state[f"{key}_at"] = at.next() if play else at
    st.session_state[f"{key}_r"], st.session_state[f"{key}_c"] = at.row, at.col
    cols = st.columns(2)
    return tuple(col.slider(f"{label} {axis}", 0, n - 1, key=f"{key}_{a}") if n > 1 else 0
                 for col, axis, a, n in zip(cols, ("row", "column"), "rc", at.shape))


def step_conv(res: ops.Result, s: ops.Settings, play: bool) -> None:
    """Pick (or autoplay) one output pixel; its window on the input and the multiply-then-sum behind it."""
    out = res.conv
    presenting = ui.presenting()
    left, mid, right = st.columns([2, 8]) + [None] if presenting else st.columns([3, 3, 4])
    with left:
        small = max(out.shape) <= PLAY_MAX
        on = st.toggle("▶ Play: slide the window cell by cell", key="pg_play", disabled=not small,
                       help=None if small else f"For outputs up to {PLAY_MAX}x{PLAY_MAX}: crop the picture first.")
        if small and on != play:
            st.rerun()  # the whole page: the fragment's timer (run_every) is set outside it
        r, c = position("Output", out, "pg_pos", play)
        ex = ops.explain_pixel(res.image, s.kernel_array, r, c, s.stride, s.padding, s.dilation)
        st.markdown(ops.sum_text(ex, out, res.activated))
    if right is None:  # presenting: no room for the zoomed window at 20 px; the patch block shows its numbers
        mid, right = None, mid
    else:
        ui.chart(figs.picture(res.image, "Input: the window", s.padding, ex.window, H, ZOOM), mid, width="stretch")
    cell = max(16, min(52, (H - 60) // (len(ex.channel_sums) * (len(s.kernel) + 1))))
    ui.chart(figs.explain_figure(ex, cell=cell + 20 * presenting, digits=3 - presenting), right, width="stretch")
    ui.sync(PAGE, SCHEMA)  # the stepped pixel moved: the link follows


def step_pool(res: ops.Result, s: ops.Settings) -> None:
    """One pooled value: its window on the pooling input and the max or mean of it."""
    src, pooled = res.pool_input, res.pooled
    left, mid, right = st.columns([3, 3, 4])
    with left:
        r, c = position("Pooled", pooled, "pg_ppos")
        ex = ops.explain_pool(src, r, c, s.pool, s.pool_size, s.pool_stride)
        ch = st.radio("Channel", (0, 1, 2), format_func="RGB".__getitem__, horizontal=True) if src.ndim == 3 else 0
        value = pooled[r, c] if pooled.ndim == 2 else pooled[r, c, ch]
        st.markdown(f"{s.pool} of the window = **{ex.result[ch]:.4g}** = pooled[{r}, {c}] = **{value:.4g}**")
    ui.chart(figs.picture(src, "Pooling input: the window", 0, ex.window, H, ZOOM), mid, width="stretch")
    ui.chart(figs.pool_figure(ex, ch, H), right, width="stretch")
    ui.sync(PAGE, SCHEMA)


ui.bind(PAGE, SCHEMA)
ui.title("🔍 Convolution & pooling playground", "Multiply the pixels under the kernel by its weights and add the "
         "products up: one output pixel. Like PyTorch's `conv2d`, the kernel is not flipped.", PAGE, SCHEMA)
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

last = res.pooled if res.pooled is not None else res.activated
row = st.container(horizontal=True)  # the kernel at its own width: a plotly chart under 150 px is cut off
ui.chart(figs.picture(res.image, f"Input ({pictures.describe(res.image)})", settings.padding, height=H), row,
         width="stretch")
if settings.convolve:
    ui.chart(figs.kernel_figure(settings.kernel_array, height=H), row, width=figs.KERNEL_WIDTH)
    if ui.answer("output", row):  # a lesson step may hide the answer-bearing parts until Reveal (cnnviz.reveal)
        ui.chart(figs.picture(res.conv, "Convolution output", height=H), row, width="stretch")
if last is not None and ui.answer("pooled", row):
    ui.chart(figs.picture(last, f"After {settings.pool} pooling" if res.pooled is not None else "After ReLU: max(0, x)",
                          height=H), row, width="stretch")
if not ui.answer("steps"):  # the step-through is the page's last part
    ui.sync(PAGE, SCHEMA)
    st.stop()
tabs = dict(zip(TABS, st.tabs(TABS, key="pg_step_tab", on_change="rerun")))
with tabs[TABS[0]]:
    if res.conv is None:
        st.info("The convolution is off: pooling alone.")
    elif tabs[TABS[0]].open:
        play = max(res.conv.shape) <= PLAY_MAX and st.session_state.get("pg_play", False)
        st.fragment(step_conv, run_every=0.8 if play else None)(res, settings, play)
with tabs[TABS[1]]:
    if res.pooled is None:
        st.info("Choose max or avg pooling in the sidebar to see a pooling window.")
    elif tabs[TABS[1]].open:
        st.fragment(step_pool)(res, settings)
with tabs[TABS[2]]:
    if tabs[TABS[2]].open:
        for label, worked in (("Convolution", res.conv_sizes), (f"{settings.pool} pooling", res.pool_sizes)):
            if worked is not None:
                show_size(label.capitalize(), worked)
        if res.channels is not None:
            st.info("An RGB picture has 3 channels, so the filter has depth 3: here the same kernel on each channel "
                    "(a trained CNN learns a different slice per channel). Its 3 responses add up to one output map.")
            ui.chart(figs.channels_figure(res.channels, height=H), width="stretch")
ui.sync(PAGE, SCHEMA)  # last: the URL and the "Copy link" popover show the values the widgets ended on
