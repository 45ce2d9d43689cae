"""The inputs of *How it learns* (not a page): the model (a checkpoint or an untrained preset), the image (the
canvas, shared with Draw a digit, or a test digit) and the right label."""
from __future__ import annotations

import numpy as np
import streamlit as st
import torch
from streamlit_drawable_canvas import st_canvas

from app_pages.shell import handoff, ui
from app_pages.shell.cached import load_model, load_split, untrained_model
from cnnviz import backprop, checkpoints, data, pagestate, preprocess

SOURCES = pagestate.LEARN_SOURCES


def load(choice: str) -> tuple[torch.nn.Module, dict]:
    """(model, card) of a checkpoint, or of a preset with fresh untrained weights."""
    if choice.startswith(backprop.UNTRAINED):
        preset = choice[len(backprop.UNTRAINED):]
        return untrained_model(preset), backprop.untrained_card(preset)
    return load_model(choice, checkpoints.resolve(choice).stat().st_mtime)  # mtime: a retrained model reloads


def read_input(source: str) -> tuple[preprocess.Prepared | None, int | None]:
    """(the picture, its true label when known) from the canvas or a test digit; a hint and None when there is none."""
    if source == SOURCES[1]:
        if not data.available("mnist"):
            st.error(data.missing_message("mnist"))
            return None, None
        split = load_split("mnist", "test")
        if st.button("🎲 Another digit") or st.session_state.get("learn_digit") is None:  # seeded: replayable
            roll = st.session_state["learn_roll"] = st.session_state.get("learn_roll", -1) + 1
            st.session_state["learn_digit"] = int(np.random.default_rng(roll).integers(len(split)))
            st.session_state["learn_label"] = int(split.labels[st.session_state["learn_digit"]])
        i = min(int(st.session_state["learn_digit"]), len(split) - 1)
        st.caption(f"Test digit #{i}, labelled **{split.classes[int(split.labels[i])]}**")
        prepared = preprocess.from_mnist(split.raw(i)[0])
        st.image(prepared.pixels, width=168, clamp=True)
        return prepared, int(split.labels[i])
    if ui.keep(handoff.CANVAS):  # the drawing of Draw a digit (or of an earlier visit) comes along
        st.session_state["learn_initial"] = st.session_state[handoff.CANVAS]["drawing"]["raw"]
    st.space("small")  # room for the canvas's toolbar, as on Draw
    canvas = st_canvas(stroke_width=handoff.brush(), stroke_color="#FFFFFF", height=280,
                       width=280, background_color="#000000", drawing_mode="freedraw", key="canvas",
                       return_image_data=True, initial_drawing=st.session_state.get("learn_initial"))
    try:
        if canvas.image_data is None:
            raise preprocess.EmptyInput("Draw a digit on the black square.")
        return preprocess.to_mnist(canvas.image_data), None
    except preprocess.EmptyInput as hint:
        st.info(f"✏️ {hint}")
    except ValueError as err:
        st.error(str(err))
    return None, None


def label_box(labels: tuple[str, ...], truth: int | None) -> int:
    """The right answer (the test digit's own label unless changed; 0 for a drawing), as a class number."""
    if not 0 <= int(st.session_state.get("learn_label", -1)) < len(labels):
        st.session_state["learn_label"] = truth if truth is not None else 0
    return st.selectbox("The right answer", range(len(labels)), key="learn_label", format_func=lambda k: labels[k],
                        help="The label the loss compares the answer with: the step pulls the network towards it.")
