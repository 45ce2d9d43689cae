"""Draw page section (not a page): the class wall's side of Draw.

A student's latest drawing (28x28, the first model's answer) goes to the class wall while the teacher's Class
page collects, with an optional nickname; the teacher's own browser never sends. The other way, a thumbnail
the teacher clicks on the wall is handed to Draw's canvas (`show_on_draw`) for the class to discuss.
"""
import hashlib
import io
from pathlib import Path

import streamlit as st
from PIL import Image

from app_pages.shell import handoff, teacher, ui
from cnnviz import checkpoints, classwall, pagestate, preprocess, probe
from cnnviz.figures.inline import data_uri
from cnnviz.text import plain

SESSION, SENT = "_wall_session", "_wall_sent"


def _wall() -> Path:
    return classwall.folder()


def nickname() -> str | None:
    """While the wall collects (and for a student): the optional nickname box; None when nothing is sent."""
    if teacher.allowed() or not classwall.collecting(_wall())[0]:
        return None
    return st.text_input("Your name on the class wall (optional)", max_chars=classwall.MAX_NAME, key="wall_name",
                         placeholder="or stay “student N”")


def send(name: str | None, prepared: preprocess.Prepared, look: probe.Look) -> None:
    """Put this drawing on the wall (once per new drawing or name); a full wall or a bad name says so."""
    if name is None:
        return
    verdict = look.inspection.verdict
    digest = hashlib.sha1(prepared.pixels.tobytes() + name.encode("utf-8", "replace")).hexdigest()
    if st.session_state.get(SENT) == digest:
        return
    session = st.session_state.get(SESSION) or st.session_state.setdefault(SESSION, classwall.new_session())
    try:
        ok = classwall.submit(_wall(), session, prepared.pixels, verdict.label, verdict.confidence,
                              verdict.note is not None, name)
    except ValueError as err:
        st.error(plain(err))
        return
    st.session_state[SENT] = digest
    st.caption("📺 On the class wall." if ok else "The class wall is full or closed: your drawing stays here.")


def show_on_draw(drawing: classwall.Drawing, who: str) -> None:
    """Hand one wall drawing to Draw's canvas (as a drawing the class can go on drawing over) and go there."""
    raw = classwall.canvas_drawing(drawing.pixels)
    out = io.BytesIO()
    Image.fromarray(classwall.render(raw), mode="RGBA").save(out, format="PNG")
    handoff.drawing_to_draw({"drawing": {"raw": raw, "data": data_uri(out.getvalue())}, "backgroundFit": None}, who)
    ui.apply(pagestate.draw(checkpoints.available()), {"src": pagestate.DRAW_SOURCES[0]})  # the canvas, not MNIST
    st.switch_page("app_pages/draw.py")


def take_over() -> None:
    """Draw, before its canvas: a drawing handed over from the wall becomes the canvas's drawing."""
    if state := handoff.take_drawing():
        st.session_state[handoff.CANVAS] = state
        st.session_state["draw_initial"] = state["drawing"]["raw"]


def shown_caption() -> None:
    """On the teacher's Draw: whose wall drawing the canvas holds, until someone draws on it."""
    shown = handoff.shown_from_wall()
    if not shown:
        return
    who, objects = shown
    canvas = handoff.pending_drawing() or st.session_state.get(handoff.CANVAS) or {}  # handed: not on the canvas yet
    drawn = (canvas.get("drawing") or {}).get("raw") or {}
    if len(drawn.get("objects") or []) != objects:  # a stroke more (or the canvas cleared): no longer theirs
        handoff.forget_shown()
        return
    st.caption(f"📺 From the class wall: **{plain(who)}**")
