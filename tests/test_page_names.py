"""Checkpoint folders with odd names (bytes that are not UTF-8, Markdown, LaTeX, HTML) break no page and
are shown as plain text on Draw, the calculator and the sidebar."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cnnviz import checkpoints as ck
from cnnviz.text import plain as escaped

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = {"bytes": b"model\xff", "markdown": b"**bold** :red[red] $x^2$ [a](javascript:x) <b>b<b> #h"}
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
    assert at.metric[0].label == f"{escaped(hostile)} says"
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
    assert any(escaped(hostile) in c.value for c in at.sidebar.caption)
    _no_raw_markup(at)


# A model card's class names are file-supplied text too: each kind of markup the tracker named.
CARD_CLASSES = ["[x0](http://evil/x)", "![x1](http://evil/x.png)", "<img src=x2>", "**bold3**",
                "http://evil/4", "[x5](http://evil/x)", "![x6](http://evil/x.png)", "<a href=x>7</a>",
                "**bold8**", ":red[x9]"]
RAW = ("](", "![", "<img", "<a ", "**bold", "http://", ":red[")


@pytest.fixture
def hostile_card(tmp_path, monkeypatch) -> str:
    """tutorial_a in the user folder with a card whose class names are Markdown, links and HTML."""
    user = tmp_path / "user"
    shutil.copytree(ck.SHIPPED / "tutorial_a", user / "evil_card")
    card = json.loads((user / "evil_card" / ck.CARD).read_text())
    (user / "evil_card" / ck.CARD).write_text(json.dumps({**card, "name": "evil_card", "classes": CARD_CLASSES}))
    monkeypatch.setenv("CNNVIZ_USER_CHECKPOINTS", str(user))
    return "evil_card"


def _plotly_texts(at: AppTest) -> list[str]:
    """Every category label and bar text of every plotly figure on the page (where plotly renders HTML)."""
    texts = []
    for chart in at.get("plotly_chart"):
        for trace in json.loads(chart.proto.spec)["data"]:
            for key in ("x", "y", "text"):
                values = trace.get(key)
                texts += [v for v in (values if isinstance(values, list) else []) if isinstance(v, str)]
    return texts


def test_a_cards_class_names_are_text_on_draw_and_in_the_probability_bars(hostile_card):
    at = AppTest.from_file(str(ROOT / "app_pages" / "draw.py"), default_timeout=60)
    at.session_state["active_checkpoint"] = hostile_card
    at.session_state["canvas"] = stroke.canvas_state(stroke.stroke_one())
    at.run()
    assert not at.exception
    answer = at.metric[0].value
    assert answer == escaped(CARD_CLASSES[1]) and "\\!\\[x1\\]" in answer  # the '1', escaped
    texts = _texts(at) + [m.value for m in at.metric] + [w.value for w in at.warning] + [i.value for i in at.info]
    for text in texts:
        for raw in RAW:
            assert raw not in text, (raw, text)
    bars = _plotly_texts(at)
    assert any("&lt;img src=x2&gt;" in t for t in bars)  # both bar charts name every class...
    assert not [t for t in bars if "<" in t]              # ...and none as a tag plotly would render
