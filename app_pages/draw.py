"""Draw a digit: what the network sees, what it answers, what every layer makes of it, and why.

The drawing and everything that depends on it live in one st.fragment: a stroke (or a click inside the
network) reruns only that part, not the title, the model picker or the sidebar.
"""
from dataclasses import dataclass

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from app_pages.parts import draw_inside as inside
from app_pages.parts import draw_replay as replay
from app_pages.shell import ui
from app_pages.shell.cached import load_model, load_split, random_copy
from cnnviz import checkpoints, data, images, pagestate, preprocess, probe
from cnnviz.figures import draw as figs
from cnnviz.figures import inline
from cnnviz.text import plain

SOURCES = pagestate.DRAW_SOURCES
SCHEMA = pagestate.draw(checkpoints.available())
active = pagestate.active_model(st.session_state.get("active_checkpoint"), checkpoints.available())
if "draw_model" not in st.session_state and active:  # first visit: the model in use, as the sidebar names it
    st.session_state["draw_model"] = active
ui.bind("draw", SCHEMA)
ui.title("✏️ Draw a digit", "Draw with the mouse (or a finger), white on black: the network answers as soon as you "
         "lift the pen. Then look inside it, below.", "draw", SCHEMA)
st.html("<style>[data-testid='stMetricValue'] {font-size: 3.6rem; line-height: 1.05}</style>")


@dataclass
class Inputs:
    """What the user chose: the model(s) and where the picture comes from."""

    models: list[str]
    source: str


@st.cache_data(show_spinner=False, max_entries=4)
def prepare_upload(file_id: str, _raw: bytes) -> preprocess.Prepared:  # keyed by the upload's id, not its bytes
    return preprocess.from_upload(_raw)


def model_picker() -> Inputs:
    names = checkpoints.available()
    if not names:
        st.warning("No trained model yet: train one on **Train a CNN** first.")
        st.stop()
    st.session_state["active_checkpoint"] = st.session_state["draw_model"]
    c = st.columns([2, 2, 3])
    first = c[0].selectbox("Model", names, key="draw_model",
                           on_change=lambda: st.session_state.update(active_checkpoint=st.session_state.draw_model))
    models = [first]
    if c[1].toggle("Compare two models", key="draw_compare", help="Side by side, on the same drawing"):
        models.append(c[1].selectbox("Second model", names, key="draw_model_2"))
    return Inputs(models, c[2].radio("Input", SOURCES, horizontal=True, key="draw_source"))


def read_input(inputs: Inputs) -> preprocess.Prepared:
    """The picture from the canvas, MNIST or an upload, prepared (raises ValueError / EmptyInput)."""
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
    if ui.keep("canvas"):  # back from another page: the drawing as it was left (h9: state survives navigation)
        st.session_state["draw_initial"] = st.session_state["canvas"]["drawing"]["raw"]
    st.space("small")  # 1 + 0.75 + 1 rem above the canvas: its toolbar (undo, redo, clear) rises 2.65 rem over it
    canvas = st_canvas(stroke_width=st.session_state["draw_brush"], stroke_color="#FFFFFF", height=280, width=280,
                       background_color="#000000", drawing_mode="freedraw", key="canvas", return_image_data=True,
                       initial_drawing=st.session_state.get("draw_initial"))
    st.slider("Brush size", 8, 40, key="draw_brush", help="Toolbar under the canvas: ↶ undo, ↷ redo, 🗑 clear.")
    if canvas.image_data is None:
        raise preprocess.EmptyInput("Draw a digit on the black square.")
    return preprocess.to_mnist(canvas.image_data)


def analyse(name: str, prepared: preprocess.Prepared, slot: int = 0) -> tuple:
    """(name, card, model, input tensor, look, snapshot batch or None) for one model on the prepared picture."""
    stamp = checkpoints.resolve(name).stat().st_mtime  # mtime: a retrained model reloads
    model, card = load_model(name, stamp)
    model, moment = replay.pick(name, stamp, model, card, slot)  # h11: a moment of its training, if it kept any
    x = prepared.normalized(card.normalize)
    return name, card, model, x, probe.look_for_card(model, x, card), moment


@st.fragment
def drawing(inputs: Inputs) -> None:
    """Everything that depends on the drawing: a stroke reruns only this."""
    places = st.columns([3.5, 2.8, 3.7] if len(inputs.models) == 1 else [3.5, 3.25, 3.25])
    prepared = None
    with places[0]:
        try:
            prepared = read_input(inputs)
        except preprocess.EmptyInput as hint:
            st.info(f"✏️ {hint}")
        except ValueError as err:
            st.error(str(err))
    ui.sync("draw", SCHEMA)
    if prepared is None:
        return
    results, bars = {}, []
    for slot, name in enumerate(inputs.models):
        with places[1 + slot]:
            try:
                results[slot] = analyse(name, prepared, slot)
            except ValueError as err:
                st.error(plain(f"{name}: {err}"))
                continue
            shown, card, _, _, look, moment = results[slot]
            bars.append(inside.answer(shown, card, look, prepared.pixels, slot, moment))
    if len(inputs.models) == 1:
        with places[2]:
            st.markdown("**What the network sees**: crop, longer side to 20 px, centre of mass")
            st.html(inline.picture_row(prepared.steps, height_px=84, font_px=18 if ui.presenting() else 13))
            for note in prepared.notes:
                st.caption(note)
    if not results or not ui.answer("inside"):  # a lesson step may hide what the layers make of it until Reveal
        for draw_bars in bars:  # the answer's bars still fill their place
            draw_bars()
        return
    st.subheader("Inside the network")
    slot = 0 if len(results) == 1 else st.radio("Look inside", list(results), horizontal=True, key="draw_inside",
                                                format_func=lambda s: plain(results[s][0]))
    name, card, model, x, look, _ = results[slot]
    inside.overview(slot, name, model, x, look, prepared)
    for draw_bars in bars:  # after the overview: the answer is painted first (draw_inside.answer)
        draw_bars()
    if st.toggle("Why: which strokes pushed the answer (saliency), and its limits", key="draw_why"):
        ui.chart(figs.panel_saliency(look, prepared.pixels), width="stretch", key="saliency")
        if st.toggle("Compare with the same model with random weights", key="draw_sanity"):
            stamp = checkpoints.resolve(name).stat().st_mtime
            inside.saliency_check(slot, model, x, look, prepared, random_copy(name, stamp))
    if st.toggle("Every layer in detail (maps and kernels, one layer under another)", key="draw_detail"):
        inside.layers(figs.layer_views(look), slot, wide=True)


drawing(model_picker())
