"""The How it learns page under AppTest: a drawing (injected as the canvas sends it) or a test digit, one step,
and every number it shows is the library's own for the same model, image, label and learning rate."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cnnviz import backprop, backprop_lines, checkpoints, data, pagestate, preprocess
from tests.test_page_draw import canvas_state, stroke_one, stroke_zero

PAGE = Path(__file__).resolve().parents[1] / "app_pages" / "learn.py"
PAGE_LR = pagestate.learn([])["lr"].default


def _page(step: bool = True, **state) -> AppTest:
    at = AppTest.from_file(str(PAGE), default_timeout=60)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    if step:
        at.button(key="learn_step").click().run()
        assert not at.exception, [e.value for e in at.exception]
    return at


def _codes(at: AppTest) -> list[str]:
    """Every shown code line (a block may hold several), without the "Copy link" address."""
    return [line for c in at.code if not c.value.startswith(("?", "http")) for line in c.value.split("\n")]


def _step(model_name: str, prepared: preprocess.Prepared, label: int, lr: float) -> backprop.Step:
    model, card = (backprop.untrained(model_name[len(backprop.UNTRAINED):]), backprop.untrained_card(
        model_name[len(backprop.UNTRAINED):])) if model_name.startswith(backprop.UNTRAINED) else \
        checkpoints.load(model_name)
    return backprop.step(model, prepared.normalized(card.normalize), label, lr)


def test_empty_canvas_shows_a_hint_and_no_step():
    at = _page(step=False)
    assert any("Draw a digit" in i.value for i in at.info)
    assert not at.metric and not at.subheader and not at.error


def test_a_drawing_forward_then_one_step_every_number_from_the_library():
    at = _page(step=False, canvas=canvas_state(stroke_one()), learn_label=1)
    s = _step("tutorial_a", preprocess.to_mnist(stroke_one()), 1, PAGE_LR)
    assert [m.value for m in at.metric] == ["1"] and at.metric[0].label == "Before the step it says"
    assert _codes(at) == [backprop_lines.loss_line(s)]           # forward only, until the step is taken
    assert not at.subheader
    at.button(key="learn_step").click().run()
    assert not at.exception and not at.error
    assert [h.value for h in at.subheader] == ["Backward: the error flows back, last layer first",
                                               "One weight: its gradient, term by term, and its update",
                                               "After the step"]
    name, index = "conv2.weight", backprop.strongest(s, "conv2.weight")
    assert at.selectbox(key="learn_param").value == name and at.number_input(key="learn_unit").value == index[0]
    codes = _codes(at)
    assert codes[0] == backprop_lines.loss_line(s)
    assert codes[1:1 + len(backprop_lines.passage_lines(s, "fc1"))] == backprop_lines.passage_lines(s, "fc1", 0)
    blocks = [c.value for c in at.code]
    assert "\n".join(backprop_lines.weight_lines(s, name, index)) in blocks
    assert "\n".join(backprop_lines.update_lines(s, name, index)) in blocks
    table = at.dataframe[0].value
    assert list(table["p − y"]) == [r["p − y"] for r in backprop_lines.output_rows(s)]
    assert any(c.value == backprop_lines.after_line(s) for c in at.caption)


def test_the_step_stays_taken_and_a_new_drawing_shows_it_at_once():
    at = _page(canvas=canvas_state(stroke_one()), learn_label=1)
    at.session_state["canvas"] = canvas_state(stroke_zero())
    at.run()
    assert not at.exception and len(at.subheader) == 3 and [m.value for m in at.metric] == ["0"]


def test_a_test_digit_comes_with_its_own_label_and_more_steps_make_the_loss_fall(data_root):
    at = _page(learn_source="Random MNIST test digit", learn_digit=0, learn_model="untrained lenet5", learn_lr=0.01)
    assert any("Test digit #0, labelled **7**" in c.value for c in at.caption)
    assert at.selectbox(key="learn_label").value == 7
    split = data.load("mnist", "test", download=False)
    s = _step("untrained lenet5", preprocess.from_mnist(split.raw(0)[0]), 7, 0.01)
    assert _codes(at)[0] == backprop_lines.loss_line(s)
    at.button(key="learn_more_button").click().run()
    assert not at.exception
    assert any(c.value.startswith("Step 1 is the step above") for c in at.caption)
    at.button[0].click().run()  # 🎲 another digit: its own label comes with it
    i = at.session_state["learn_digit"]
    assert i != 0 and at.selectbox(key="learn_label").value == int(split.labels[i])
    assert not any(c.value.startswith("Step 1 is the step above") for c in at.caption)  # another image


@pytest.mark.parametrize("param", ["fc1.weight", "conv1.bias", "fc1.bias", "conv1.weight"])
def test_every_kind_of_parameter_shows_its_terms_and_update(param):
    at = _page(canvas=canvas_state(stroke_zero()), learn_label=0, learn_model="untrained tutorial_b")
    at.selectbox(key="learn_param").set_value(param).run()
    assert not at.exception and not at.error
    s = _step("untrained tutorial_b", preprocess.to_mnist(stroke_zero()), 0, PAGE_LR)
    index = backprop.strongest(s, param)
    assert at.number_input(key="learn_unit").value == index[0]
    blocks = [c.value for c in at.code]
    assert "\n".join(backprop_lines.weight_lines(s, param, index)) in blocks
    assert "\n".join(backprop_lines.update_lines(s, param, index)) in blocks


def test_walking_back_through_every_layer():
    at = _page(canvas=canvas_state(stroke_one()), learn_label=7)
    slider = at.select_slider(key="learn_layer")
    assert list(slider.options) == ["fc1", "flatten", "pool2", "relu2", "conv2", "pool1", "relu1", "conv1"]
    for layer in slider.options:
        at.select_slider(key="learn_layer").set_value(layer).run()
        assert not at.exception, layer
    s = _step("tutorial_a", preprocess.to_mnist(stroke_one()), 7, PAGE_LR)
    at.number_input(key="learn_channel").set_value(3).run()
    lines = backprop_lines.passage_lines(s, "conv1", 3)
    assert _codes(at)[1:1 + len(lines)] == lines


def test_a_link_sets_model_image_label_and_rate(data_root):
    at = AppTest.from_file(str(PAGE), default_timeout=60)
    at.query_params.update(model="lenet5", src="Random MNIST test digit", digit="123", label="4", lr="0.1")
    at.run()
    assert not at.exception and not at.warning
    assert (at.selectbox(key="learn_model").value, at.selectbox(key="learn_label").value,
            at.select_slider(key="learn_lr").value) == ("lenet5", 4, 0.1)
    assert any("Test digit #123" in c.value for c in at.caption)
