"""Sections of *How it learns* (not a page): the forward pass, the way back layer by layer, one weight's gradient
term by term, what the step changed, more steps (the image and the model: learn_input). The numbers come from
cnnviz.backprop, their text from cnnviz.backprop_lines, the figures from cnnviz.figures.learn."""
from __future__ import annotations

import streamlit as st
import torch

from app_pages.shell import ui, words
from cnnviz import backprop, backprop_lines
from cnnviz.figures import learn as figs

PICK = "learn_pick"    # session key: {(model, parameter, output): the weight's index}
MORE = "learn_more"    # session key: (what was stepped, the losses of more steps)


def forward(s: backprop.Step, labels: tuple[str, ...]) -> None:
    """The answer and the loss, the numbers substituted."""
    guess = int(s.probs_before.argmax())
    st.metric("Before the step it says", labels[guess])
    words.caption(f"{float(s.probs_before[guess]):.0%} sure. Loss, the cross-entropy:")
    st.code(backprop_lines.loss_line(s, labels), language=None, wrap_lines=True)


def outputs(s: backprop.Step, labels: tuple[str, ...]) -> None:
    """The gradient at the outputs: the table p, y, p − y and its bars."""
    left, right = st.columns([2, 3])
    left.dataframe(backprop_lines.output_rows(s, labels), hide_index=True, height=35 * (s.num_classes + 1) + 3)
    ui.chart(figs.output_gradient(s, labels), right, width="stretch", key="learn_out_grad",
             config={"displayModeBar": False})
    words.caption("∂L/∂z = p − y: every wrong class is pushed down by its probability, the right one pulled up "
                  "by 1 − p. From here the gradient goes back through the layers, last first:", right, arithmetic=True)


def backward(s: backprop.Step) -> None:
    """One layer's backward passage at a time: its rule, its worked example, the gradient arriving and leaving."""
    names = [p.layer for p in s.passages]
    if st.session_state.get("learn_layer") not in names:
        st.session_state["learn_layer"] = names[0]
    c = st.columns([3, 1])
    layer = c[0].select_slider("Back through layer", names, key="learn_layer", help=words.tip(*names))
    p = s.passage(layer)
    maps = p.grad_out.dim() == 3
    channel = 0
    if maps:
        top = int(p.grad_out.shape[0]) - 1
        st.session_state["learn_channel"] = min(max(int(st.session_state.get("learn_channel", 0)), 0), top)
        channel = c[1].number_input("Map", 0, top, key="learn_channel")
    st.code("\n".join(backprop_lines.passage_lines(s, layer, channel)), language=None, wrap_lines=True)
    ui.chart(figs.passage(s, layer, channel), width="stretch", key="learn_passage", config={"displayModeBar": False})


def _points(event) -> list[dict]:
    """The clicked points of a chart's selection (the event a chart returns, or its value in session state)."""
    try:
        return list(event["selection"]["points"])
    except (KeyError, TypeError):
        return []


def pick_weight(s: backprop.Step, model: str) -> tuple[str, tuple[int, ...]]:
    """The layer's weight, the filter (or output), then a click on the gradient picks the weight itself."""
    names = backprop.weight_names(s)
    if st.session_state.get("learn_param") not in names:
        st.session_state["learn_param"] = "conv2.weight" if "conv2.weight" in names else names[0]
    c = st.columns([2, 1, 3])
    name = c[0].selectbox("Parameter", names, key="learn_param", help=words.tip(*names),
                          on_change=lambda: st.session_state.pop("learn_unit", None))
    top = int(s.grads[name].shape[0]) - 1
    if not 0 <= int(st.session_state.get("learn_unit", -1)) <= top:
        st.session_state["learn_unit"] = backprop.strongest(s, name)[0]
    out = c[1].number_input("Filter" if s.grads[name].dim() == 4 else "Output", 0, top, key="learn_unit")
    picks = st.session_state.setdefault(PICK, {})
    key = (model, name, out)
    chart = f"learn_grad_{name}_{out}"
    points = _points(st.session_state.get(chart))  # the click, read before the figure is built: it marks it
    if points and points[0].get("customdata") is not None:
        picks[key] = (out, *(int(v) for v in points[0]["customdata"]))
    elif points and s.grads[name].dim() == 2:
        picks[key] = (out, int(points[0]["point_index"]))
    index = picks.get(key) or backprop.strongest(s, name, out)
    left, right = st.columns([1.6, 3.4])
    if s.grads[name].dim() > 1:
        fig = (figs.filter_gradient(s, name, out, index[1:]) if s.grads[name].dim() == 4
               else figs.dense_gradient(s, name, out, index[1]))
        with left.container(key="learn_filter"):
            ui.chart(fig, width="stretch", key=chart, on_select="rerun", selection_mode="points",
                     config={"displayModeBar": False})
    terms(s, name, index, left, right)
    return name, index


def terms(s: backprop.Step, name: str, index: tuple[int, ...], left, right) -> None:
    """The gradient of one weight as its terms (right), its update (left, under the gradient it was picked on),
    then, for a conv weight, the maps its terms come from."""
    with right:
        words.markdown(f"**`{name}[{', '.join(map(str, index))}]`**: its gradient is a sum, input × the gradient "
                       "that came back, over every place the weight was used (largest terms first):", arithmetic=True)
        with st.container(key="learn_terms"):
            st.code("\n".join(backprop_lines.weight_lines(s, name, index)), language=None, wrap_lines=True)
    with left:
        words.markdown(f"**The update** (plain SGD, lr = {s.lr:g}):", arithmetic=True)
        with st.container(key="learn_update"):
            st.code("\n".join(backprop_lines.update_lines(s, name, index)), language=None, wrap_lines=True)
    t = backprop.terms(s, name, index)
    if t.grid is not None and not name.endswith(".bias"):
        ui.chart(figs.term_maps(t), width="stretch", key="learn_term_maps", config={"displayModeBar": False})


def after(s: backprop.Step, labels: tuple[str, ...], where) -> None:
    """The same image answered again after the step."""
    with where:
        ui.chart(figs.probabilities_change(s, labels), width="stretch", key="learn_probs",
                 config={"displayModeBar": False})
        words.caption(backprop_lines.after_line(s, labels), arithmetic=True)


def kernel(s: backprop.Step, name: str, index: tuple[int, ...]) -> None:
    """The picked conv filter before and after the step, and the change."""
    if name.endswith(".weight") and s.grads[name].dim() == 4:
        ui.chart(figs.kernel_change(s, name, index[0]), width="stretch", key="learn_kernel",
                 config={"displayModeBar": False})
        words.caption(f"Filter {index[0]} of {name.rsplit('.', 1)[0]}: every weight moved by −lr × its gradient "
                      "(right, on its own scale). Training is many such steps, each on a batch of images.",
                      arithmetic=True)


def more_steps(model: torch.nn.Module, x: torch.Tensor, label: int, lr: float, what: tuple) -> None:
    """'Take 10 more steps': the loss on this one image, step after step."""
    if st.button("Take 10 more steps", key="learn_more_button", help="The same image and label, again and again"):
        st.session_state[MORE] = (what, backprop.steps(model, x, label, lr, n=11))
    kept = st.session_state.get(MORE)
    if kept is not None and kept[0] == what:
        ui.chart(figs.loss_curve(kept[1]), width="stretch", key="learn_curve", config={"displayModeBar": False})
        words.caption("Step 1 is the step above; steps 2–11 repeat it on the same image. The loss falls: the network "
                   "is learning this one image (which is not the same as learning digits).")
