"""Server guards (not a page): what a session that has not entered the class code may ask of the server.

The gate (gate.py) keeps a locked session's *script* from showing anything, but Streamlit answers some requests
without running the script: the upload route stores files for any live session id, the first message
of every run tells the browser the server's script path, install id and versions, and `clear_cache` empties every
cache of the server. Here, once per process:
- the upload route's session check (`runtime.is_active_session`, which nothing else in Streamlit 1.67 calls)
  also refuses sessions that have not entered the code, before the body is read: no memory for visitors;
- the new-session message never carries the script path, install ids or versions (the app needs none of them;
  blank from a session's first run on: the browser reloads when the version it was told changes, and redraws
  the page from nothing when the path or install id does);
- a locked session's `clear_cache` is ignored (what must outlive a clear lives in cnnviz.serverwide anyway).
The very first run of the process starts before app.py can install anything: that one session (normally the
teacher's) keeps getting Streamlit's own messages. Runtime internals, pinned in requirements.txt
(streamlit==1.67.0); tests/test_server_guards.py sends the real messages to a real server.
"""
from __future__ import annotations

from collections.abc import Callable

from streamlit.proto.NewSession_pb2 import NewSession
from streamlit.runtime import Runtime
from streamlit.runtime.app_session import AppSession
from streamlit.runtime.state import get_session_state

from cnnviz import access, serverwide


def unlocked() -> access.UnlockedSessions:
    """The ids of this server's sessions that entered the class code."""
    return serverwide.single("unlocked sessions", access.UnlockedSessions)


def is_locked(session_id: str) -> bool:
    """True while this session has not entered the class code (never when no code is set)."""
    return access.class_code() is not None and session_id not in unlocked()


def blank_server_details(new_session: NewSession) -> None:
    """Take the script's path, the install ids and the versions out of a NewSession message."""
    new_session.main_script_path = ""
    new_session.initialize.user_info.Clear()
    env = new_session.initialize.environment_info
    env.streamlit_version = env.python_version = env.server_os = ""


def forget_unknown_widgets() -> int:
    """Drop this run's widget states that no widget drew (forged, or sent before the form): how many dropped.

    For a locked session only: such a state makes Streamlit's own widgets raise KeyError (filtered_state reads
    every state), so the class-code form would show an exception instead of the form.
    """
    widgets = get_session_state()._state._new_widget_state  # Streamlit 1.67's WStates
    unknown = [wid for wid in list(widgets.states) if wid not in widgets.widget_metadata]
    for wid in unknown:
        widgets.states.pop(wid, None)
    return len(unknown)


def _only_unlocked(is_active: Callable[[str], bool]) -> Callable[[str], bool]:
    def may_upload(session_id: str) -> bool:
        return is_active(session_id) and not is_locked(session_id)
    return may_upload


def _without_details(make: Callable, told: set[str]) -> Callable:
    def new_session_message(session: AppSession, *args, **kwargs):
        msg = make(session, *args, **kwargs)
        if session.id not in told:  # told before the guards: changing its details now reloads or blanks its page
            blank_server_details(msg.new_session)
        return msg
    return new_session_message


def _clear_if_unlocked(clear: Callable[[AppSession], None]) -> Callable[[AppSession], None]:
    def clear_cache(session: AppSession) -> None:
        if not is_locked(session.id):
            clear(session)
    return clear_cache


def _install(runtime: Runtime) -> bool:
    told = {info.session.id for info in runtime._session_mgr.list_sessions()}
    runtime.is_active_session = _only_unlocked(runtime.is_active_session)
    AppSession._create_new_session_message = _without_details(AppSession._create_new_session_message, told)
    AppSession._handle_clear_cache_request = _clear_if_unlocked(AppSession._handle_clear_cache_request)
    return True


def install() -> None:
    """Install the guards once per server process (app.py calls this first thing on every run)."""
    if serving():
        serverwide.single("server guards", lambda: _install(Runtime.instance()))


def serving() -> bool:
    """True under a real `streamlit run` server; False without one and under AppTest (its Runtime is a mock)."""
    return Runtime.exists() and type(Runtime.instance()) is Runtime
