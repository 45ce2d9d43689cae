"""AppTest: a lesson step stands at the top of the page (question, Back / Next, Reveal) and hides the page's
answer-bearing parts until Reveal; it walks the shipped lesson across pages; a malformed lesson is a message."""
import pytest
from conftest import ROOT
from streamlit.testing.v1 import AppTest

from cnnviz import lessons, reveal


def _app(**query) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.query_params.update(query)
    return at.run()


def _step_line(at: AppTest) -> str:
    lines = [m.value for m in at.main.markdown]
    return next((v for v in lines if v.startswith("**Step ")), repr(lines))


def _output(at: AppTest) -> list[str]:
    return [m.value for m in at.metric if m.label.startswith("Output size")]


def _hidden(at: AppTest) -> list[str]:
    return [i.value for i in at.main.info if i.value.startswith("Predict first")]


def test_a_lesson_link_opens_its_step_and_next_walks_on(data_root):
    at = _app(lesson="cnn_tutorial", step="1")
    assert not at.exception
    assert _step_line(at).startswith("**Step 1 of 7**")
    assert (at.number_input(key="calc_w").value, at.number_input(key="calc_k").value,
            at.number_input(key="pad").value) == (28, 5, 0)
    assert not at.main.success and not _output(at) and len(_hidden(at)) == 2  # predict first...
    assert not at.latex and not [c for c in at.code if "24" in c.value]  # the formula and its steps too
    at.number_input(key="calc_k").set_value(3).run()  # a widget changed during the step reveals nothing
    assert not _output(at) and not at.latex and len(_hidden(at)) == 2
    at.number_input(key="calc_k").set_value(5).run()
    at.button(key="lesson_reveal").click().run()
    assert "24 x 24" in at.main.success[0].value and _output(at) == ["24"] and at.latex  # ...then reveal
    assert not _hidden(at)
    at.button(key="lesson_next").click().run()
    assert _step_line(at).startswith("**Step 2 of 7**") and at.number_input(key="pad").value == 2
    assert not at.main.success and not _output(at)  # the next question starts hidden again
    at.button(key="lesson_next").click().run()  # step 3 lives on the playground
    assert not at.exception and _step_line(at).startswith("**Step 3 of 7**")
    assert at.selectbox(key="pg_kernel").value == "outline" and at.radio(key="pg_source").value == "Photo"
    assert at.query_params["lesson"] == "cnn_tutorial" and at.query_params["step"] == "3"
    at.button(key="lesson_back").click().run()  # and back to the calculator
    assert _step_line(at).startswith("**Step 2 of 7**") and at.number_input(key="pad").value == 2


def test_a_malformed_lesson_names_file_and_field_and_the_app_works(tmp_path, monkeypatch):
    (tmp_path / "broken.toml").write_text('title = "x"\n[[steps]]\npage = "playground"\nstate = { stride = 99 }\n'
                                          'question = "q?"\nanswer = "a"\n')
    monkeypatch.setenv("CNNVIZ_LESSONS", str(tmp_path))
    at = _app(lesson="broken", step="1")
    assert not at.exception
    assert any("lessons/broken.toml: step 1, state: stride='99'" in e.value for e in at.sidebar.error)
    assert any(m.label.startswith("Output size") for m in at.metric)  # the calculator still works


def test_picking_a_lesson_in_the_sidebar_opens_step_one_and_none_ends_it():
    at = _app()
    at.selectbox(key="lesson_pick").select("cnn_tutorial").run()
    assert not at.exception and _step_line(at).startswith("**Step 1 of 7**")
    assert at.number_input(key="calc_w").value == 28
    at.selectbox(key="lesson_pick").select("(none)").run()
    assert not at.exception and "lesson" not in at.query_params
    assert not [m for m in at.main.markdown if m.value.startswith("**Step ")]


def test_a_deeply_nested_lesson_picked_is_one_message_on_every_page(tmp_path, monkeypatch, data_root):
    (tmp_path / "deep.json").write_text("[" * 40_000 + "]" * 40_000)
    monkeypatch.setenv("CNNVIZ_LESSONS", str(tmp_path))
    at = _app()
    at.selectbox(key="lesson_pick").select("deep").run()
    assert not at.exception, [e.value for e in at.exception]
    assert [e.value for e in at.sidebar.error] == [f"lessons/deep.json: nested 40,000 levels deep, more than "
                                                   f"{lessons.MAX_DEPTH}"]
    at.switch_page("app_pages/draw.py").run()  # and the other pages keep working, with the same one message
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.sidebar.error) == 1 and at.selectbox(key="draw_model").value == "tutorial_a"


def test_a_lesson_link_naming_markup_is_a_message_of_plain_text():
    """?lesson=![x](http://host/x.png) loaded a remote picture in the 'no lesson' message."""
    at = _app(lesson="![x](http://host/x.png)")
    assert not at.exception
    said = " ".join(e.value for e in at.sidebar.error)
    assert "no lesson" in said and "\\!\\[x\\]\\(http" in said and "![" not in said and "](" not in said


def test_a_lesson_files_text_is_shown_as_typed(tmp_path, monkeypatch):
    (tmp_path / "odd.toml").write_text('title = "[t](http://host/t)"\n[[steps]]\npage = "dimensions"\n'
                                       'question = "![q](http://host/q.png)"\nanswer = "<img src=a> **a**"\n')
    monkeypatch.setenv("CNNVIZ_LESSONS", str(tmp_path))
    at = _app(lesson="odd")
    at.button(key="lesson_reveal").click().run()
    assert not at.exception
    title = next(m.proto.help for m in at.main.markdown if m.value.startswith("**Step "))  # on hover
    assert title.endswith("\\[t\\]\\(http\u2060\\://host/t\\)")
    question = next(m.value for m in at.main.markdown if m.value.startswith("❓"))
    assert question.startswith("❓ \\!\\[q\\]") and at.main.success[0].value.startswith("\\<img")
    for text in [title, question, at.main.success[0].value]:
        assert "](" not in text and "![" not in text and "**a**" not in text


@pytest.mark.parametrize("page", ["dimensions", "playground", "trainer", "draw", "dataset"])
def test_a_step_that_is_not_an_ascii_number_is_a_note_on_every_page(page, data_root):
    """'²'.isdigit() is True and int('²') raised ValueError on every page; now the lesson opens at step 1."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90).run()
    at.switch_page(f"app_pages/{page}.py")
    at.query_params.update(lesson="cnn_tutorial", step="²")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("step='²' in this link ignored" in w.value for w in at.sidebar.warning)
    assert _step_line(at).startswith("**Step 1 of 7**")


def _charts(at: AppTest) -> int:
    return len(at.get("plotly_chart"))


def test_the_pooling_step_hides_the_pooled_picture_and_the_step_through_until_reveal(data_root):
    at = _app(lesson="cnn_tutorial", step="4")
    assert not at.exception and _step_line(at).startswith("**Step 4 of 7**")
    assert len(_hidden(at)) == 2 and _charts(at) == 1  # the input only: the pooled picture and its window hidden
    assert not [m for m in at.main.markdown if "max of the window" in m.value]
    at.selectbox(key="pg_pool").select("avg").run()  # playing with the settings reveals nothing
    assert len(_hidden(at)) == 2 and _charts(at) == 1
    at.button(key="lesson_reveal").click().run()
    assert not _hidden(at) and _charts(at) == 4  # input, pooled; the pooling step: its window and its numbers
    assert [m for m in at.main.markdown if "avg of the window" in m.value]


def test_a_teachers_own_lesson_hides_the_prediction_on_draw_until_reveal(tmp_path, monkeypatch, data_root):
    (tmp_path / "mine.toml").write_text('title = "Mine"\n[[steps]]\npage = "draw"\n'
                                        'state = { src = "Random MNIST test digit", digit = 3 }\n'
                                        'question = "What will it say?"\nanswer = "A digit."\n')
    monkeypatch.setenv("CNNVIZ_LESSONS", str(tmp_path))
    at = _app(lesson="mine")
    assert not at.exception, [e.value for e in at.exception]
    assert _hidden(at) == [reveal.placeholder("draw", "prediction")]  # the page's default: the prediction
    assert not [m for m in at.metric if m.label.endswith("says")]
    at.button(key="lesson_reveal").click().run()
    assert not _hidden(at) and [m for m in at.metric if m.label.endswith("says")]
    assert at.main.success[0].value == "A digit."
