"""Widgets built from their page's declared state (not a page): bounds, options and key come from the schema
field (cnnviz.pagestate / cnnviz.urlstate), never retyped, and the tooltip explains the label's jargon.

    fields.number(SCHEMA["k"], "Kernel K", where=c[1])          # st.number_input("Kernel K", 1, 512, key="calc_k")
    fields.select(SCHEMA["pool"], "Pooling")                     # options = the field's options
    fields.select(SCHEMA["net"], "Network", options=[CALC, *SCHEMA["net"].options])  # a page's extra option

No default value is passed: it comes from the schema through st.session_state (app_pages/shell/ui.bind). The
label goes plain in presenter mode, and the tooltip is the widget's own `help` followed by a line for each
glossary term its label or options use (app_pages/shell/words.py). tests/test_page_fields.py checks that every
rendered widget bound to a field shows the field's bounds and options.
"""
from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from app_pages.shell import words
from cnnviz.urlstate import Bool, Choice, Field, Float, Int


def _tip(label: str, help: str | None, options: Sequence = (), shown=str) -> str | None:
    return words.tip(label, *(str(shown(o)) for o in options), own=help)


def _bounds(field: Field) -> tuple:
    if not isinstance(field, (Int, Float)):
        raise TypeError(f"{field.key}: a number widget needs an Int or Float field, not {type(field).__name__}")
    return field.lo, field.hi


def _options(field: Field, options: Sequence | None) -> list:
    if not isinstance(field, Choice):
        raise TypeError(f"{field.key}: a choice widget needs a Choice field, not {type(field).__name__}")
    return list(field.options if options is None else options)


def number(field: Field, label: str, where=None, help: str | None = None, **kwargs):
    """st.number_input between the field's bounds, under its key."""
    lo, hi = _bounds(field)
    return (where or st).number_input(words.say(label), lo, hi, key=field.key, help=_tip(label, help), **kwargs)


def slider(field: Field, label: str, where=None, help: str | None = None, **kwargs):
    """st.slider between the field's bounds, under its key."""
    lo, hi = _bounds(field)
    return (where or st).slider(words.say(label), lo, hi, key=field.key, help=_tip(label, help), **kwargs)


def _choice(widget: str, field: Field, label: str, where, help: str | None, options: Sequence | None, kwargs: dict):
    shown = _options(field, options)
    tip = _tip(label, help, shown, kwargs.get("format_func") or str)
    return getattr(where or st, widget)(words.say(label), shown, key=field.key, help=tip, **kwargs)


def select(field: Field, label: str, where=None, help: str | None = None, options: Sequence | None = None, **kwargs):
    """st.selectbox of the field's options (or `options`, a page's own superset), under its key."""
    return _choice("selectbox", field, label, where, help, options, kwargs)


def radio(field: Field, label: str, where=None, help: str | None = None, options: Sequence | None = None, **kwargs):
    """st.radio of the field's options, under its key."""
    return _choice("radio", field, label, where, help, options, kwargs)


def select_slider(field: Field, label: str, where=None, help: str | None = None, **kwargs):
    """st.select_slider over the field's options, under its key."""
    return _choice("select_slider", field, label, where, help, None, kwargs)


def toggle(field: Field, label: str, where=None, help: str | None = None, **kwargs) -> bool:
    """st.toggle under the field's key."""
    if not isinstance(field, Bool):
        raise TypeError(f"{field.key}: a toggle needs a Bool field, not {type(field).__name__}")
    return (where or st).toggle(words.say(label), key=field.key, help=_tip(label, help), **kwargs)
