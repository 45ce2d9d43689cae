"""Draw page section (not a page): the model picker and where the picture comes from (canvas, MNIST, upload).

On a narrow screen (a phone, an upright tablet) the picker folds into an expander: the canvas comes first.
"""
from dataclasses import dataclass

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from app_pages.parts import draw_class as wall
from app_pages.shell import fields, handoff, screen, ui
from app_pages.shell.cached import load_split
from cnnviz import checkpoints, data, images, pagestate, preprocess
from cnnviz.text import plain

SOURCES = pagestate.DRAW_SOURCES


@dataclass
class Inputs:
    """What the user chose: the model(s) and where the picture comes from."""

    models: list[str]
    source: str


@st.cache_data(show_spinner=False, max_entries=4)
def prepare_upload(file_id: str, _raw: bytes) -> preprocess.Prepared:  # keyed by the upload's id, not its bytes
    return preprocess.from_upload(_raw)


def model_picker() -> Inputs:
    """The model(s) and the picture's source (folded on a narrow screen)."""
    names = checkpoints.available()
    if not names:
        st.warning("No trained model yet: train one on **Train a CNN** first.")
        st.stop()
    schema = pagestate.draw(names)
    handoff.set_active_model(st.session_state["draw_model"])
    place = st.expander("Model, compare, input", expanded=False) if screen.narrow() else st.container()
    c = place.columns([2, 2, 3])
    first = fields.select(schema["model"], "Model", c[0],
                          on_change=lambda: handoff.set_active_model(st.session_state.draw_model))
    models = [first]
    if fields.toggle(schema["compare"], "Compare two models", c[1], help="Side by side, on the same drawing"):
        models.append(fields.select(schema["model2"], "Second model", c[1]))
    return Inputs(models, fields.radio(schema["src"], "Input", c[2], horizontal=True))


def read_input(inputs: Inputs, below) -> preprocess.Prepared:
    """The picture from the canvas, MNIST or an upload, prepared (raises ValueError / EmptyInput); the canvas's
    brush slider goes in `below`."""
    if inputs.source == SOURCES[1]:
        if not data.available("mnist"):
            raise ValueError(data.missing_message("mnist"))
        split = load_split("mnist", "test")  # only asked once the files are known to be there
        if st.button("🎲 Another digit") or st.session_state.get("draw_digit") is None:  # seeded: replayable
            roll = st.session_state["draw_roll"] = st.session_state.get("draw_roll", -1) + 1
            st.session_state["draw_digit"] = int(np.random.default_rng(roll).integers(len(split)))
        i = min(int(st.session_state["draw_digit"]), len(split) - 1)
        st.caption(f"Test digit #{i}, labelled **{plain(split.classes[int(split.labels[i])])}**")
        return preprocess.from_mnist(split.raw(i)[0])
    if inputs.source == SOURCES[2]:
        file = st.file_uploader("A photo or scan of one handwritten digit", type=images.UPLOAD_TYPES,
                                help=images.UPLOAD_HELP)
        if file is None:
            raise preprocess.EmptyInput("Upload a picture of a handwritten digit.")
        return prepare_upload(file.file_id, file.getvalue())
    wall.take_over()  # a drawing the teacher opened from the class wall
    if ui.keep(handoff.CANVAS):  # back from another page: the drawing as it was left (state survives navigation)
        st.session_state["draw_initial"] = st.session_state[handoff.CANVAS]["drawing"]["raw"]
    st.space("small")  # 1 + 0.75 + 1 rem above the canvas: its toolbar (undo, redo, clear) rises 2.65 rem over it
    canvas = st_canvas(stroke_width=st.session_state["draw_brush"], stroke_color="#FFFFFF", height=280, width=280,
                       background_color="#000000", drawing_mode="freedraw", key="canvas", return_image_data=True,
                       initial_drawing=st.session_state.get("draw_initial"))
    fields.slider(pagestate.draw([])["brush"], "Brush size", below, help="Toolbar under the canvas: ↶ undo, ↷ redo, "
                  "🗑 clear.")
    if canvas.image_data is None:
        raise preprocess.EmptyInput("Draw a digit on the black square.")
    return preprocess.to_mnist(canvas.image_data)
