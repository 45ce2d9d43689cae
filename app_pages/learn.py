"""How it learns: one step of gradient descent on one image, by the numbers.

Forward (the answer, the loss), backward (p − y at the outputs, then layer by layer back to the input), one
weight's gradient as the sum of its terms and its update w − lr × g, and the same image answered again after
the step. Everything that depends on the image lives in one st.fragment: a stroke or a click reruns only that.
"""
from dataclasses import dataclass

import streamlit as st

from app_pages.parts import learn_input as given
from app_pages.parts import learn_parts as parts
from app_pages.shell import fields, ui
from cnnviz import backprop, checkpoints, pagestate, probe, text

SCHEMA = pagestate.learn(checkpoints.available())
ui.bind("learn", SCHEMA)
ui.title("📉 How it learns", "Where do the filters' numbers come from? From many small steps like this one: "
         "answer, measure the error, send it back through the layers, nudge every weight.", "learn", SCHEMA)
STEPPED = "learn_go"  # session key: the step was taken once (then every new image shows it at once)


@dataclass
class Inputs:
    """What the user chose: the model, where the image comes from, the learning rate."""

    model: str
    source: str
    lr: float


def controls() -> Inputs:
    c = st.columns([3, 3, 3])
    model = fields.select(SCHEMA["model"], "Model", c[0], format_func=text.plain,
                          help="A trained checkpoint, or a preset whose weights are still random (it learns more "
                               "from one step)")
    source = fields.radio(SCHEMA["src"], "Image", c[1], horizontal=True)
    lr = fields.select_slider(SCHEMA["lr"], "Learning rate (lr)", c[2],
                              help="How far each weight moves against its gradient: w − lr × g")
    return Inputs(model, source, lr)


@st.fragment
def lesson(inputs: Inputs) -> None:
    """Everything that depends on the image: a stroke, a label or a click reruns only this."""
    places = st.columns([3.1, 3.2, 3.7])
    with places[0]:
        prepared, truth = given.read_input(inputs.source)
    ui.sync("learn", SCHEMA)
    if prepared is None:
        return
    try:
        model, card = given.load(inputs.model)
        probe.check_input(model.spec.input_shape)
    except ValueError as err:
        places[1].error(text.plain(f"{inputs.model}: {err}"))
        return
    labels = probe.class_labels(card)
    x = prepared.normalized(card.normalize)
    with places[1]:
        label = given.label_box(labels, truth)
        s = backprop.step(model, x, label, inputs.lr)
        parts.forward(s, labels)
    with places[2]:
        if not st.session_state.get(STEPPED):
            st.markdown("**Forward done.** Now one step of learning: send the error back and nudge every weight.")
            st.button("▶ Take one step", type="primary", key="learn_step",  # its callback runs before the rerun,
                      on_click=lambda: st.session_state.update({STEPPED: True}))  # so the rerun draws the step
            return
    if ui.answer("after", places[2]):  # a lesson step may hide the answer after the step until Reveal
        parts.after(s, labels, places[2])
    st.subheader("Backward: the error flows back, last layer first")
    parts.outputs(s, labels)
    parts.backward(s)
    st.subheader("One weight: its gradient, term by term, and its update")
    name, index = parts.pick_weight(s, inputs.model)
    st.subheader("After the step")
    parts.kernel(s, name, index)
    what = (inputs.model, label, inputs.lr, hash(x.numpy().tobytes()))
    parts.more_steps(model, x, label, inputs.lr, what)


lesson(controls())
