"""A real classroom server (class code set) spoken to as any client can: Streamlit's websocket messages and the
upload route, sent by hand. What a session that has not entered the code can do, and what survives a
`clear_cache` message (any client can send one: it empties every st.cache_* of the server)."""
from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
import requests
import streamlit as st
from conftest import open_page, serve, wait_idle
from playwright.sync_api import expect
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.sync.client import connect

from app_pages.parts import runqueue
from app_pages.shell import cached, gate, server_guards
from cnnviz import access

CODE = "owl-42"
EARLY = ForwardMsg.ScriptFinishedStatus.FINISHED_EARLY_FOR_RERUN
pytestmark = pytest.mark.slow  # real processes: servers, spawned workers


class Client:
    """One browser tab's Streamlit session, without the browser: BackMsgs out, ForwardMsgs in."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._connection = connect(url.replace("http", "ws", 1) + "/_stcore/stream", max_size=2**26)
        self.ws = self._connection.__enter__()
        self.new_session: ForwardMsg | None = None
        self.elements: list = []

    def send(self, msg: BackMsg) -> list[ForwardMsg]:
        """Send one message; for a rerun, every ForwardMsg until the run (and any st.rerun after it) ends."""
        self.ws.send(msg.SerializeToString())
        if msg.WhichOneof("type") != "rerun_script":
            return []
        got = []
        while True:
            fwd = ForwardMsg()
            fwd.ParseFromString(self.ws.recv(timeout=120))
            got.append(fwd)
            if fwd.WhichOneof("type") == "new_session":
                self.new_session, self.elements = fwd.new_session, []
            elif fwd.WhichOneof("type") == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                self.elements.append(fwd.delta.new_element)
            elif fwd.WhichOneof("type") == "script_finished" and fwd.script_finished != EARLY:
                return got

    def rerun(self, widgets: dict | None = None) -> list:
        """A rerun of the main page with these widget states {id: value}; returns the elements it drew."""
        msg = BackMsg()
        msg.rerun_script.query_string = ""
        for wid, value in (widgets or {}).items():
            state = msg.rerun_script.widget_states.widgets.add(id=wid)
            if isinstance(value, bool):
                state.trigger_value = value
            else:
                state.string_value = value
        self.send(msg)
        return self.elements

    def clear_cache(self) -> None:
        """What Streamlit's 'Clear caches' menu sends (no class code needed to send it)."""
        msg = BackMsg()
        msg.clear_cache = True
        self.send(msg)

    def kinds(self) -> list[str]:
        return [e.WhichOneof("type") for e in self.elements]

    def texts(self) -> str:
        return " ".join(str(getattr(e, e.WhichOneof("type"))) for e in self.elements)

    def enter(self, code: str) -> str:
        """Type `code` into the class-code form and press Enter; the error shown ('' when none)."""
        field = next(e.text_input.id for e in self.elements if e.WhichOneof("type") == "text_input")
        button = next(e.button.id for e in self.elements if e.WhichOneof("type") == "button")
        self.rerun({field: code, button: True})
        return " ".join(e.alert.body for e in self.elements
                        if e.WhichOneof("type") == "alert" and e.alert.format == e.alert.ERROR)

    @property
    def session_id(self) -> str:
        return self.new_session.initialize.session_id

    def put(self, name: str = "photo.png", size: int = 100_000) -> int:
        """PUT one file to this session's upload route as the browser does (XSRF cookie + header)."""
        http = requests.Session()
        http.get(self.url + "/_stcore/health", timeout=30)  # sets the XSRF cookie, as for the browser
        token = http.cookies.get("_streamlit_xsrf", "")
        r = http.put(f"{self.url}/_stcore/upload_file/{self.session_id}/file-1", headers={"X-Xsrftoken": token},
                     files={"file": (name, bytes(size), "image/png")}, timeout=60)
        return r.status_code

    def close(self) -> None:
        self._connection.__exit__(None, None, None)


@pytest.fixture(scope="module")
def locked_url(tmp_path_factory):
    """The app with a class code, on its own server (a real `streamlit run app.py`)."""
    with serve(tmp_path_factory.mktemp("locked"), {access.ENV: CODE}) as url:
        first = Client(url)  # the server's first session (app.py installs its guards in that first run)
        first.rerun()
        first.close()
        yield url


@pytest.fixture
def client(locked_url):
    c = Client(locked_url)
    c.rerun()
    yield c
    c.close()


def test_a_locked_session_is_told_nothing_of_the_server(client):
    init = client.new_session.initialize
    assert client.kinds() == ["heading", "text_input", "button"]  # the class-code form, nothing else
    assert client.new_session.main_script_path == ""
    assert not (init.user_info.installation_id or init.user_info.installation_id_v3
                or init.user_info.installation_id_v4)
    env = init.environment_info
    assert not (env.streamlit_version or env.python_version or env.server_os)


def test_a_locked_session_cannot_upload_and_an_unlocked_one_can(client, locked_url):
    assert client.put() >= 400  # before the code: refused
    assert client.put(size=19_000_000) >= 400
    assert client.enter(CODE) == ""
    assert "text_input" not in client.kinds()  # the app itself
    assert client.put() == 204
    assert client.new_session.main_script_path == ""  # not after the code either: the app never needs it


def test_forged_widget_states_from_a_locked_session_show_the_form_not_an_error(client):
    client.rerun({"draw_model": "tutorial_a", gate.OK: True, "trainer_ticket": "x", "$$ID-forged-key": "y"})
    assert client.kinds() == ["heading", "text_input", "button"], client.texts()
    assert "exception" not in client.kinds()
    assert "That is not the class code" in client.enter("owl")  # the form still works


@pytest.mark.browser
def test_in_chromium_the_code_opens_the_app_and_its_uploads(locked_url, page):
    """The blanked details and the upload guard leave the real frontend working: same page, no reload."""
    from test_browser_playground import _png

    open_page(page, locked_url, "playground")
    page.evaluate("window.cnnvizSamePage = true")  # gone if the browser reloads the page
    page.get_by_label("Class code", exact=True).fill(CODE)
    page.get_by_role("button", name="Enter").click()
    wait_idle(page)
    sidebar = page.locator("[data-testid='stSidebar']")
    expect(sidebar.get_by_text("Only this computer can open this app.")).to_be_visible()  # served on 127.0.0.1
    sidebar.get_by_text("Upload", exact=True).click()
    wait_idle(page)
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(
        files=[{"name": "big.png", "mimeType": "image/png", "buffer": _png(1200, 800)}])
    wait_idle(page)
    expect(sidebar.get_by_text("Downscaled from 1200x800 to 512x341")).to_be_visible()  # the server got the file
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.evaluate("window.cnnvizSamePage === true")


def test_the_server_wide_guess_limit_holds_after_a_client_clears_the_caches(locked_url):
    teacher = Client(locked_url)
    teacher.rerun()
    assert teacher.enter(CODE) == ""
    guessers, judged, start = [], 0, time.monotonic()
    try:
        while len(guessers) < 10:  # new tabs, 5 free wrong guesses each, until the server stops judging
            tab = Client(locked_url)
            guessers.append(tab)
            tab.rerun()
            said = [tab.enter("wrong") for _ in range(access.FREE_TRIES)]
            judged += sum("not the class code" in s for s in said)
            if "on this server" in said[-1]:
                break
        assert judged <= 30 and "on this server" in said[-1], (judged, said)
        late = Client(locked_url)
        guessers.append(late)
        late.rerun()
        assert "on this server" in late.enter(CODE)  # the limit: even the right code is not judged now
        teacher.clear_cache()
        teacher.rerun()
        assert "text_input" in teacher.kinds()  # the clear really happened (it also empties that session's state)
        if time.monotonic() - start > 50:
            pytest.skip("this machine took most of the limit's minute to send the guesses")
        assert "on this server" in late.enter(CODE)  # the limit still counts every wrong guess
    finally:
        for tab in [teacher, *guessers]:
            tab.close()


def test_process_wide_state_is_not_in_a_cache_a_client_can_clear():
    before = gate._gate(), runqueue.run_queue(), cached.downloader()
    st.cache_resource.clear()
    st.cache_data.clear()
    after = gate._gate(), runqueue.run_queue(), cached.downloader()
    assert all(a is b for a, b in zip(before, after))


def test_a_locked_session_cannot_clear_the_caches(monkeypatch):
    cleared = []
    clear = server_guards._clear_if_unlocked(lambda session: cleared.append(session.id))
    monkeypatch.setenv(access.ENV, CODE)
    server_guards.unlocked().add("entered")
    clear(SimpleNamespace(id="entered"))
    clear(SimpleNamespace(id="visitor"))
    assert cleared == ["entered"]
    monkeypatch.delenv(access.ENV)  # no class code: nobody is locked
    clear(SimpleNamespace(id="visitor"))
    assert cleared == ["entered", "visitor"]


def test_a_page_told_the_details_before_the_guards_keeps_them():
    def make(session):
        msg = ForwardMsg()
        msg.new_session.main_script_path = "/home/teacher/cnnviz/app.py"
        msg.new_session.initialize.environment_info.streamlit_version = "1.67.0"
        return msg

    make_message = server_guards._without_details(make, told={"first"})
    first, later = make_message(SimpleNamespace(id="first")), make_message(SimpleNamespace(id="later"))
    assert later.new_session.main_script_path == ""
    assert later.new_session.initialize.environment_info.streamlit_version == ""
    assert first.new_session == make(None).new_session  # a change would reload its page (version) or blank it (path)
