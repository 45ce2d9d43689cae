"""Resend, after a full run that did not finish, the widget values the code had set (a Streamlit 1.67 race).

When a rerun request arrives while a run is still going (the window-width report on a page's first run, a click
during a slow run), Streamlit stops that run and starts the next at once, and the browser drops the rest of the old
run's messages. A value the old run set in code (`st.session_state[key] = ...`: a lesson step's settings, a link's,
the lesson picker) for a widget it had already drawn is then known to the server only: the next run draws that
widget without its value (the server thinks the browser has it), the browser shows the widget's default (Kernel 1,
lesson "(none)") and sends that default back with the next click, as if the user had chosen it. Seen as a lesson
step losing its ?lesson= link and its bar under load (server log: the lesson picker's on_change fired with
"(none)" and the calculator's sizes came back as 1).

app.py calls `begin()` first and `end()` last in every full run, and `resend(keys)` (the page's linkable widgets
and the lesson picker) before any of them is drawn: after a run that did not reach `end()`, assigning each value to
itself marks it as set in code in this run, so Streamlit sends it to the browser with the widget. A finished run,
or a fragment's, changes nothing.
"""
import streamlit as st

_OPEN = "_rerun_guard_open"      # True from begin() until end(): still True next time = that run was cut short
_AGAIN = "_rerun_guard_again"    # this run follows one that was cut short: resend the values


def begin() -> None:
    """app.py, first: remember whether the last full run finished."""
    st.session_state[_AGAIN] = bool(st.session_state.get(_OPEN, False))
    st.session_state[_OPEN] = True


def end() -> None:
    """app.py, last: this full run finished."""
    st.session_state[_OPEN] = False


def resend(keys) -> list[str]:
    """Before the widgets with these keys are drawn: after a cut-short run, send their values again; the keys."""
    if not st.session_state.get(_AGAIN):
        return []
    again = [key for key in keys if key in st.session_state]
    for key in again:
        st.session_state[key] = st.session_state[key]
    return again
