"""cnnviz.access and the class-code gate: no code, no app; the code once per session; guesses slowed."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cnnviz import access

APP = Path(__file__).resolve().parents[1] / "app.py"


def test_no_code_set_means_an_open_app():
    assert access.class_code({}) is None and access.class_code({access.ENV: "  "}) is None
    assert access.class_code({access.ENV: " owl-42 "}) == "owl-42"


@pytest.mark.parametrize("given, ok", [("owl-42", True), (" OWL-42 ", True), ("owl-4", False), ("", False),
                                       ("owl-42x", False), ("\udcff", False), (None, False)])
def test_code_matches(given, ok):
    assert access.code_matches(given, "owl-42") is ok
    assert not access.code_matches("", "")  # a blank code never opens anything


def test_a_session_waits_longer_after_each_wrong_guess():
    assert [access.session_wait(n) for n in (0, 4, 5, 6, 7, 30)] == [0, 0, 2, 4, 8, access.MAX_WAIT_S]
    now = [100.0]
    gate = access.Gate(clock=lambda: now[0])
    assert "wait 2 s" in gate.check("owl-42", "owl-42", 5, last_failure=99.5).message  # even the right code
    now[0] = 102.0
    assert gate.check("owl-42", "owl-42", 5, last_failure=99.5).ok


def test_the_server_stops_judging_after_too_many_wrong_guesses_from_everyone():
    now = [0.0]
    gate = access.Gate(server_limit=3, window_s=60, clock=lambda: now[0])
    for _ in range(3):  # three "new tabs", one wrong guess each
        assert gate.check("x", "owl-42", 0, None).wrong
    assert "on this server" in gate.check("owl-42", "owl-42", 0, None).message  # no more guesses judged now
    now[0] = 61.0
    assert gate.check("owl-42", "owl-42", 0, None).ok


def _app(monkeypatch, code: str | None) -> AppTest:
    if code is None:
        monkeypatch.delenv(access.ENV, raising=False)
    else:
        monkeypatch.setenv(access.ENV, code)
    return AppTest.from_file(str(APP), default_timeout=60).run()


def _enter(at: AppTest, code: str) -> AppTest:
    at.text_input[0].input(code)
    return at.button[0].click().run()


def test_every_page_is_gated_until_the_code_is_entered_once(monkeypatch):
    at = _app(monkeypatch, "owl-42")
    assert not at.exception
    assert [t.label for t in at.text_input] == ["Class code"] and at.text_input[0].proto.type == 1  # password
    assert not at.sidebar.caption and [t.value for t in at.title] == ["🧠 cnnviz"]  # nothing of the app
    _enter(at, "owl")
    assert "not the class code" in at.error[0].value and not at.sidebar.caption
    assert "owl" not in str(at.query_params)
    _enter(at, "OWL-42")
    assert not at.exception and not at.error and at.sidebar.caption  # the app, with its sidebar
    assert "Class code" not in [t.label for t in at.text_input]
    at.run()  # the next rerun of this session asks no more
    assert "Class code" not in [t.label for t in at.text_input] and at.sidebar.caption


def test_without_a_code_the_app_opens_directly(monkeypatch):
    at = _app(monkeypatch, None)
    assert not at.exception and at.sidebar.caption and "Class code" not in [t.label for t in at.text_input]


def test_visitors_never_see_tracebacks_with_server_paths():
    import tomllib
    config = tomllib.loads((APP.parent / ".streamlit" / "config.toml").read_text())
    assert config["client"]["showErrorDetails"] in ("type", "none")


def test_two_server_processes_share_one_budget_of_wrong_guesses(tmp_path, monkeypatch):
    """#24 item 7: replicas behind one proxy are separate processes; each had its own budget (3 replicas,
    3 times the guesses). Another process spends the budget; this one then judges no guess either."""
    import os
    import subprocess
    import sys
    monkeypatch.setenv("CNNVIZ_SHARED", str(tmp_path))
    spend = ("from cnnviz import access\n"
             "gate = access.Gate(server_limit=3)\n"
             "print([gate.check('x', 'owl-42', 0, None).wrong for _ in range(4)])\n")
    out = subprocess.run([sys.executable, "-c", spend], capture_output=True, text=True, check=True,
                         cwd=APP.parent, env={**os.environ, "CNNVIZ_SHARED": str(tmp_path)}).stdout
    assert out.strip() == "[True, True, True, False]"  # the 4th is not even judged
    here = access.Gate(server_limit=3)
    assert "on this server" in here.check("owl-42", "owl-42", 0, None).message  # not judged here either
    assert access.Gate(server_limit=4).check("owl-42", "owl-42", 0, None).ok    # a budget is a budget of wrong ones
