"""The Class page and Draw's side of the wall under AppTest: who may open the wall, a student's drawing reaching
it (with its nickname), Clear wall, and a wall drawing handed to Draw's canvas. (AppTest has no browser
connection: no headers, so a session is never the loopback teacher here; the teacher code opens the page.)"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest
from test_page_draw import canvas_state, stroke_one, stroke_zero

from cnnviz import classwall, preprocess

ROOT = Path(__file__).resolve().parents[1]
CLASS, DRAW = str(ROOT / "app_pages" / "classroom.py"), str(ROOT / "app_pages" / "draw.py")


@pytest.fixture
def wall() -> Path:
    return classwall.folder()  # in this test's own $CNNVIZ_SHARED (conftest)


def _run(page: str, **state) -> AppTest:
    at = AppTest.from_file(page, default_timeout=60)
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def test_without_a_teacher_code_only_the_servers_own_computer_sees_the_wall(monkeypatch):
    monkeypatch.delenv("CNNVIZ_TEACHER_CODE", raising=False)
    at = _run(CLASS)
    assert not at.exception
    assert "only on the computer running cnnviz" in at.warning[0].value
    assert not at.toggle and not at.button  # no wall, no controls


def test_the_teacher_code_opens_the_page_and_a_wrong_one_does_not(monkeypatch):
    monkeypatch.setenv("CNNVIZ_TEACHER_CODE", "owl-42")
    at = _run(CLASS)
    at.text_input[0].input("sparrow")
    at.button[0].click().run()
    assert "not the teacher code" in at.error[0].value and not at.toggle
    at.text_input[0].input("OWL-42 ")
    at.button[0].click().run()
    assert not at.exception
    assert [t.label for t in at.toggle] == ["📺 Collect drawings"]
    assert any("0 drawings from 0 students" in m.value for m in at.markdown)


def test_a_students_drawing_reaches_the_wall_only_while_it_collects(wall):
    at = _run(DRAW, canvas=canvas_state(stroke_one()))
    assert not at.exception and [m.value for m in at.metric] == ["1"]
    assert classwall.read(wall) == [] and not at.text_input  # not collecting: no name box, nothing sent
    classwall.start(wall, None)
    at = _run(DRAW, canvas=canvas_state(stroke_one()), wall_name="<b>Ada</b>")
    assert not at.exception and any("On the class wall" in c.value for c in at.caption)
    [d] = classwall.read(wall)
    assert (d.name, d.answer) == ("<b>Ada</b>", "1") and d.confidence > 0.5
    assert np.array_equal(d.pixels, np.round(preprocess.to_mnist(stroke_one()).pixels * 255).astype(np.uint8))


def test_the_teacher_collects_clears_and_sees_the_count(monkeypatch, wall):
    monkeypatch.setenv("CNNVIZ_TEACHER_CODE", "owl-42")
    at = _run(CLASS, _teacher_code_ok=True)
    at.toggle[0].set_value(True).run()
    assert classwall.collecting(wall) == (True, None)
    at.selectbox[0].set_value("7").run()
    assert classwall.collecting(wall) == (True, "7")
    for i, stroke in enumerate((stroke_one, stroke_zero)):
        _run(DRAW, canvas=canvas_state(stroke()), _wall_session=f"{i:016x}")
    at.run()
    text = " ".join(m.value for m in at.markdown)
    assert "2 drawings from 2 students" in text and "class accuracy **0%**" in text
    next(b for b in at.button if "Clear wall" in b.label).click().run()
    assert classwall.read(wall) == [] and any("0 drawings" in m.value for m in at.markdown)
    at.toggle[0].set_value(False).run()
    assert classwall.collecting(wall) == (False, None)


def test_a_wall_drawing_handed_to_draw_is_answered_there(wall):
    classwall.start(wall)
    thumb = np.round(preprocess.to_mnist(stroke_zero()).pixels * 255).astype(np.uint8)
    classwall.submit(wall, "0" * 16, thumb / 255.0, "0", 0.9, False)
    [d] = classwall.read(wall)
    raw = classwall.canvas_drawing(d.pixels)
    state = canvas_state(classwall.render(raw))
    state["drawing"]["raw"] = raw
    at = _run(DRAW, _wall_handed=state, _wall_shown=("student 1", len(raw["objects"])))
    assert not at.exception and [m.value for m in at.metric] == ["0"]
    assert any("From the class wall" in c.value and "student 1" in c.value for c in at.caption)
    assert at.session_state["draw_initial"] == raw
    drawn_over = canvas_state(classwall.render(raw))
    drawn_over["drawing"]["raw"] = {"objects": [*raw["objects"], {"type": "path"}]}
    at.session_state["canvas"] = drawn_over
    at.run()  # the teacher drew on it: it is no longer the student's
    assert not any("From the class wall" in c.value for c in at.caption)


def test_save_these_drawings_makes_a_dataset_make_a_dataset_lists(monkeypatch, wall, tmp_path):
    from cnnviz import owndata

    monkeypatch.setenv("CNNVIZ_TEACHER_CODE", "owl-42")
    monkeypatch.setenv("CNNVIZ_USER_DATA", str(tmp_path / "datasets"))
    classwall.start(wall, None)
    for i, stroke in enumerate((stroke_one, stroke_zero)):
        _run(DRAW, canvas=canvas_state(stroke()), _wall_session=f"{i:016x}")
    at = _run(CLASS, _teacher_code_ok=True)
    at.text_input(key="class_save_name").input("our class")
    at.button(key="class_save").click().run()
    assert not at.exception and "Saved 2 drawings as **our class**" in at.success[0].value
    assert sorted(owndata.open_dataset("our class").classes) == ["0", "1"]
    at.button(key="class_save").click().run()  # the same name again: a message, nothing lost
    assert "already exists" in at.error[0].value and owndata.available().count("our class") == 1
