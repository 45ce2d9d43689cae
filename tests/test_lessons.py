"""Lessons: the shipped lesson loads and every step opens a valid page state; a malformed file names its field."""
import json

import pytest

from cnnviz import checkpoints, lessons, pagestate, reveal

GOOD = """title = "t"
[[steps]]
page = "playground"
state = { kernel = "sobel_x", stride = 2, relu = true, grid = [[0, 1, 0], [1, -4, 1], [0, 1, 0]] }
question = "q"
answer = "a"
"""


def test_the_shipped_lesson_follows_the_tutorials():
    assert "cnn_tutorial" in lessons.available()
    lesson = lessons.load("cnn_tutorial", models=checkpoints.available())
    assert len(lesson.steps) == 7
    assert [s.page for s in lesson.steps] == ["dimensions", "dimensions", "playground", "playground", "playground",
                                             "trainer", "draw"]
    first, second = lesson.steps[:2]
    assert (first.state["w"], first.state["k"], first.state["p"]) == (28, 5, 0) and "24 x 24" in first.answer
    assert second.state["p"] == 2 and "28 x 28" in second.answer
    assert {lesson.steps[3].state["pool"], lesson.steps[4].state["pool"]} == {"max", "avg"}
    assert lesson.steps[5].state["net"] == "tutorial_b" and "97.04%" in lesson.steps[5].answer
    trainer = lesson.steps[5].state  # what the question describes: SGD + momentum, lr 0.01, batches of 100, 1 epoch
    assert (trainer["opt"], trainer["lr"], trainer["batch"], trainer["epochs"]) == ("sgd", 0.01, 100, 1.0)
    for step in lesson.steps:  # each asks before it tells: what answers it is hidden until Reveal
        assert step.hide and set(step.hide) <= set(reveal.parts(step.page))
        assert step.question.endswith("?") and step.answer
        assert set(step.state) <= set(pagestate.schema(step.page, checkpoints.available()))


def test_values_are_typed_as_the_widgets_hold_them(tmp_path):
    (tmp_path / "mine.toml").write_text(GOOD)
    step = lessons.load("mine", tmp_path).steps[0]
    assert step.hide == reveal.DEFAULT["playground"]  # no hide: the page's default
    assert step.state == {"kernel": "sobel_x", "stride": 2, "relu": True,
                          "grid": ((0.0, 1.0, 0.0), (1.0, -4.0, 1.0), (0.0, 1.0, 0.0))}
    assert step.params["relu"] == "1" and step.params["grid"] == "0,1,0;1,-4,1;0,1,0"


def test_json_lessons_too(tmp_path):
    (tmp_path / "j.json").write_text(json.dumps({"title": "t", "steps": [
        {"page": "trainer", "state": {"lr": 0.01, "batch": 100}, "question": "q?", "answer": "a"}]}))
    assert lessons.load("j", tmp_path).steps[0].state == {"lr": 0.01, "batch": 100}


@pytest.mark.parametrize("change, message", [
    (('page = "playground"', 'page = "kitchen"'), "lessons/bad.toml: step 1, page: 'kitchen' is not one of"),
    (("stride = 2", "stride = 99"), "lessons/bad.toml: step 1, state: stride='99': outside 1 to 4"),
    (("stride = 2", "strride = 2"), "lessons/bad.toml: step 1, state: 'strride': this page has no such setting"),
    (('question = "q"', 'question = ""'), "lessons/bad.toml: step 1, question: missing or not text"),
    (('answer = "a"', 'answr = "a"'), "lessons/bad.toml: step 1: unknown field 'answr'"),
    (('title = "t"', 'title = 3'), "lessons/bad.toml, title: missing or not text"),
    (("[[steps]]", "[[steps]"), "lessons/bad.toml: not valid TOML"),
    (('kernel = "sobel_x"', 'kernel = "__import__(\'os\')"'), "state: kernel="),
    (('answer = "a"', 'answer = "a"\nhide = ["formula"]'),
     "lessons/bad.toml: step 1, hide: 'formula' is not a part of this page (output, pooled, steps)"),
    (('answer = "a"', 'answer = "a"\nhide = "output"'), "lessons/bad.toml: step 1, hide: a list of part names"),
])
def test_a_malformed_lesson_names_its_file_and_field(tmp_path, change, message):
    (tmp_path / "bad.toml").write_text(GOOD.replace(*change))
    with pytest.raises(lessons.LessonError) as err:
        lessons.load("bad", tmp_path)
    assert message in str(err.value)
    assert str(tmp_path) not in str(err.value)  # a visitor sees the lesson's name, not the server's folders


def test_refusals_before_reading(tmp_path):
    (tmp_path / "huge.toml").write_text("x" * (lessons.MAX_BYTES + 1))
    (tmp_path / "latin.toml").write_bytes(b'title = "caf\xe9"')
    with pytest.raises(lessons.LessonError, match="more than a lesson's"):
        lessons.load("huge", tmp_path)
    with pytest.raises(lessons.LessonError, match="not UTF-8"):
        lessons.load("latin", tmp_path)
    with pytest.raises(lessons.LessonError, match="no lesson 'nope'"):
        lessons.load("nope", tmp_path)


def test_the_lesson_folder_follows_the_environment(tmp_path, monkeypatch):
    (tmp_path / "mine.toml").write_text(GOOD)
    monkeypatch.setenv("CNNVIZ_LESSONS", str(tmp_path))
    assert lessons.available() == ["mine"]


@pytest.mark.parametrize("file, text", [
    ("deep.json", "[" * 40_000 + "]" * 40_000),
    ("deep.toml", "x = " + "[" * 40_000 + "]" * 40_000),
    ("deep.toml", 'title = "t"\n[[steps]]\nstate = { grid = ' + "[" * 500 + "]" * 500 + " }\n"),
], ids=["json 40,000 deep", "toml 40,000 deep", "toml 500 deep inside a step"])
def test_a_deeply_nested_lesson_is_a_message_naming_it_not_a_recursion_error(tmp_path, file, text):
    (tmp_path / file).write_text(text)
    assert len(text.encode()) <= lessons.MAX_BYTES  # read, not refused for its size
    with pytest.raises(lessons.LessonError) as err:
        lessons.load("deep", tmp_path)
    assert str(err.value).startswith(f"lessons/{file}: nested ") and f"more than {lessons.MAX_DEPTH}" in str(err.value)


def test_brackets_inside_a_lessons_text_do_not_count_as_nesting(tmp_path):
    (tmp_path / "quoted.toml").write_text(GOOD.replace('question = "q"', 'question = "' + "[" * 100 + ' ?"'))
    assert lessons.load("quoted", tmp_path).steps[0].question.startswith("[" * 100)


def test_a_links_step_is_ascii_digits_within_the_lesson():
    """'²'.isdigit() is True and int('²') raises; only 1 to the number of steps opens that step."""
    assert lessons.step_number("3", 7) == (3, None) and lessons.step_number(None, 7) == (1, None)
    for bad in ("²", "٣", "0", "8", "-1", " 3", "3.0", "1" * 400, ""):
        n, note = lessons.step_number(bad, 7)
        assert n == 1 and "ignored" in note and "1 to 7" in note and len(note) < 120, (bad, note)
