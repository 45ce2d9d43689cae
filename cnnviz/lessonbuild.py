"""The lesson builder's logic: a draft's steps (add this view, move, edit, delete), the draft as a .toml file,
and a lesson file uploaded by a teacher read and checked like the files in lessons/.

A step captures a page and its state by the same names as the page's link (cnnviz.pagestate), so a built
lesson opens exactly the views the teacher saw. Every step goes through lessons.read_step, the reader of the
lesson files: a draft can only hold steps a lesson file could.
"""
from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cnnviz import lessons, pagestate, shared
from cnnviz.lessons import MAX_BYTES, MAX_STEPS, Lesson, LessonError, Step
from cnnviz.urlstate import encode

MAX_QUESTION = 1_000   # characters: a question is read aloud, an answer explained; a page of text each at most
MAX_ANSWER = 2_000
SUFFIXES = (".toml", ".json")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Draft:
    """A lesson being built: its title and steps (each a lessons.Step)."""

    title: str = "My lesson"
    steps: tuple[Step, ...] = ()


def slug(text: str, fallback: str = "lesson") -> str:
    """A file name stem from any text: lower-case ASCII letters, digits and '-' only, at most 40 characters."""
    out = _SLUG.sub("-", str(text).lower()).strip("-")[:40].strip("-")
    return out or fallback


def capture(page: str, params: Mapping[str, str], question: str, answer: str, hide: Sequence[str] | None,
            models: Sequence[str] = ()) -> Step:
    """A step of `page` in the state its link `params` name, with its question, answer and hidden parts;
    LessonError saying what is wrong (an empty or too long text, a setting the page does not have)."""
    for field, text, most in (("question", question, MAX_QUESTION), ("answer", answer, MAX_ANSWER)):
        if isinstance(text, str) and len(text) > most:
            raise LessonError(f"The {field} is {len(text):,} characters long: at most {most:,}, please.")
    page = page or "dimensions"
    raw = {"page": page, "state": complete(page, params, models), "question": question, "answer": answer,
           "hide": list(hide) if hide is not None else None}
    if raw["hide"] is None:
        del raw["hide"]
    return lessons.read_step("this view", 1, raw, models)


def complete(page: str, params: Mapping[str, str], models: Sequence[str] = ()) -> dict[str, str]:
    """A link's `params` with every setting it leaves out at its default written in: a link omits defaults, but
    a step must set them, or it would open with whatever the class last chose."""
    if page not in pagestate.PAGES:
        return dict(params)  # lessons.read_step says which pages a step may show
    schema = pagestate.schema(page, models)
    defaults = {name: field.default for name, field in schema.items() if field.default is not None}
    return {**encode(schema, defaults, skip_defaults=False), **params}


def add(draft: Draft, step: Step) -> Draft:
    """The draft with `step` at the end; LessonError when it would be more than a lesson may hold."""
    bigger = replace(draft, steps=(*draft.steps, step))
    if len(bigger.steps) > MAX_STEPS:
        raise LessonError(f"A lesson has at most {MAX_STEPS} steps: this one is full.")
    if (size := len(to_toml(bigger).encode("utf-8"))) > MAX_BYTES:
        raise LessonError(f"The lesson would be {size:,} bytes, more than a lesson's {MAX_BYTES:,}: "
                          "shorten some answers, or start a second lesson.")
    return bigger


def _at(draft: Draft, i: int) -> int:
    if not 0 <= i < len(draft.steps):
        raise IndexError(f"no step {i + 1}: the lesson has {len(draft.steps)}")
    return i


def move(draft: Draft, i: int, by: int) -> Draft:
    """The draft with step i (0-based) moved `by` places (-1: up), kept within the list."""
    steps = list(draft.steps)
    step = steps.pop(_at(draft, i))
    steps.insert(min(max(i + by, 0), len(steps)), step)
    return replace(draft, steps=tuple(steps))


def delete(draft: Draft, i: int) -> Draft:
    """The draft without step i (0-based)."""
    _at(draft, i)
    return replace(draft, steps=draft.steps[:i] + draft.steps[i + 1:])


def edit(draft: Draft, i: int, question: str, answer: str, hide: Sequence[str],
         models: Sequence[str] = ()) -> Draft:
    """The draft with step i's question, answer and hidden parts changed (its page and state kept)."""
    old = draft.steps[_at(draft, i)]
    new = capture(old.page, old.params, question, answer, hide, models)
    return move(add(delete(draft, i), new), len(draft.steps) - 1, i - len(draft.steps) + 1)


def _string(text: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's; DEL and lone surrogates cannot be written as they are."""
    text = re.sub("[\ud800-\udfff]", "\ufffd", text)
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _value(value: Any) -> str:
    """A typed state value (as lessons.Step.state holds it) as TOML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} cannot be written to a lesson")
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return _string(str(value))


def _key(name: str) -> str:
    return name if _BARE_KEY.fullmatch(name) else _string(name)


def to_toml(draft: Draft) -> str:
    """The draft as the text of a lesson file (what lessons.parse reads back to the same steps)."""
    lines = ["# A lesson made with cnnviz's lesson builder: put it in lessons/ (or $CNNVIZ_LESSONS).",
             f"title = {_string(draft.title.strip() or 'My lesson')}"]
    for step in draft.steps:
        state = ", ".join(f"{_key(k)} = {_value(step.state[k])}" for k in step.params if k in step.state)
        lines += ["", "[[steps]]", f"page = {_string(step.page)}", f"state = {{ {state} }}" if state else "state = {}",
                  f"hide = [{', '.join(_string(h) for h in step.hide)}]",
                  f"question = {_string(step.question)}", f"answer = {_string(step.answer)}"]
    return "\n".join(lines) + "\n"


def read_upload(data: bytes, file_name: str, models: Sequence[str] = ()) -> Lesson:
    """An uploaded lesson file, checked like the files in lessons/; one LessonError saying what is wrong."""
    stem, suffix = Path(str(file_name)).stem, Path(str(file_name)).suffix.lower()
    where = slug(stem) + (f".{slug(suffix[1:], '')}" if suffix else "")  # the name as typed, made safe to show
    if suffix not in SUFFIXES:
        raise LessonError(f"{where}: a lesson is a .toml or .json file")
    if len(data) > MAX_BYTES:
        raise LessonError(f"{where}: {len(data):,} bytes, more than a lesson's {MAX_BYTES:,}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise LessonError(f"{where}: not UTF-8 text") from None
    return lessons.parse(text, where, models)


def as_draft(lesson: Lesson) -> Draft:
    """A lesson opened for editing in the builder."""
    return Draft(lesson.title, lesson.steps)


def save(draft: Draft, folder: Path, models: Sequence[str] = ()) -> Path:
    """Write the draft into `folder` (the machine's lessons) as <slug of its title>.toml, checked by reading it
    back; LessonError when a lesson of that name is there already (nothing is overwritten) or it is invalid."""
    if not draft.steps:
        raise LessonError("The lesson has no steps yet: add this view as a step first.")
    name = slug(draft.title)
    if name in lessons.available(folder):
        raise LessonError(f"There is already a lesson {name!r} in the lessons folder: change the title.")
    text = to_toml(draft)
    lessons.parse(text, f"{name}.toml", models)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.toml"
    shared.write_atomic(path, text)
    return path
