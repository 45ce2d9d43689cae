"""The class-code gate app.py runs before any page: with $CNNVIZ_CLASS_CODE set, a session sees nothing of the
app until it has entered the code once (a form: the code travels once, on submit, never in a URL)."""
import time

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from app_pages.shell import server_guards
from cnnviz import access, serverwide

OK, FAILS, LAST = "_class_code_ok", "_class_code_fails", "_class_code_last"


def _gate() -> access.Gate:
    """The server's one Gate: its limit on wrong guesses counts every session together (not a cache: any client
    can clear those, and a fresh Gate would forget every wrong guess)."""
    return serverwide.single("class-code gate", access.Gate)


def locked() -> bool:
    """True while this session still has to enter the class code (never when no code is set)."""
    return access.class_code() is not None and not st.session_state.get(OK)


def _unlock() -> None:
    st.session_state[OK] = True
    ctx = get_script_run_ctx()
    if ctx is not None:  # the server's guards (uploads...) know a session by its id only
        server_guards.unlocked().add(ctx.session_id)


def require_class_code() -> None:
    """Return at once when no code is set or this session entered it; otherwise ask for it and stop the run."""
    expected = access.class_code()
    if expected is None or st.session_state.get(OK):
        return
    server_guards.forget_unknown_widgets()  # a forged widget state must not turn the form into a KeyError
    st.title("🧠 cnnviz")
    with st.form("class_code_form", clear_on_submit=True):
        given = st.text_input("Class code", type="password", help="Your teacher gives it to the class.")
        entered = st.form_submit_button("Enter")
    if entered:
        verdict = _gate().check(given, expected, st.session_state.get(FAILS, 0), st.session_state.get(LAST))
        if verdict.ok:
            _unlock()
            st.rerun()
        if verdict.wrong:
            st.session_state[FAILS] = st.session_state.get(FAILS, 0) + 1
            st.session_state[LAST] = time.monotonic()
        st.error(verdict.message)
    st.stop()
