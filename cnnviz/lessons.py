"""Lessons: a teacher's walk through the app, one step per screen, each with a question and its answer.

A lesson is a TOML (or JSON) file in lessons/:

    title = "From one convolution to a trained CNN"
    [[steps]]
    page = "dimensions"                     # one of cnnviz.pagestate.PAGES
    state = { tab = "One layer", w = 28, k = 5, p = 0 }   # that page's link parameters
    question = "How big is the output?"     # asked first: the class predicts...
    answer = "24 x 24: (28 - 5 + 0)/1 + 1"  # ...then the teacher reveals this
    hide = ["output", "formula"]            # the page's parts that answer it, hidden until Reveal
                                            # (cnnviz.reveal: optional, each page has a default)

Every step's state is checked against the page's schema (the same codec as a shared link), so a typo is
reported as "lessons/x.toml: step 3, state.kernal: this page has no such setting" and never reaches a page.
"""
from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnnviz import nesting, pagestate, reveal
from cnnviz.text import cut
from cnnviz.urlstate import decode

SHIPPED = Path(__file__).resolve().parents[1] / "lessons"
MAX_BYTES = 100_000   # a lesson is a page of text; a bigger file is not read
MAX_STEPS = 50
MAX_DEPTH = 16        # a lesson nests 6 levels at most (JSON: lesson > steps > step > state > grid > row)
_STEP = re.compile(r"[0-9]{1,3}")   # ASCII digits only: '²'.isdigit() is True, and int('²') raises
_TEXT = ("question", "answer")


class LessonError(ValueError):
    """A lesson file that cannot be used; the message names the file and the bad field."""


@dataclass(frozen=True)
class Step:
    """One screen: the page, its state (typed, as the page's widgets hold it), the question and the answer."""

    page: str
    params: dict[str, str]   # the state as link parameters (what the page's codec reads)
    state: dict[str, Any]    # typed values by parameter name
    question: str
    answer: str
    hide: tuple[str, ...] = ()   # the page's answer-bearing parts hidden until Reveal (cnnviz.reveal)


@dataclass(frozen=True)
class Lesson:
    """A named list of steps."""

    name: str
    title: str
    steps: tuple[Step, ...]


def _param(value: Any) -> str:
    """A TOML/JSON value as link text: true -> 1, 28 -> "28", [[0, 1], [1, 0]] -> "0,1;1,0"."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, list):
        return ";".join(",".join(str(v) for v in row) if isinstance(row, list) else str(row) for row in value)
    return str(value)


def read_step(where: str, i: int, raw: Any, models: Sequence[str]) -> Step:
    """Step `i` of the lesson `where` from its table (TOML/JSON values; link text works too); LessonError if bad."""
    at = f"{where}: step {i}"
    if not isinstance(raw, dict):
        raise LessonError(f"{at}: a step is a table with page, state, question and answer")
    unknown = set(raw) - {"page", "state", "hide", *_TEXT}
    if unknown:
        shown = repr(sorted(map(str, unknown))[0][:40])
        raise LessonError(f"{at}: unknown field {shown} (a step has page, state, hide, question, answer)")
    page = raw.get("page")
    if page not in pagestate.PAGES:
        raise LessonError(f"{at}, page: {page!r} is not one of {', '.join(pagestate.PAGES)}")
    for field in _TEXT:
        if not isinstance(raw.get(field), str) or not raw[field].strip():
            raise LessonError(f"{at}, {field}: missing or not text")
    state = raw.get("state", {})
    if not isinstance(state, dict):
        raise LessonError(f"{at}, state: a table of the page's settings, got {type(state).__name__}")
    params = {str(k): _param(v) for k, v in state.items()}
    got = decode(pagestate.schema(page, models), params)
    if got.notes:
        raise LessonError(f"{at}, state: {got.notes[0].replace(' ignored:', ':')}")
    try:
        hide = reveal.check(page, raw.get("hide"))
    except ValueError as err:
        raise LessonError(f"{at}, hide: {err}") from None
    return Step(page, params, got.values, raw["question"].strip(), raw["answer"].strip(), hide)


def parse(text: str, where: str, models: Sequence[str] = ()) -> Lesson:
    """A lesson from the text of a .toml or .json file named `where`; LessonError naming the bad field."""
    kind = "JSON" if where.endswith(".json") else "TOML"
    try:
        nesting.check(text, MAX_DEPTH)  # before parsing: both parsers recurse once per level
    except ValueError as err:
        raise LessonError(f"{where}: {err}") from None
    try:
        raw = json.loads(text) if kind == "JSON" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as err:
        raise LessonError(f"{where}: not valid {kind} ({err})") from None
    except RecursionError:  # nesting the count above missed (it skips what it takes for strings)
        raise LessonError(f"{where}: not valid {kind} (nested too deeply to read)") from None
    if not isinstance(raw, dict):
        raise LessonError(f"{where}: a lesson is a table with a title and steps")
    title, steps = raw.get("title"), raw.get("steps")
    if not isinstance(title, str) or not title.strip():
        raise LessonError(f"{where}, title: missing or not text")
    if not isinstance(steps, list) or not 1 <= len(steps) <= MAX_STEPS:
        raise LessonError(f"{where}, steps: a list of 1 to {MAX_STEPS} steps")
    name = Path(where).stem
    return Lesson(name, title.strip(), tuple(read_step(where, i, s, models) for i, s in enumerate(steps, 1)))


def step_number(text: str | None, total: int) -> tuple[int, str | None]:
    """A link's `step=` as a step of a lesson of `total` steps: (n, None), or (1, a note) when it is not 1 to total."""
    if text is None:
        return 1, None
    if isinstance(text, str) and _STEP.fullmatch(text) and 1 <= int(text) <= total:
        return int(text), None
    shown = repr(cut(text, 20) if isinstance(text, str) else text)
    return 1, f"step={shown} in this link ignored: this lesson has steps 1 to {total}, so it starts at step 1"


def home() -> Path:
    """Where lessons are read: $CNNVIZ_LESSONS when set (a teacher's own folder), else the shipped lessons/."""
    return Path(os.environ.get("CNNVIZ_LESSONS") or SHIPPED)


def available(folder: Path | None = None) -> list[str]:
    """The lesson names in `folder` (file names without .toml / .json), sorted."""
    folder = folder or home()
    if not folder.is_dir():
        return []
    return sorted({p.stem for p in folder.iterdir() if p.suffix in (".toml", ".json") and p.is_file()})


def load(name: str, folder: Path | None = None, models: Sequence[str] = ()) -> Lesson:
    """The lesson `name` from `folder`; LessonError naming the file (relative) and the bad field."""
    folder = folder or home()
    if name not in available(folder):
        raise LessonError(f"no lesson {name!r}; lessons: {', '.join(available(folder)) or 'none'}")
    path = next(p for p in (folder / f"{name}.toml", folder / f"{name}.json") if p.is_file())
    where = f"lessons/{path.name}"
    if path.stat().st_size > MAX_BYTES:
        raise LessonError(f"{where}: {path.stat().st_size:,} bytes, more than a lesson's {MAX_BYTES:,}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise LessonError(f"{where}: not UTF-8 text") from None
    return parse(text, where, models)
