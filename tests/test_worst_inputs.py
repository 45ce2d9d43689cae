"""Bounded work for every input: each numeric widget of every page at its extremes leaves the page idle quickly.

AppTest drives the real page scripts. The budget is a generous "must finish, not hang" bound (the issue
measured W=300 at 16.6 s and W=4096 still busy after 122 s); speed itself is measured in bench/.
"""
from __future__ import annotations

import re

import pytest
from conftest import ROOT
from streamlit.testing.v1 import AppTest

BUDGET_S = 30.0  # per run, on a loaded 2-core machine; the runs take well under a second or two
PAGES = re.findall(r'st\.Page\("(app_pages/[a-z_]+\.py)"', (ROOT / "app.py").read_text())


def _extremes(widget) -> list:
    """The largest and smallest value the widget accepts (number_input: only bounds it declares)."""
    return [widget.max] + ([widget.min] if widget.proto.has_min else [])


def _timed_run(at: AppTest, what: str) -> None:
    at.run(timeout=BUDGET_S)  # AppTest raises if the script is still running after the budget: a hang fails
    assert not at.exception, (what, [e.value for e in at.exception])


@pytest.mark.parametrize("page", PAGES)
def test_every_numeric_widget_at_its_extremes_finishes(page, tmp_path, monkeypatch):
    monkeypatch.setenv("CNNVIZ_USER_CHECKPOINTS", str(tmp_path / "ckpt"))
    monkeypatch.setenv("CNNVIZ_USER_DATA", str(tmp_path / "own"))
    at = AppTest.from_file(str(ROOT / page), default_timeout=BUDGET_S)
    _timed_run(at, f"{page} first run")
    count = len(at.number_input)
    assert page != "app_pages/dimensions.py" or count >= 8
    for i in range(count):
        widget = at.number_input[i]
        label = widget.proto.label
        if widget.proto.disabled:  # e.g. padding while "same" is ticked: no user can reach it
            continue
        assert widget.proto.has_max, f"{page}: {label!r} accepts any number: give it a maximum"
        for value in _extremes(widget):
            at.number_input[i].set_value(value)
            _timed_run(at, f"{page}: {label} = {value}")
    for i in range(len(at.slider)):
        if at.slider[i].proto.disabled:
            continue
        for value in (at.slider[i].max, at.slider[i].min):
            at.slider[i].set_value(value)
            _timed_run(at, f"{page}: slider {at.slider[i].proto.label} = {value}")
    for i in range(len(at.select_slider)):
        if at.select_slider[i].proto.disabled:
            continue
        for value in (at.select_slider[i].options[-1], at.select_slider[i].options[0]):
            at.select_slider[i].set_value(value)
            _timed_run(at, f"{page}: {at.select_slider[i].proto.label} = {value}")
