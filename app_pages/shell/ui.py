"""Page helpers (not a page): state in the URL and across navigation, presenter mode, charts, the link to share.

The pattern every page follows (the schema lives in cnnviz/pagestate.py, with its widget keys):

    ui.bind("playground", pagestate.playground())   # first thing on the page
    fields.slider(SCHEMA["stride"], "Stride S")     # bounds, key from the schema; the default via session state
    ui.chart(fig, width="stretch")                  # instead of st.plotly_chart: presenter fonts
    with ui.advanced("pg_more"):                    # controls hidden in presenter mode (values still apply)
    if ui.answer("output"):                         # an answer-bearing part (cnnviz.reveal): a lesson step hides it
    ui.sync("playground", schema)                   # last (and at the end of a fragment that moves a value)

`bind` applies a link's values (bad ones dropped with a note), puts back values Streamlit dropped, writes the URL.
"""
from __future__ import annotations

import streamlit as st

from cnnviz import glossary
from cnnviz.figures.presenter import page_css, present
from cnnviz.text import plain
from cnnviz.urlstate import Schema, address, decode, encode

PRESENT = "present"                        # session key of the presenter toggle, and its URL parameter
APP_PARAMS = (PRESENT, "lesson", "step")   # the app's own parameters: every page's URL may carry them
_KEEP = "_ui_keep"                         # widget key -> last value, outliving the widget
_WRITTEN = "_ui_written"                   # page -> the query it last wrote (so a new one is a new link)
_NOTES = "_ui_notes"
_LINK = "_ui_link"                         # this run's place for the address in the "Copy link" popover
HIDDEN = "_lesson_hidden"                  # part -> placeholder: this page's parts a lesson step hides (lesson_ui)


def presenting() -> bool:
    """True in presenter mode (sidebar toggle, or ?present=1 in the link)."""
    return bool(st.session_state.get(PRESENT, False))


def start_presenter_from_url() -> None:
    """app.py, before the sidebar toggle: a link with ?present=1 (or 0) sets the mode once per new link."""
    raw = st.query_params.get(PRESENT)
    if raw is not None and raw != st.session_state.get("_ui_present_seen"):
        st.session_state["_ui_present_seen"] = raw
        st.session_state[PRESENT] = raw in ("1", "true", "on")


def style() -> None:
    """app.py, every run: the presenter stylesheet (bigger text, no band above titles, advanced hidden)."""
    st.html(page_css(presenting()))


def _query() -> dict[str, list[str]]:
    return {name: st.query_params.get_all(name) for name in st.query_params}


def bind(page: str, schema: Schema) -> None:
    """First call on a page: link values in, kept values back, the state out into the URL (see module doc)."""
    st.session_state.pop(_LINK, None)  # a new full run: only its own title's popover may be written to
    query = {k: v for k, v in _query().items() if k not in APP_PARAMS}
    written = st.session_state.get(_WRITTEN, {}).get(page)
    if query and query != {k: [v] for k, v in (written or {}).items()}:  # a link opened, not our own echo
        got = decode(schema, query, known=APP_PARAMS)
        for name, value in got.values.items():
            st.session_state[schema[name].key or name] = value
        st.session_state[_NOTES] = got.notes
    keep = st.session_state.setdefault(_KEEP, {})
    for name, field in schema.items():
        key = field.key or name
        value = st.session_state[key] if key in st.session_state else keep.get(key, field.default)  # (Streamlit
        if value is None:  # drops a widget's value when it was not drawn in some run: `keep` puts it back)
            continue
        # Set on every run, not once: a browser that lost the run that set it (a rerun asked for during it) shows the
        st.session_state[key] = keep[key] = value  # widget's default, a number input's minimum (lr 1e-5, 0.1 epochs)
    if notes := st.session_state.pop(_NOTES, None):
        st.warning("Some settings in this link were ignored: " + "; ".join(map(plain, notes)) + ".", icon="🔗")
    sync(page, schema)


def keep(*keys: str) -> set[str]:
    """Keep widget state that does not go into links (a drawing) across pages; returns the keys put back."""
    shadow, back = st.session_state.setdefault(_KEEP, {}), set()
    for key in keys:
        if key in st.session_state:
            shadow[key] = st.session_state[key]
        elif key in shadow:
            st.session_state[key] = shadow[key]
            back.add(key)
    return back


def apply(schema: Schema, values: dict) -> None:
    """Put typed values (by parameter name, e.g. a lesson step's) into the page's state, kept across pages too."""
    shadow = st.session_state.setdefault(_KEEP, {})
    for name, value in values.items():
        key = schema[name].key or name
        st.session_state[key] = shadow[key] = value


def params(schema: Schema) -> dict[str, str]:
    """The page's current state as query parameters (a value the schema refuses is left out, never raised)."""
    out = {}
    for name, field in schema.items():
        key = field.key or name
        if key in st.session_state:
            try:
                out.update(encode({name: field}, {name: st.session_state[key]}))
            except ValueError:
                pass  # e.g. a stepped pixel beyond a bound: the page shows its own value, the link omits it
    lesson = {name: st.session_state.get(f"_lesson_{name}") for name in ("lesson", "step")}
    return {**out, **({PRESENT: "1"} if presenting() else {}),
            **{name: str(value) for name, value in lesson.items() if value is not None}}


def sync(page: str, schema: Schema) -> None:
    """Write the page's state into the URL and "Copy link" (last on a page, and in a fragment that moved a value)."""
    wanted = params(schema)
    st.session_state.setdefault(_WRITTEN, {})[page] = {k: v for k, v in wanted.items() if k not in APP_PARAMS}
    st.session_state.setdefault(_KEEP, {}).update(
        {f.key or n: st.session_state[f.key or n] for n, f in schema.items() if (f.key or n) in st.session_state})
    if {k: v[-1] for k, v in _query().items()} != wanted:
        st.query_params.from_dict(wanted)
    if (place := st.session_state.get(_LINK)) is not None:  # st.empty: each write replaces the last
        place.code(address(st.context.url or "", wanted), language=None, wrap_lines=True)


def title(text: str, caption: str, page: str, schema: Schema) -> None:
    """The page title, a one-line caption, and the "Copy link" control at the right."""
    left, right = st.columns([5, 1], vertical_alignment="bottom")
    left.title(text)
    with right.popover("🔗 Copy link", width="stretch"):
        st.caption("This link opens exactly this view (copy it with the button at the right):")
        st.session_state[_LINK] = st.empty()  # filled by every sync of this run, the page's last one included
    sync(page, schema)
    st.caption(glossary.plain(caption) if presenting() else caption, help=glossary.help_for(caption))  # words.py


def chart(fig, where=None, **kwargs):
    """st.plotly_chart (into `where`, a column or container); presenting: a copy of the figure, with its fonts."""
    return (where or st).plotly_chart(present(fig) if presenting() else fig, **kwargs)


def answer(part: str, where=None) -> bool:
    """True when the page may draw this answer-bearing part; False, with a placeholder drawn, while hidden."""
    if said := st.session_state.get(HIDDEN, {}).get(part):
        (where or st).info(said, icon="🙈")
    return not said


def advanced(name: str):
    """A container of controls hidden in presenter mode (they still run, so their values keep applying)."""
    return st.container(key=f"adv_{name}")  # keyed adv_*: the presenter stylesheet hides it
