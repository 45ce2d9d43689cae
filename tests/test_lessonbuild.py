"""The lesson builder's logic: a view captured as a step, steps moved / edited / deleted, the draft written as
TOML that the lesson reader reads back to the same steps, and an uploaded lesson checked like lessons/."""
import re
import tomllib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cnnviz import checkpoints, lessonbuild, lessons, pagestate, reveal
from cnnviz.lessonbuild import Draft
from cnnviz.lessons import LessonError

MODELS = checkpoints.available()


def _same(a: lessons.Step, b: lessons.Step) -> bool:
    """The same step: page, typed state, texts, hidden parts (the link text of a float may differ: 5 vs 5.0)."""
    return (a.page, a.state, a.question, a.answer, a.hide) == (b.page, b.state, b.question, b.answer, b.hide)


def _step(q: str = "How big?", page: str = "dimensions", **state: str) -> lessons.Step:
    return lessonbuild.capture(page, state or {"w": "28", "k": "5"}, q, "24", None, MODELS)


def test_a_view_is_captured_by_its_link_parameters_typed_as_the_page_holds_them():
    step = lessonbuild.capture("playground", {"kernel": "sobel_x", "stride": "2", "relu": "1",
                                              "grid": "0,1,0;1,-4,1;0,1,0"}, " Why? ", " Because. ", ["output"], MODELS)
    assert step.page == "playground" and step.hide == ("output",)
    assert step.state.items() >= {"kernel": "sobel_x", "stride": 2, "relu": True,
                                  "grid": ((0.0, 1.0, 0.0), (1.0, -4.0, 1.0), (0.0, 1.0, 0.0))}.items()
    assert (step.question, step.answer) == ("Why?", "Because.")
    assert lessonbuild.capture("", {}, "q", "a", None).page == "dimensions"  # the calculator's url path is ""


def test_a_captured_view_sets_the_settings_its_link_leaves_at_their_defaults():
    """A link omits default values; a step that did too would open with whatever the class chose last."""
    step = lessonbuild.capture("playground", {"stride": "2"}, "q", "a", None, MODELS)
    assert step.state["stride"] == 2 and step.state["kernel"] == "outline" and step.state["pool"] == "none"
    assert set(step.state) == {n for n, f in pagestate.playground().items() if f.default is not None} | {"stride"}
    assert lessonbuild.capture("trainer", {}, "q", "a", None).hide == reveal.DEFAULT["trainer"]


@pytest.mark.parametrize("page, state, q, a, hide, message", [
    ("playground", {"stride": "99"}, "q", "a", None, "state: stride='99': outside 1 to 4"),
    ("playground", {"strride": "2"}, "q", "a", None, "'strride': this page has no such setting"),
    ("playground", {}, "  ", "a", None, "question: missing or not text"),
    ("playground", {}, "q", "", None, "answer: missing or not text"),
    ("playground", {}, "q", "a", ["result"], "hide: 'result' is not a part of this page"),
    ("playground", {}, "q" * 1001, "a", None, "The question is 1,001 characters long: at most 1,000"),
    ("dataset", {}, "q", "a", None, "page: 'dataset' is not one of"),
])
def test_a_view_that_cannot_be_a_step_is_one_message(page, state, q, a, hide, message):
    with pytest.raises(LessonError, match=message.replace("(", r"\(").replace(")", r"\)")):
        lessonbuild.capture(page, state, q, a, hide, MODELS)


def test_steps_are_added_moved_edited_and_deleted():
    draft = Draft("t")
    for q in "ABC":
        draft = lessonbuild.add(draft, _step(q + "?"))
    order = lambda d: "".join(s.question[0] for s in d.steps)  # noqa: E731
    assert order(draft) == "ABC"
    assert order(lessonbuild.move(draft, 2, -1)) == "ACB" and order(lessonbuild.move(draft, 0, 1)) == "BAC"
    assert order(lessonbuild.move(draft, 0, -1)) == "ABC" and order(lessonbuild.move(draft, 2, 5)) == "ABC"
    assert order(lessonbuild.delete(draft, 1)) == "AC"
    edited = lessonbuild.edit(draft, 1, "Bee?", "bzz", [], MODELS)
    assert [s.question for s in edited.steps] == ["A?", "Bee?", "C?"] and edited.steps[1].hide == ()
    assert edited.steps[1].state == draft.steps[1].state  # its page and state kept
    with pytest.raises(IndexError):
        lessonbuild.delete(draft, 3)


def test_a_draft_stops_at_a_lessons_limits():
    draft = Draft("t", (_step(),) * lessons.MAX_STEPS)
    with pytest.raises(LessonError, match=f"at most {lessons.MAX_STEPS} steps"):
        lessonbuild.add(draft, _step())
    long = lessonbuild.capture("dimensions", {}, "q" * 1000, "a" * 2000, None)
    draft = Draft("t")
    with pytest.raises(LessonError, match="more than a lesson's 100,000"):
        for _ in range(lessons.MAX_STEPS):
            draft = lessonbuild.add(draft, long)
    assert len(lessonbuild.to_toml(draft).encode()) <= lessons.MAX_BYTES  # what it holds can still be written


def test_the_shipped_lesson_written_by_the_builder_reads_back_the_same():
    shipped = lessons.load("cnn_tutorial", models=MODELS)
    text = lessonbuild.to_toml(lessonbuild.as_draft(shipped))
    back = lessons.parse(text, "cnn_tutorial.toml", MODELS)
    assert back.title == shipped.title and len(back.steps) == len(shipped.steps)
    assert all(_same(a, b) for a, b in zip(shipped.steps, back.steps))


HOSTILE = ['say "hi" \\ \\n', "line one\nline two\ttab", "<img src=x onerror=alert(1)> **b** [l](http://h)",
           '"""', "'''", "del \x7f and nul \x00 and esc \x1b", "lone \ud800 surrogate", "émoji 🧠 ünïcode",
           "# not a comment", "] } [[steps]]"]


@pytest.mark.parametrize("text", HOSTILE)
def test_any_text_is_written_as_a_string_and_read_back_as_typed(text):
    draft = lessonbuild.add(Draft(text), lessonbuild.capture("draw", {}, text, text, [], MODELS))
    raw = tomllib.loads(lessonbuild.to_toml(draft))
    want = text.replace("\ud800", "\ufffd").strip()
    assert raw["title"].strip() == want and raw["steps"][0]["question"] == want and len(raw["steps"]) == 1


@given(st.text(min_size=1, max_size=60).filter(str.strip))
def test_round_trip_of_any_question(text):
    step = lessonbuild.capture("trainer", {"lr": "0.001", "epochs": "1"}, text, "a", ["result"], MODELS)
    back = lessons.parse(lessonbuild.to_toml(Draft("t", (step,))), "t.toml", MODELS).steps[0]
    assert back.question == re.sub("[\ud800-\udfff]", "\ufffd", step.question)  # a lone surrogate cannot be written
    assert back.state == step.state and back.hide == ("result",)


@pytest.mark.parametrize("name, data, message", [
    ("x.txt", b'title = "t"', "x.txt: a lesson is a .toml or .json file"),
    ("big.toml", b"#" * (lessons.MAX_BYTES + 1), "big.toml: 100,001 bytes, more than a lesson's 100,000"),
    ("latin.toml", b'title = "caf\xe9"', "latin.toml: not UTF-8 text"),
    ("deep.json", b"[" * 40_000 + b"]" * 40_000, "deep.json: nested 40,000 levels deep, more than 16"),
    ("bad.toml", b'title = "t"\n[[steps]]\npage = "kitchen"\nquestion = "q"\nanswer = "a"\n',
     "bad.toml: step 1, page: 'kitchen' is not one of"),
    ("<b>x.toml", b"[[[", "b-x.toml: not valid TOML"),
    ("../../etc/x.toml", b"[[[", "x.toml: not valid TOML"),
])
def test_an_uploaded_lesson_is_checked_like_the_folders_and_refused_in_one_message(name, data, message):
    with pytest.raises(LessonError) as err:
        lessonbuild.read_upload(data, name, MODELS)
    assert str(err.value).startswith(message), str(err.value)


def test_a_good_upload_is_a_lesson_named_safely():
    text = lessonbuild.to_toml(Draft("Mine", (_step(),)))
    lesson = lessonbuild.read_upload(text.encode(), "My Lesson (v2).toml", MODELS)
    assert lesson.name == "my-lesson-v2" and lesson.title == "Mine" and _same(lesson.steps[0], _step())


def test_saving_into_the_lessons_folder_never_overwrites(tmp_path):
    draft = Draft("Edge detectors!", (_step(),))
    path = lessonbuild.save(draft, tmp_path, MODELS)
    assert path == tmp_path / "edge-detectors.toml" and lessons.available(tmp_path) == ["edge-detectors"]
    assert _same(lessons.load("edge-detectors", tmp_path, MODELS).steps[0], _step())
    with pytest.raises(LessonError, match="already a lesson 'edge-detectors'"):
        lessonbuild.save(draft, tmp_path, MODELS)
    with pytest.raises(LessonError, match="no steps yet"):
        lessonbuild.save(Draft("other"), tmp_path, MODELS)
    assert path.read_text() == lessonbuild.to_toml(draft)


def test_slugs_are_safe_file_names():
    assert lessonbuild.slug("../../etc/passwd") == "etc-passwd"
    assert lessonbuild.slug("<script>") == "script" and lessonbuild.slug("###") == "lesson"
    assert len(lessonbuild.slug("a" * 500)) == 40
    assert set(pagestate.PAGES) <= set(reveal.PARTS)
