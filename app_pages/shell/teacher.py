"""Who may open the Class page (the class's drawings): with $CNNVIZ_TEACHER_CODE set, a session that entered
it (a form, checked like the class code: constant time, wrong guesses rate-limited across replicas); without
it, only a browser on the server's own computer (loopback, no proxy)."""
import time

import streamlit as st

from cnnviz import access, serverwide, shared

OK, FAILS, LAST = "_teacher_code_ok", "_teacher_code_fails", "_teacher_code_last"


def _gate() -> access.Gate:
    """The server's one teacher-code Gate: its own budget of wrong guesses (a folder of its own), shared by replicas."""
    def make() -> access.Gate:
        folder = shared.folder() / "teacher-code"
        folder.mkdir(exist_ok=True)
        return access.Gate(folder=folder)
    return serverwide.single("teacher-code gate", make)


def allowed() -> bool:
    """True for the teacher: the teacher code entered in this session, or (no code set) the server's own computer."""
    if access.teacher_code() is not None:
        return bool(st.session_state.get(OK))
    return access.is_teacher(st.context.ip_address, list(st.context.headers))


def require() -> None:
    """Return for the teacher; otherwise ask for the teacher code (or say who may see this page) and stop."""
    if allowed():
        return
    expected = access.teacher_code()
    st.title("🏫 Class")
    if expected is None:
        st.warning("The Class page shows the whole class's drawings: it opens only on the computer running cnnviz "
                   f"(or set {access.TEACHER_ENV} and enter it here). Students: draw on **Draw a digit**.")
        st.stop()
    with st.form("teacher_code_form", clear_on_submit=True):
        given = st.text_input("Teacher code", type="password", help=f"The code in {access.TEACHER_ENV}.")
        entered = st.form_submit_button("Open the Class page")
    if entered:
        verdict = _gate().check(given, expected, st.session_state.get(FAILS, 0), st.session_state.get(LAST))
        if verdict.ok:
            st.session_state[OK] = True
            st.rerun()
        if verdict.wrong:
            st.session_state[FAILS] = st.session_state.get(FAILS, 0) + 1
            st.session_state[LAST] = time.monotonic()
        st.error("That is not the teacher code." if verdict.wrong else verdict.message)
    st.stop()
