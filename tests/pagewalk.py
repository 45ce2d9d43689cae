"""Every page under AppTest in the states a class sees (default, a drawing with Why / sanity / detail on, the
trainer, How it learns after a step, the playground's other sources and tabs): what the glossary and the
widget-schema tests walk. Not a test module itself."""
from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.test_page_draw import canvas_state, stroke_one

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT / "app_pages"
WIDGETS = ("button", "checkbox", "color_picker", "date_input", "multiselect", "number_input", "radio",
           "select_slider", "selectbox", "slider", "text_area", "text_input", "time_input", "toggle")


def run(page: str, *, clicks: tuple[str, ...] = (), **state) -> AppTest:
    """The page `page` (a file name in app_pages/) run with `state` in its session, then each button key clicked."""
    at = AppTest.from_file(str(PAGES / page), default_timeout=90)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    for key in clicks:
        at.button(key=key).click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def trained(**state) -> AppTest:
    """The trainer after a run of 5 batches (its result: accuracy, the run's summary with bf16 / one-cycle...)."""
    at = run("trainer.py", max_batches=5, clicks=("start",), **state)
    runner = at.session_state["trainer_runner"]
    while runner.snapshot().state == "running":  # waits for the run to end; nothing here is timed
        time.sleep(0.2)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def states(present: bool = False) -> Iterator[tuple[str, AppTest]]:
    """(a name for the state, the page run in it) for every page and the states worth reading."""
    more = {"present": True} if present else {}
    yield "dimensions", run("dimensions.py", **more)
    yield "dimensions: whole network", run("dimensions.py", calc_tab="A whole network", **more)
    yield "dimensions: pooling", run("dimensions.py", calc_kind="Pooling", **more)
    for source in ("Photo", "Pattern", "MNIST digit"):
        yield f"playground: {source}", run("playground.py", pg_source=source, pg_photo="astronaut", pg_pool="max",
                                           pg_rgb=True, **more)
    for tab in ("Pooling step", "Output sizes"):
        yield f"playground: {tab}", run("playground.py", pg_pool="max", pg_step_tab=tab, **more)
    yield "playground: custom kernel", run("playground.py", pg_kernel="custom 3x3", **more)
    yield "trainer", run("trainer.py", train_aug=True, **more)
    yield "trainer: after a run", trained(**more)
    yield "draw", run("draw.py", **more)
    yield "draw: a drawing, Why, sanity and detail", run(
        "draw.py", canvas=canvas_state(stroke_one()), draw_why=True, draw_sanity=True, draw_detail=True, **more)
    yield "draw: compare", run("draw.py", canvas=canvas_state(stroke_one()), draw_compare=True, **more)
    yield "learn", run("learn.py", **more)
    yield "learn: after a step", run("learn.py", canvas=canvas_state(stroke_one()), learn_label=1,
                                     clicks=("learn_step",), **more)
    yield "dataset", run("dataset.py", **more)
    yield "class", run("classroom.py", **more)


def texts(at: AppTest) -> Iterator[tuple[str, str, str | None]]:
    """(what, its text, its help) for every markdown, caption, metric and widget (label and options) shown."""
    for kind in ("markdown", "caption"):
        for md in getattr(at, kind):
            yield kind, md.value, md.proto.help or None
    for m in at.metric:
        yield "metric", m.label, m.proto.help or None
    for kind in WIDGETS:
        for w in getattr(at, kind):
            label = w.label or ""
            options = list(getattr(w, "options", []) or [])
            yield kind, "\n".join([label, *map(str, options)]), getattr(w, "help", None) or None


@functools.cache
def walked(present: bool = False) -> tuple[tuple[str, AppTest], ...]:
    """states(), run once per test session (the glossary and the widget tests read the same runs)."""
    return tuple(states(present))
