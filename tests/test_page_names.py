"""Checkpoint folders with odd names (bytes that are not UTF-8, Markdown, LaTeX, HTML) break no page and
are shown as plain text on Draw, the calculator and the sidebar (#13 item 3)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cnnviz import checkpoints as ck

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = {"bytes": b"model\xff", "markdown": "**bold** :red[red] $x^2$ [a](javascript:x) <b>b<b> #h".encode()}
stroke = pytest.importorskip("tests.test_page_draw")


@pytest.fixture(params=list(HOSTILE))
def hostile(request, tmp_path, monkeypatch) -> str:
    """A valid copy of tutorial_a in the user folder under a hostile name; returns the name as listed."""
    user = tmp_path / "user"
    user.mkdir()
    shutil.copytree(ck.SHIPPED / "tutorial_a", os.fsdecode(bytes(user) + b"/" + HOSTILE[request.param]))
    monkeypatch.setenv("CNNVIZ_USER_CHECKPOINTS", str(user))
    return ck.available()[-1]


def _texts(at: AppTest) -> list[str]:
    parts = [m.label for m in at.metric] + [m.value for m in at.markdown] + [c.value for c in at.caption]
    return parts + [e.value for e in at.error]


def test_draw_lists_answers_with_and_shows_an_odd_name_as_text(hostile):
    at = AppTest.from_file(str(ROOT / "app_pages" / "draw.py"), default_timeout=60)
    at.session_state["active_checkpoint"] = hostile
    at.session_state["canvas"] = stroke.canvas_state(stroke.stroke_one())
    at.run()
    assert not at.exception and not at.error
    assert at.selectbox(key="draw_model").value == hostile
    assert ck.display_name(hostile) in at.selectbox(key="draw_model").options
    assert at.metric[0].label == f"{ck.plain(hostile)} says"
    assert "%" in at.metric[0].help and "9904" not in at.metric[0].help  # 99.04 is already a percentage
    _no_raw_markup(at)


def _no_raw_markup(at: AppTest) -> None:
    """Every mention of the name is escaped: no Markdown, colour, LaTeX or HTML of it reaches the page."""
    texts = _texts(at)
    assert texts
    for text in texts:
        for raw in ("**bold**", ":red[", "$x^2$", "[a](", "<b>", "\udcff"):
            assert raw not in text, (raw, text)


def test_the_calculator_opens_the_network_of_an_oddly_named_model(hostile):
    at = AppTest.from_file(str(ROOT / "app_pages" / "dimensions.py"), default_timeout=60).run()
    box = next(b for b in at.selectbox if any("tutorial_a" in str(o) for o in b.options))
    box.select(f"checkpoint: {hostile}").run()
    assert not at.exception and not at.error
    assert at.dataframe and ck.display_name(hostile) in box.options[-1]
    _no_raw_markup(at)


def test_the_sidebar_shows_the_active_model_as_text(hostile):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["active_checkpoint"] = hostile
    at.run()
    assert not at.exception
    assert any(ck.plain(hostile) in c.value for c in at.sidebar.caption)
    _no_raw_markup(at)
