"""The playground's sidebar controls (not a page): picture, kernel, CONV -> RELU -> POOL settings.

Every widget is bound to the page's state (cnnviz.pagestate.playground(): no default value arguments here).
"""
import numpy as np
import pandas as pd
import streamlit as st

from app_pages.shell import ui
from app_pages.shell.cached import load_split
from cnnviz import data, images, kernels, ops, pagestate, pictures
from cnnviz.images import read_upload

CUSTOM = pagestate.PG_CUSTOM
NAMES = pagestate.playground()["kernel"].options


@st.cache_data(show_spinner=False)
def _photo(name: str) -> np.ndarray:
    return pictures.photo(name)


@st.cache_data(show_spinner=False, max_entries=4)
def _upload(file_id: str, _raw: bytes):  # keyed by the upload's id: hashing 20 MB on every rerun costs ~40 ms
    return read_upload(_raw, max_side=512)


def choose_picture() -> np.ndarray | None:
    source = st.radio("Picture", pagestate.PG_SOURCES, horizontal=True, key="pg_source")
    if source == "Pattern":
        with ui.advanced("pattern_size"):
            size = st.slider("Pattern size", 3, 32, key="pg_pattern_size")
        return pictures.pattern(st.selectbox("Pattern", pictures.PATTERNS, key="pg_pattern"), size)
    if source == "MNIST digit":
        if not data.available("mnist"):
            st.warning(data.missing_message("mnist") + " Meanwhile, pick a photo, a pattern or an upload.")
            return None
        pixels, label = pictures.digit(load_split("mnist", "test"), st.number_input("Test digit number", 0, 9999,
                                                                                    key="pg_digit"))
        st.caption(f"This digit is a **{label}**; 28x28 grey.")
        return pixels
    if source == "Upload":
        file = st.file_uploader("A picture", type=images.UPLOAD_TYPES, help=images.UPLOAD_HELP, key="pg_upload")
        if file is None:
            return None
        pic = _upload(file.file_id, file.getvalue())  # ValueError for a corrupt or non-image file: shown by the caller
        for note in pic.notes:
            st.caption(note)
        image = pic.pixels
    else:
        image = _photo(st.selectbox("Photo (bundled with scikit-image)", pictures.PHOTOS, key="pg_photo"))
    crop = st.select_slider("Crop (small crops show every number)", pagestate.PG_CROPS, key="pg_crop")
    with ui.advanced("crop_centre"):
        r, c = st.columns(2)
        centre = (r.slider("Crop centre ↓", 0.0, 1.0, key="pg_crop_r"),
                  c.slider("Crop centre →", 0.0, 1.0, key="pg_crop_c"))
    return image if crop == "full" else pictures.crop_at(image, crop, *centre)


def choose_kernel() -> np.ndarray:
    name = st.selectbox("Kernel", NAMES, key="pg_kernel",
                        format_func=lambda n: n if n in CUSTOM else f"{kernels.group_of(n)}: {kernels.label(n)}")
    if name not in CUSTOM:
        st.caption(kernels.DESCRIPTIONS[name])
        return kernels.KERNELS[name]
    kernel = kernels.custom_start(int(name[-1]), st.session_state.get("pg_custom"))
    grid = st.data_editor(pd.DataFrame(kernel), key=f"pg_grid_{len(kernel)}", hide_index=True)
    kernel = kernels.parse_custom(grid)  # ValueError naming an empty / non-numeric cell
    st.session_state["pg_custom"] = ops.settings_kernel(kernel)  # kept, and in the link
    return kernel


def choose_settings(kernel: np.ndarray, rgb: bool) -> ops.Settings:
    do_conv = st.toggle("Convolution", key="pg_conv", help="Off: pooling alone, on the picture")
    stride = st.slider("Stride S", 1, 4, key="pg_stride")
    c1, c2 = st.columns([3, 2])
    mode = c1.radio("Padding P", pagestate.PG_PADDING, horizontal=True, key="pg_pad_mode")
    number = c2.number_input("P", 0, 16, key="pg_pad", disabled=mode != "number")
    with ui.advanced("conv_more"):
        dilation = st.slider("Dilation D", 1, 4, key="pg_dilation", help="Gaps between the kernel's taps")
        per_channel = rgb and st.toggle("Keep the 3 colour channels (filter depth 3)", key="pg_rgb")
    relu = st.toggle("ReLU after the convolution", key="pg_relu", disabled=not do_conv)
    pool = st.selectbox("Pooling", pagestate.PG_POOL, key="pg_pool")
    with ui.advanced("pool_more"):
        p1, p2 = st.columns(2)
        size = p1.slider("Pool size", 2, 4, key="pg_pool_size", disabled=pool == "none")
        pool_stride = p2.slider("Pool stride", 1, 4, key="pg_pool_stride", disabled=pool == "none")
    return ops.Settings(ops.settings_kernel(kernel), stride, ops.resolve_padding(number if mode == "number" else mode,
                        kernel.shape[0], dilation), dilation, per_channel, do_conv, relu and do_conv,
                        None if pool == "none" else pool, size, pool_stride)
