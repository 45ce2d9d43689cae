"""Every widget bound to a page's declared state shows that state's bounds and options (cnnviz.pagestate): the
pages build them from the schema (app_pages/shell/fields.py), and this checks that no page retyped one."""
from __future__ import annotations

import pytest

from cnnviz import checkpoints, pagestate
from cnnviz.urlstate import Bool, Choice, Float, Int
from tests import pagewalk

PAGE_OF = {"dimensions": "dimensions", "playground": "playground", "trainer": "trainer", "draw": "draw",
           "learn": "learn"}
# bound to a field, but not through a widget with the field's bounds, each for a reason
NOT_WIDGETS = {
    "calc_tab": "st.tabs (checked below by its labels)", "pg_step_tab": "st.tabs (checked below by its labels)",
    "calc_layers": "the layer table's text, written by the page", "pg_custom": "the custom kernel's grid",
    "draw_digit": "rolled by a button", "learn_digit": "rolled by a button",
    "pg_pos_r": "a slider over the output's rows: the link's bound is the largest output",
    "pg_pos_c": "a slider over the output's columns", "pg_ppos_r": "a slider over the pooled rows",
    "pg_ppos_c": "a slider over the pooled columns", "learn_label": "a selectbox over the model's own classes",
}
FORMATTED = {"pg_kernel", "opt", "dataset", "learn_model"}  # shown through a format_func: compared by count and value


def _schema(state: str) -> dict:
    page = state.split(":")[0]
    return pagestate.schema(page, checkpoints.available()) if page in PAGE_OF else {}


def _check(field, widget, kind: str) -> str | None:
    """What differs between a rendered widget and its field (None: they agree)."""
    if isinstance(field, (Int, Float)):
        bounds = (widget.min, widget.max)
        return None if kind in ("number_input", "slider") and bounds == (field.lo, field.hi) else \
            f"{kind} {bounds} != {(field.lo, field.hi)}"
    if isinstance(field, Bool):
        return None if kind in ("toggle", "checkbox") else f"{kind} for a Bool"
    if isinstance(field, Choice):
        shown = list(widget.options)
        if len(shown) != len(field.options):
            return f"{len(shown)} options != {len(field.options)}: {shown[:6]}"
        if widget.key not in FORMATTED and shown != [str(o) for o in field.options]:
            return f"options {shown[:6]} != {[str(o) for o in field.options][:6]}"
        if kind != "select_slider" and field.options[widget.index] != widget.value:
            return f"option {widget.index} is {field.options[widget.index]!r}, the widget says {widget.value!r}"
        return None
    return f"{kind} for a {type(field).__name__}"


@pytest.mark.slow
def test_every_widget_bound_to_a_field_shows_the_fields_bounds_and_options():
    seen, wrong = set(), []
    for state, at in pagewalk.walked():
        schema = _schema(state)
        by_key = {f.key: f for f in schema.values() if f.key}
        for kind in ("number_input", "slider", "select_slider", "selectbox", "radio", "toggle", "checkbox"):
            for widget in getattr(at, kind):
                field = by_key.get(widget.key)
                if field is None or widget.key in NOT_WIDGETS:
                    continue
                seen.add((state.split(":")[0], widget.key))
                if (said := _check(field, widget, kind)) is not None:
                    wrong.append(f"{state}: {widget.key}: {said}")
    assert not wrong, "\n".join(wrong)
    declared = {(page, f.key) for page in PAGE_OF for f in pagestate.schema(page, checkpoints.available()).values()
                if f.key and f.key not in NOT_WIDGETS}
    assert declared - seen == set()  # every bound widget was drawn in some state, so it was checked


@pytest.mark.slow
def test_tabs_bound_to_a_field_are_its_options():
    tabs = {"dimensions": pagestate.CALC_TABS, "playground": pagestate.PG_STEP_TABS}
    for state, at in pagewalk.walked():
        page = state.split(":")[0]
        if page in tabs:
            labels = [t.label for t in at.tabs]
            assert labels[:len(tabs[page])] == list(tabs[page]), state
