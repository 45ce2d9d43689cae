"""Sections of *How it learns* (not a page): the image, the forward pass, the way back layer by layer, one weight's
gradient term by term, what the step changed, more steps. The numbers come from cnnviz.backprop, the figures
from cnnviz.figures.learn."""
from __future__ import annotations

import numpy as np
import streamlit as st
import torch
from streamlit_drawable_canvas import st_canvas

from app_pages import ui
from app_pages.cached import load_model, load_split, untrained_model
from cnnviz import backprop, checkpoints, data, pagestate, preprocess
from cnnviz.figures import learn as figs

SOURCES = pagestate.LEARN_SOURCES
PICK = "learn_pick"    # session key: {(model, parameter, output): the weight's index}
MORE = "learn_more"    # session key: (what was stepped, the losses of more steps)


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
    if ui.keep("canvas"):  # the drawing of Draw a digit (or of an earlier visit) comes along
        st.session_state["learn_initial"] = st.session_state["canvas"]["drawing"]["raw"]
    st.space("small")  # room for the canvas's toolbar, as on Draw
    canvas = st_canvas(stroke_width=st.session_state.get("draw_brush", 20), stroke_color="#FFFFFF", height=280,
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


def forward(s: backprop.Step, labels: tuple[str, ...]) -> None:
    """The answer and the loss, the numbers substituted."""
    guess = int(s.probs_before.argmax())
    st.metric("Before the step it says", labels[guess])
    st.caption(f"{float(s.probs_before[guess]):.0%} sure. Loss, the cross-entropy:")
    st.code(backprop.loss_line(s, labels), language=None, wrap_lines=True)


def outputs(s: backprop.Step, labels: tuple[str, ...]) -> None:
    """The gradient at the outputs: the table p, y, p − y and its bars."""
    left, right = st.columns([2, 3])
    left.dataframe(backprop.output_rows(s, labels), hide_index=True, height=35 * (s.num_classes + 1) + 3)
    ui.chart(figs.output_gradient(s, labels), right, width="stretch", key="learn_out_grad",
             config={"displayModeBar": False})
    right.caption("∂L/∂z = p − y: every wrong class is pushed down by its probability, the right one pulled up "
                  "by 1 − p. From here the gradient goes back through the layers, last first:")


def backward(s: backprop.Step) -> None:
    """One layer's backward passage at a time: its rule, its worked example, the gradient arriving and leaving."""
    names = [p.layer for p in s.passages]
    if st.session_state.get("learn_layer") not in names:
        st.session_state["learn_layer"] = names[0]
    c = st.columns([3, 1])
    layer = c[0].select_slider("Back through layer", names, key="learn_layer")
    p = s.passage(layer)
    maps = p.grad_out.dim() == 3
    channel = 0
    if maps:
        top = int(p.grad_out.shape[0]) - 1
        st.session_state["learn_channel"] = min(max(int(st.session_state.get("learn_channel", 0)), 0), top)
        channel = c[1].number_input("Map", 0, top, key="learn_channel")
    for line in backprop.passage_lines(s, layer, channel):
        st.code(line, language=None, wrap_lines=True)
    ui.chart(figs.passage(s, layer, channel), width="stretch", key="learn_passage", config={"displayModeBar": False})


def _points(event) -> list[dict]:
    try:
        return list(event.selection.points)
    except AttributeError:
        return []


def pick_weight(s: backprop.Step, model: str) -> tuple[str, tuple[int, ...]]:
    """The layer's weight, the filter (or output), then a click on the gradient picks the weight itself."""
    names = backprop.weight_names(s)
    if st.session_state.get("learn_param") not in names:
        st.session_state["learn_param"] = "conv2.weight" if "conv2.weight" in names else names[0]
    c = st.columns([2, 1, 3])
    name = c[0].selectbox("Parameter", names, key="learn_param", on_change=lambda: st.session_state.pop(
        "learn_unit", None))
    top = int(s.grads[name].shape[0]) - 1
    if not 0 <= int(st.session_state.get("learn_unit", -1)) <= top:
        st.session_state["learn_unit"] = backprop.strongest(s, name)[0]
    out = c[1].number_input("Filter" if s.grads[name].dim() == 4 else "Output", 0, top, key="learn_unit")
    picks = st.session_state.setdefault(PICK, {})
    key = (model, name, out)
    index = picks.get(key) or backprop.strongest(s, name, out)
    if s.grads[name].dim() > 1:
        fig = (figs.filter_gradient(s, name, out, index[1:]) if s.grads[name].dim() == 4
               else figs.dense_gradient(s, name, out, index[1]))
        with st.container(key="learn_filter"):
            points = _points(ui.chart(fig, width="stretch", key=f"learn_grad_{name}_{out}", on_select="rerun",
                                      selection_mode="points", config={"displayModeBar": False}))
        if points and points[0].get("customdata") is not None:
            index = picks[key] = (out, *(int(v) for v in points[0]["customdata"]))
        elif points and s.grads[name].dim() == 2:
            index = picks[key] = (out, int(points[0]["point_index"]))
    return name, index


def terms(s: backprop.Step, name: str, index: tuple[int, ...]) -> None:
    """The gradient of one weight as its terms, then its update; for a conv weight, where the terms come from."""
    st.markdown(f"**`{name}[{', '.join(map(str, index))}]`**: its gradient is a sum, input × the gradient that came "
                "back, over every place the weight was used (largest terms first):")
    with st.container(key="learn_terms"):
        for line in backprop.weight_lines(s, name, index):
            st.code(line, language=None, wrap_lines=True)
    st.markdown(f"**The update** (plain SGD, lr = {s.lr:g}):")
    with st.container(key="learn_update"):
        for line in backprop.update_lines(s, name, index):
            st.code(line, language=None, wrap_lines=True)
    t = backprop.terms(s, name, index)
    if t.grid is not None and not name.endswith(".bias"):
        ui.chart(figs.term_maps(t), width="stretch", key="learn_term_maps", config={"displayModeBar": False})


def after(s: backprop.Step, labels: tuple[str, ...], where) -> None:
    """The same image answered again after the step."""
    with where:
        ui.chart(figs.probabilities_change(s, labels), width="stretch", key="learn_probs",
                 config={"displayModeBar": False})
        st.caption(backprop.after_line(s, labels))


def kernel(s: backprop.Step, name: str, index: tuple[int, ...]) -> None:
    """The picked conv filter before and after the step, and the change."""
    if name.endswith(".weight") and s.grads[name].dim() == 4:
        ui.chart(figs.kernel_change(s, name, index[0]), width="stretch", key="learn_kernel",
                 config={"displayModeBar": False})
        st.caption(f"Filter {index[0]} of {name.rsplit('.', 1)[0]}: every weight moved by −lr × its gradient. "
                   "The change is tiny next to the weights: learning is many such steps.")


def more_steps(model: torch.nn.Module, x: torch.Tensor, label: int, lr: float, what: tuple) -> None:
    """'Take 10 more steps': the loss on this one image, step after step."""
    if st.button("Take 10 more steps", key="learn_more_button", help="The same image and label, again and again"):
        st.session_state[MORE] = (what, backprop.steps(model, x, label, lr, n=11))
    kept = st.session_state.get(MORE)
    if kept is not None and kept[0] == what:
        ui.chart(figs.loss_curve(kept[1]), width="stretch", key="learn_curve", config={"displayModeBar": False})
        st.caption("Step 1 is the step above; steps 2–11 repeat it on the same image. The loss falls: the network "
                   "is learning this one image (which is not the same as learning digits).")
