"""Plain words on the page (not a page): each glossary term a text uses is explained where it appears, and
presenter mode shows the plain wording (cnnviz.glossary).

    words.caption("1.2 M MACs per image")          # the caption, with a tooltip explaining MACs
    words.metric("MACs per image", f"{n:,}", where=c[1], help="...")   # own help first, then the terms
    words.say("MACs per image")                    # presenting: "multiply-adds per image"
    words.tip("Stride S", own="...")               # the tooltip text alone (fields.py builds widgets with it)

Code and arithmetic lines (st.code, st.latex) keep their symbols: only labels, captions and markdown go plain.
"""
from __future__ import annotations

import streamlit as st

from app_pages.shell import ui
from cnnviz import glossary


def tip(*texts: str, own: str | None = None) -> str | None:
    """The tooltip of an element showing `texts`: its own help first, then a line for every term not yet in it."""
    terms = glossary.find("\n".join(t for t in texts if t))
    lines = [f"**{t.name}**: {t.sentence}" for t in terms if t.sentence not in (own or "")]
    return "\n\n".join(([own] if own else []) + lines) or None


def say(text: str) -> str:
    """`text` as the page shows it: in presenter mode, each term that has a plain wording swapped for it."""
    return glossary.plain(text) if ui.presenting() else text


def caption(text: str, where=None, help: str | None = None, arithmetic: bool = False) -> None:
    """st.caption with the terms it uses explained in its tooltip (and plain words when presenting, unless it is
    `arithmetic`: "lr = 0.01" keeps its symbols)."""
    (where or st).caption(text if arithmetic else say(text), help=tip(text, own=help))


def markdown(text: str, where=None, help: str | None = None, arithmetic: bool = False) -> None:
    """st.markdown with the terms it uses explained in its tooltip (and plain words when presenting, unless it is
    `arithmetic`)."""
    (where or st).markdown(text if arithmetic else say(text), help=tip(text, own=help))


def metric(label: str, value, where=None, help: str | None = None, **kwargs) -> None:
    """st.metric whose label's terms are explained in its tooltip (and read plain when presenting)."""
    (where or st).metric(say(label), value, help=tip(label, own=help), **kwargs)


def button(label: str, where=None, help: str | None = None, arithmetic: bool = False, **kwargs) -> bool:
    """st.button whose label's terms are explained in its tooltip (and read plain when presenting, unless the label
    is a recipe's numbers: `arithmetic`)."""
    return (where or st).button(label if arithmetic else say(label), help=tip(label, own=help), **kwargs)
