"""Draw a digit: what the network sees, what it answers, what every layer makes of it, and why."""
from dataclasses import dataclass

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from app_pages.cached import load_split
from cnnviz import checkpoints, data, preprocess, probe
from cnnviz.figures import draw as figs

SOURCES = ("Draw", "Random MNIST test digit", "Upload a picture")
st.title("✏️ Draw a digit")
st.caption("Draw with the mouse (or a finger), white on black. The network answers as soon as you lift the pen.")
st.html("<style>[data-testid='stMetricValue'] {font-size: 4.5rem; line-height: 1.1}</style>")


@dataclass
class Inputs:
    """What the user chose: the model(s) and where the picture comes from."""

    models: list[str]
    source: str


@st.cache_resource(show_spinner="Loading the model…")
def load_model(name: str, stamp: float):
    return checkpoints.load(name)


@st.cache_data(show_spinner=False, max_entries=4)
def prepare_upload(file_id: str, _raw: bytes) -> preprocess.Prepared:  # keyed by the upload's id, not its bytes
    return preprocess.from_upload(_raw)


def model_picker() -> Inputs:
    names = checkpoints.available()
    if not names:
        st.warning("No trained model yet: train one on **Train a CNN** first.")
        st.stop()
    if st.session_state.get("draw_model") not in names:  # first visit: the active model, else tutorial_a
        wanted = [n for n in (st.session_state.get("active_checkpoint"), "tutorial_a") if n in names]
        st.session_state["draw_model"] = (wanted or names)[0]
    st.session_state["active_checkpoint"] = st.session_state["draw_model"]
    c = st.columns([2, 2, 3])
    first = c[0].selectbox("Model", names, key="draw_model",
                           on_change=lambda: st.session_state.update(active_checkpoint=st.session_state.draw_model))
    models = [first]
    if c[1].toggle("Compare two models", key="draw_compare", help="Side by side, on the same drawing"):
        models.append(c[1].selectbox("Second model", names, index=min(1, len(names) - 1), key="draw_model_2"))
    return Inputs(models, c[2].radio("Input", SOURCES, horizontal=True, key="draw_source"))


def read_input(inputs: Inputs) -> preprocess.Prepared:
    """The picture from the canvas, MNIST or an upload, prepared (raises ValueError / EmptyInput)."""
    if inputs.source == SOURCES[1]:
        if not data.available("mnist"):
            raise ValueError(data.missing_message("mnist"))
        split = load_split("mnist", "test")  # only asked once the files are known to be there
        if st.button("🎲 Another digit") or "draw_digit" not in st.session_state:  # seeded: a demo can be replayed
            roll = st.session_state["draw_roll"] = st.session_state.get("draw_roll", -1) + 1
            st.session_state["draw_digit"] = int(np.random.default_rng(roll).integers(len(split)))
        i = st.session_state["draw_digit"]
        st.caption(f"Test digit #{i}, labelled **{split.classes[int(split.labels[i])]}**")
        return preprocess.from_mnist(split.raw(i)[0])
    if inputs.source == SOURCES[2]:
        file = st.file_uploader("A photo or scan of one handwritten digit", type=["png", "jpg", "jpeg", "webp"])
        if file is None:
            raise preprocess.EmptyInput("Upload a picture of a handwritten digit.")
        return prepare_upload(file.file_id, file.getvalue())
    brush = st.slider("Brush size", 8, 40, 20, key="draw_brush")
    canvas = st_canvas(stroke_width=brush, stroke_color="#FFFFFF", background_color="#000000", height=280,
                       width=280, drawing_mode="freedraw", key="canvas", return_image_data=True)
    st.caption("Toolbar: ↶ undo, ↷ redo, 🗑 clear.")
    if canvas.image_data is None:
        raise preprocess.EmptyInput("Draw a digit on the black square.")
    return preprocess.to_mnist(canvas.image_data)


def analyse(name: str, prepared: preprocess.Prepared) -> tuple[str, dict, probe.Look, figs.Panel]:
    model, card = load_model(name, checkpoints.resolve(name).stat().st_mtime)  # mtime: a retrained model reloads
    look = probe.look(model, prepared.normalized(tuple(card["normalize"])), probe.class_labels(card))
    return name, card, look, figs.panel(look, prepared.pixels)


def show_answer(name: str, card: dict, look: probe.Look, panel: figs.Panel, slot: int) -> None:
    verdict = look.inspection.verdict
    st.metric(f"{name} says", verdict.label, help=f"{name}: test accuracy {card['test_accuracy']:.2%}")
    st.caption(f"{verdict.confidence:.0%} sure")
    if verdict.note:
        st.warning(verdict.note)
    st.plotly_chart(panel.probabilities, width="stretch", key=f"probs_{slot}")
    st.markdown("**Why**: which strokes pushed the answer")
    st.plotly_chart(panel.saliency, width="stretch", key=f"saliency_{slot}")


def show_layers(name: str, card: dict, look: probe.Look, panel: figs.Panel, slot: int, wide: bool) -> None:
    st.markdown(f"**{name}**: " + " → ".join(view.title for view in panel.layers))
    maps = figs.enlargeable(look)
    if maps:
        c = st.columns(2)
        layer = c[0].selectbox("Enlarge a map of", list(maps), key=f"enlarge_layer_{slot}")
        index = c[1].number_input("map number", 0, maps[layer] - 1, 0, key=f"enlarge_{slot}_{layer}")
        st.plotly_chart(figs.enlarged(look, layer, int(index)), width="stretch", key=f"big_{slot}")
    for view in panel.layers:
        if view.note:
            st.caption(view.note)
        places = st.columns([1, 2]) if view.kernels and wide else [st.container()] * 2  # kernels beside maps
        for place, part, fig in ((places[0], "kernels", view.kernels), (places[1], "maps", view.maps)):
            if fig is not None:
                place.plotly_chart(fig, width="stretch", key=f"{part}_{view.name}_{slot}")


inputs = model_picker()
left, right = st.columns([2, 3])  # the 280 px canvas must fit without being squeezed
with left:
    try:
        prepared = read_input(inputs)
    except preprocess.EmptyInput as hint:
        prepared = None
        st.info(f"✏️ {hint}")
    except ValueError as err:
        prepared = None
        st.error(str(err))
if prepared is None:
    st.stop()
results = {}
with right:
    st.markdown("**What the network sees**: the MNIST recipe (crop, longer side to 20 px, centre of mass)")
    st.plotly_chart(figs.steps_strip(prepared.steps), width="stretch", key="steps")
    for note in prepared.notes:
        st.caption(note)
    for slot, (col, name) in enumerate(zip(st.columns(len(inputs.models)), inputs.models)):
        with col:
            try:
                results[slot] = analyse(name, prepared)
            except ValueError as err:
                st.error(f"{name}: {err}")
                continue
            show_answer(*results[slot], slot)
st.subheader("Inside the network")
for col, (slot, result) in zip(st.columns(len(results) or 1), results.items()):
    with col:
        show_layers(*result, slot, wide=len(results) == 1)
