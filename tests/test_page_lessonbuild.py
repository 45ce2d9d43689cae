"""AppTest: the lesson builder in the sidebar captures views as steps, reorders / edits / deletes them, and tries
the lesson; what it builds is the session's own, and only the machine's owner may save into the lessons folder."""
from conftest import ROOT
from streamlit.testing.v1 import AppTest

from cnnviz import lessonbuild, lessons

DRAFT = "_lb_draft"


def _builder(**query) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.query_params.update(query)
    at.run()
    at.toggle(key="lesson_build").set_value(True).run()
    return at


def _add(at: AppTest, question: str, answer: str) -> AppTest:
    at.text_area(key="lb_q").input(question)
    at.text_area(key="lb_a").input(answer)
    return at.button(key="lb_add").click().run()


def _questions(at: AppTest) -> list[str]:
    return [s.question for s in at.session_state[DRAFT].steps]


def test_two_views_become_two_steps_that_move_change_and_go(data_root):
    at = _builder(w="28", k="5", p="0")
    _add(at, "How big is the output?", "24 x 24")
    assert not at.exception and _questions(at) == ["How big is the output?"]
    first = at.session_state[DRAFT].steps[0]
    assert first.page == "dimensions" and (first.state["w"], first.state["k"], first.state["p"]) == (28, 5, 0)
    assert first.hide == ("output", "formula") and at.text_area(key="lb_q").value == ""  # the form is cleared
    at.switch_page("app_pages/playground.py").run()
    at.multiselect(key="lb_hide_playground").set_value(["output"]).run()
    _add(at, "What will the edges look like?", "White where flat")
    second = at.session_state[DRAFT].steps[1]
    assert second.page == "playground" and second.hide == ("output",) and second.state["kernel"] == "outline"
    at.button(key="lb_up_1").click().run()
    assert _questions(at) == ["What will the edges look like?", "How big is the output?"]
    at.button(key="lb_edit_1").click().run()
    assert at.text_area(key="lb_q").value == "How big is the output?"
    at.text_area(key="lb_q").input("And the output size?")
    at.button(key="lb_add").click().run()  # now "Save step 2"
    assert _questions(at) == ["What will the edges look like?", "And the output size?"]
    assert at.session_state[DRAFT].steps[1].state == first.state  # its view kept
    text = lessonbuild.to_toml(at.session_state[DRAFT])
    assert [s.question for s in lessons.parse(text, "x.toml").steps] == _questions(at)
    at.button(key="lb_try").click().run()  # try it: the lesson opens at step 1, on its page
    assert not at.exception
    assert any(m.value.startswith("**Step 1 of 2**") for m in at.main.markdown)
    assert at.query_params["lesson"] == "my-lesson-draft" and at.selectbox(key="pg_kernel").value == "outline"
    at.button(key="lb_del_0").click().run()
    assert _questions(at) == ["And the output size?"]


def test_a_step_without_a_question_is_a_message_and_loses_nothing():
    at = _builder()
    _add(at, "", "an answer")
    assert not at.exception and not at.session_state[DRAFT].steps
    assert [e.value for e in at.sidebar.error] == ["This step, question: missing or not text"]
    assert at.text_area(key="lb_a").value == "an answer"  # what was typed stays


def test_a_student_cannot_save_into_the_lessons_folder():
    at = _builder()
    _add(at, "q?", "a")
    assert [b for b in at.button if b.key == "lb_try"]
    assert not [b for b in at.button if b.key == "lb_save"]  # AppTest has no browser connection: not the teacher
