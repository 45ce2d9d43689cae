"""AppTest: make a dataset on its page (drawings injected as the canvas sends them), then train on it."""
from __future__ import annotations

import base64
import io
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from app_pages.shell.who import TOKEN
from cnnviz import access, checkpoints, owndata

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "app_pages" / "dataset.py"
TRAINER = ROOT / "app_pages" / "trainer.py"


@pytest.fixture(autouse=True)
def user_dirs(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("CNNVIZ_USER_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("CNNVIZ_USER_CHECKPOINTS", str(tmp_path / "ckpt"))
    return tmp_path


def canvas_state(rgba: np.ndarray) -> dict:
    """The canvas component's value (streamlit-drawable-canvas 0.13): the PNG as a data URL."""
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, format="PNG")
    url = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
    return {"drawing": {"raw": {"objects": []}, "data": url}, "backgroundFit": None}


def bar_canvas(x: int) -> np.ndarray:
    canvas = np.zeros((280, 280, 4), np.uint8)
    canvas[..., 3] = 255
    canvas[40:240, x:x + 20, :3] = 255
    return canvas


def _page(**state) -> AppTest:
    at = AppTest.from_file(str(PAGE), default_timeout=60)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def test_first_visit_shows_the_shipped_example_read_only():
    at = _page()
    assert not at.error
    assert at.selectbox(key="ds_pick").value == "shapes"
    assert any("ships with cnnviz" in i.value for i in at.info)
    assert any("circle" in h.value for h in at.markdown)


def test_create_draw_delete_and_refuse_bad_names():
    at = _page()
    at.selectbox(key="ds_pick").set_value(None).run()
    at.text_input(key="ds_new_name").input("letters")
    at.text_input(key="ds_new_classes").input("a, a").run()
    at.button(key="ds_create").click().run()
    assert any("given twice" in e.value for e in at.error)
    at.text_input(key="ds_new_classes").input("a, b").run()
    at.button(key="ds_create").click().run()
    assert not at.exception and not at.error
    assert owndata.open_dataset("letters").classes == ("a", "b")
    assert at.selectbox(key="ds_pick").value == "letters"
    at.session_state[at.session_state["ds_canvas_key"]] = canvas_state(bar_canvas(60))
    at.run()
    at.button(key="ds_add_drawing").click().run()
    assert not at.exception and not at.error
    assert owndata.open_dataset("letters").counts == {"a": 1, "b": 0}
    assert any("1 example" in m.value for m in at.markdown)
    assert not [b for b in at.button if b.key and b.key.startswith("ds_del_")]  # delete mode is off
    at.toggle(key="ds_delete_mode").set_value(True).run()
    delete = [b for b in at.button if b.key and b.key.startswith("ds_del_")]
    assert len(delete) == 1
    delete[0].click().run()
    assert owndata.open_dataset("letters").counts == {"a": 0, "b": 0}


def _empty_said(at) -> bool:
    return any("canvas is empty" in w.value for w in at.warning)


def test_add_on_nothing_drawn_says_so_and_a_dot_is_refused():
    """Add is never disabled (a click made while the first stroke travels must not be silently lost): on an
    empty canvas it says so and saves nothing."""
    owndata.create("letters", ["a", "b"], by=owndata.Editor("this session"))
    at = _page(ds_pick="letters", **{TOKEN: "this session"})
    at.button(key="ds_add_drawing").click().run()
    assert _empty_said(at)
    blank = np.zeros((280, 280, 4), np.uint8)
    blank[..., 3] = 255
    at.session_state[at.session_state["ds_canvas_key"]] = canvas_state(blank)
    at.run()
    at.button(key="ds_add_drawing").click().run()
    assert _empty_said(at)  # a cleared canvas is black, not empty
    assert owndata.open_dataset("letters").counts == {"a": 0, "b": 0}
    dot = blank.copy()
    dot[130:142, 130:142, :3] = 255
    at.session_state[at.session_state["ds_canvas_key"]] = canvas_state(dot)
    at.run()
    at.button(key="ds_add_drawing").click().run()
    said = [e.value for e in at.error] + [w.value for w in at.warning]
    assert any("dot" in t for t in said), said
    assert owndata.open_dataset("letters").counts == {"a": 0, "b": 0}


@pytest.mark.slow
def test_copy_the_example_then_train_it_on_the_trainer_page():
    at = _page()
    at.button(key="ds_copy").click().run()
    assert at.selectbox(key="ds_pick").value == "my shapes"
    assert owndata.open_dataset("my shapes").counts == owndata.open_dataset("shapes").counts
    trainer = AppTest.from_file(str(TRAINER), default_timeout=60)
    trainer.run()
    trainer.selectbox(key="dataset").set_value("own:my shapes")
    trainer.selectbox(key="net").set_value("keras_small")
    trainer.number_input(key="epochs").set_value(1.0)
    trainer.run()
    assert not trainer.exception and not trainer.error
    trainer.button(key="start").click().run()
    runner = trainer.session_state["trainer_runner"]
    deadline = time.time() + 120
    while runner.snapshot().state == "running" and time.time() < deadline:
        time.sleep(0.2)
    trainer.run()
    assert not trainer.exception and not trainer.error, [e.value for e in trainer.error]
    table = next(c.value for c in trainer.code if "Test Accuracy of" in c.value)  # not the Copy link
    assert "Test Accuracy of circle" in table and "Test Accuracy of triangle" in table
    trainer.button(key="save").click().run()
    assert trainer.text_input(key="ckpt").value == "my_shapes-keras_small-seed0"
    saved = trainer.session_state["trainer_saved"]
    card = checkpoints.read_card(saved)
    assert card.classes == ("circle", "square", "triangle") and card.dataset == "own:my shapes"


def test_trainer_says_what_a_dataset_still_needs():
    owndata.create("letters", ["a", "b"])
    trainer = AppTest.from_file(str(TRAINER), default_timeout=60)
    trainer.session_state["dataset"] = "own:letters"
    trainer.run()
    assert not trainer.exception
    assert any("at least 5 examples" in e.value for e in trainer.error)


def _made_by_a_student() -> AppTest:
    """Student A's session creates 'letters' on the page."""
    a = _page()
    a.selectbox(key="ds_pick").set_value(None).run()
    a.text_input(key="ds_new_name").input("letters")
    a.text_input(key="ds_new_classes").input("a, b").run()
    a.button(key="ds_create").click().run()
    assert not a.exception and not a.error and a.selectbox(key="ds_pick").value == "letters"
    return a


def _edit_keys(at: AppTest) -> set[str]:
    return {b.key for b in at.button if b.key in ("ds_add_drawing", "ds_delete", "ds_add_class")}


def test_another_student_cannot_change_my_dataset_but_can_copy_it():
    a = _made_by_a_student()
    assert _edit_keys(a) == {"ds_add_drawing", "ds_delete", "ds_add_class"}
    assert any("is yours" in c.value for c in a.caption)
    b = _page(ds_pick="letters")  # student B: another browser session
    assert _edit_keys(b) == set() and not [t for t in b.toggle if t.key == "ds_delete_mode"]
    said = " ".join(i.value for i in b.info)
    assert "made by another browser session: only that session and the teacher can change it" in said
    assert b.session_state[TOKEN] != a.session_state[TOKEN]
    with pytest.raises(ValueError, match="another browser session"):
        owndata.delete_dataset("letters", by=owndata.Editor(b.session_state[TOKEN]))
    b.button(key="ds_copy").click().run()
    assert not b.exception and not b.error
    assert b.selectbox(key="ds_pick").value == "my letters"
    assert _edit_keys(b) == {"ds_add_drawing", "ds_delete", "ds_add_class"}
    a.run()
    assert a.selectbox(key="ds_pick").options == ["➕ New dataset…", "shapes (example: circle, square, triangle)",
                                                  "letters (yours: a, b)", "my letters (shared: a, b)"]
    a.selectbox(key="ds_pick").set_value("my letters").run()
    assert _edit_keys(a) == set()
    assert owndata.available() == ["shapes", "letters", "my letters"]


def test_the_teacher_can_delete_a_students_dataset(monkeypatch):
    _made_by_a_student()
    monkeypatch.setattr(access, "is_teacher", lambda ip, headers: True)  # a browser on the server's computer
    teacher = _page(ds_pick="letters")
    assert any("You are the teacher" in c.value for c in teacher.caption)
    teacher.checkbox(key="ds_sure").check().run()
    teacher.button(key="ds_delete").click().run()
    assert not teacher.exception and not teacher.error
    assert owndata.available() == ["shapes"]
