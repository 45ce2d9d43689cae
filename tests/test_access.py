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


@pytest.mark.parametrize("address, code_set, says", [
    (None, False, "Anyone on this network can open this app: set CNNVIZ_CLASS_CODE to lock it"),
    ("", False, "Anyone on this network"), ("0.0.0.0", False, "Anyone on this network"),
    ("::", False, "set CNNVIZ_CLASS_CODE"),
    (None, True, "Anyone on this network can open this app, with the class code."),
    ("192.168.1.20", False, "Anyone who can reach 192.168.1.20 can open this app: set CNNVIZ_CLASS_CODE"),
    ("127.0.0.1", False, "Only this computer"), ("127.0.1.1", True, "Only this computer"),
    ("localhost", False, "Only this computer"), ("::1", False, "Only this computer"),
    ("[::1]", False, "Only this computer")])
def test_who_can_reach_the_server(address, code_set, says):
    said = access.who_can_reach(address, code_set)
    assert says in said
    assert ("--server.address 127.0.0.1" in said) is ("set CNNVIZ_CLASS_CODE" in said)  # how to close it too


@pytest.mark.parametrize("code", [None, "owl-42"])
def test_the_sidebar_says_who_can_reach_the_server(monkeypatch, code):
    at = _app(monkeypatch, code)
    if code:
        _enter(at, code)
    reach = [c.value for c in at.sidebar.caption if "can open this app" in c.value]
    assert reach == [f"🌐 {access.who_can_reach(None, code is not None)}"]  # AppTest: server.address unset


def test_unlocked_sessions_are_remembered_by_id_until_they_end():
    sessions = access.UnlockedSessions()
    sessions.add("a")
    sessions.add("b")
    assert "a" in sessions and "c" not in sessions and None not in sessions
    assert sessions.keep_only(["b", "c"]) == 1
    assert "a" not in sessions and "b" in sessions


@pytest.mark.parametrize("ip, headers, teacher", [
    (None, ["Host", "User-Agent"], True),                 # Streamlit's ip_address for 127.0.0.1 and ::1
    ("127.0.0.2", ["host"], True), ("::1", ["host"], True), ("::ffff:127.0.0.1", ["host"], True),
    ("192.168.1.20", ["host"], False), ("10.0.0.5", ["host"], False), ("2001:db8::1", ["host"], False),
    ("not an address", ["host"], False),
    (None, [], False),                                    # no browser connection at all (AppTest)
    (None, ["Host", "X-Forwarded-For"], False),           # a proxy on this computer relays students
    (None, ["host", "X-Real-IP"], False), (None, ["host", "Forwarded"], False),
])
def test_the_teacher_is_the_browser_on_the_servers_own_computer(ip, headers, teacher):
    assert access.is_teacher(ip, headers) is teacher


def test_two_server_processes_share_one_budget_of_wrong_guesses(tmp_path, monkeypatch):
    """Replicas behind one proxy are separate processes; each had its own budget (3 replicas,
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


def test_the_teacher_code_is_read_like_the_class_code():
    assert access.teacher_code({}) is None and access.teacher_code({"CNNVIZ_TEACHER_CODE": "  "}) is None
    assert access.teacher_code({"CNNVIZ_TEACHER_CODE": " owl-42 "}) == "owl-42"
    assert access.teacher_code({"CNNVIZ_CLASS_CODE": "owl-42"}) is None  # the class code opens no Class page
