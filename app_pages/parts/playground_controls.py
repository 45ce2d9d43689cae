"""The playground's sidebar controls (not a page): picture, kernel, CONV -> RELU -> POOL settings.

Every widget is bound to the page's state (cnnviz.pagestate.playground(): no default value arguments here).
"""
import numpy as np
import pandas as pd
import streamlit as st

from app_pages.shell import fields, ui, words
from app_pages.shell.cached import load_split
from cnnviz import data, images, kernels, ops, pagestate, pictures
from cnnviz.images import read_upload

CUSTOM = pagestate.PG_CUSTOM
SCHEMA = pagestate.playground()


@st.cache_data(show_spinner=False)
def _photo(name: str) -> np.ndarray:
    return pictures.photo(name)


@st.cache_data(show_spinner=False, max_entries=4)
def _upload(file_id: str, _raw: bytes):  # keyed by the upload's id: hashing 20 MB on every rerun costs ~40 ms
    return read_upload(_raw, max_side=512)


def choose_picture() -> np.ndarray | None:
    source = fields.radio(SCHEMA["src"], "Picture", horizontal=True)
    if source == "Pattern":
        with ui.advanced("pattern_size"):
            size = fields.slider(SCHEMA["psize"], "Pattern size")
        return pictures.pattern(fields.select(SCHEMA["pattern"], "Pattern"), size)
    if source == "MNIST digit":
        if not data.available("mnist"):
            st.warning(data.missing_message("mnist") + " Meanwhile, pick a photo, a pattern or an upload.")
            return None
        pixels, label = pictures.digit(load_split("mnist", "test"), fields.number(SCHEMA["digit"], "Test digit number"))
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
        image = _photo(fields.select(SCHEMA["photo"], "Photo (bundled with scikit-image)"))
    crop = fields.select_slider(SCHEMA["crop"], "Crop (small crops show every number)")
    with ui.advanced("crop_centre"):
        r, c = st.columns(2)
        centre = (fields.slider(SCHEMA["cr"], "Crop centre ↓", r), fields.slider(SCHEMA["cc"], "Crop centre →", c))
    return image if crop == "full" else pictures.crop_at(image, crop, *centre)


def choose_kernel() -> np.ndarray:
    name = fields.select(SCHEMA["kernel"], "Kernel",
                         format_func=lambda n: n if n in CUSTOM else f"{kernels.group_of(n)}: {kernels.label(n)}")
    if name not in CUSTOM:
        words.caption(kernels.DESCRIPTIONS[name])
        return kernels.KERNELS[name]
    kernel = kernels.custom_start(int(name[-1]), st.session_state.get("pg_custom"))
    grid = st.data_editor(pd.DataFrame(kernel), key=f"pg_grid_{len(kernel)}", hide_index=True)
    kernel = kernels.parse_custom(grid)  # ValueError naming an empty / non-numeric cell
    st.session_state["pg_custom"] = ops.settings_kernel(kernel)  # kept, and in the link
    return kernel


def choose_settings(kernel: np.ndarray, rgb: bool) -> ops.Settings:
    do_conv = fields.toggle(SCHEMA["conv"], "Convolution", help="Off: pooling alone, on the picture")
    stride = fields.slider(SCHEMA["stride"], "Stride S")
    c1, c2 = st.columns([3, 2])
    mode = fields.radio(SCHEMA["pad"], "Padding P", c1, horizontal=True)
    number = fields.number(SCHEMA["p"], "P", c2, disabled=mode != "number")
    with ui.advanced("conv_more"):
        dilation = fields.slider(SCHEMA["dil"], "Dilation D", help="Gaps between the kernel's taps")
        per_channel = rgb and fields.toggle(SCHEMA["rgb"], "Keep the 3 colour channels (filter depth 3)")
    relu = fields.toggle(SCHEMA["relu"], "ReLU after the convolution", disabled=not do_conv)
    pool = fields.select(SCHEMA["pool"], "Pooling")
    with ui.advanced("pool_more"):
        p1, p2 = st.columns(2)
        size = fields.slider(SCHEMA["psz"], "Pool size", p1, disabled=pool == "none")
        pool_stride = fields.slider(SCHEMA["pst"], "Pool stride", p2, disabled=pool == "none")
    return ops.Settings(ops.settings_kernel(kernel), stride, ops.resolve_padding(number if mode == "number" else mode,
                        kernel.shape[0], dilation), dilation, per_channel, do_conv, relu and do_conv,
                        None if pool == "none" else pool, size, pool_stride)
