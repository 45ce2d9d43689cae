"""A page's answer-bearing parts: declared once per page, checked in a step's `hide`, wrapped on the page itself."""
import re
from pathlib import Path

import pytest

from cnnviz import pagestate, reveal

APP = Path(__file__).resolve().parents[1] / "app_pages"


def test_every_lesson_page_declares_its_parts_and_a_default_among_them():
    assert set(reveal.PARTS) == set(reveal.DEFAULT) == set(pagestate.PAGES)
    for page in pagestate.PAGES:
        assert reveal.parts(page) and set(reveal.DEFAULT[page]) <= set(reveal.parts(page)), page
    assert reveal.parts("") == reveal.parts("dimensions")  # the calculator's url path is ""


def test_every_declared_part_is_wrapped_on_its_page_and_nothing_undeclared_is():
    """The declaration and the pages cannot drift: each part's ui.answer("...") call is in that page's files."""
    wrapped = {}
    for path in [*APP.glob("*.py"), *(APP / "parts").glob("*.py")]:  # the pages and their parts, not the shell
        page = path.stem.split("_")[0]  # draw_inside.py is a part of draw.py
        for part in re.findall(r'ui\.answer\("([a-z]+)"', path.read_text()):
            wrapped.setdefault(page, set()).add(part)
    assert wrapped == {page: set(parts) for page, parts in reveal.PARTS.items()}


def test_a_steps_hide_is_checked_against_its_page():
    assert reveal.check("playground", None) == reveal.DEFAULT["playground"]
    assert reveal.check("playground", ["steps", "output", "steps"]) == ("steps", "output")  # once each, in order
    assert reveal.check("draw", []) == ()  # nothing hidden: allowed
    with pytest.raises(ValueError, match=r"'formula' is not a part of this page \(result\)"):
        reveal.check("trainer", ["formula"])
    with pytest.raises(ValueError, match="a list of part names"):
        reveal.check("trainer", "result")
    with pytest.raises(ValueError, match="a list of part names"):
        reveal.check("trainer", [1])
    with pytest.raises(ValueError, match="no page 'kitchen'"):
        reveal.check("kitchen", None)
    with pytest.raises(ValueError) as err:
        reveal.check("draw", ["x" * 5000])
    assert len(str(err.value)) < 200  # a hostile name is not repeated in full


def test_parts_are_hidden_only_on_the_steps_page_and_only_until_reveal():
    hide = ("output", "formula")
    assert reveal.hidden("dimensions", "dimensions", hide, revealed=False) == set(hide)
    assert reveal.hidden("", "dimensions", hide, revealed=False) == set(hide)
    assert reveal.hidden("dimensions", "dimensions", hide, revealed=True) == set()
    assert reveal.hidden("playground", "dimensions", hide, revealed=False) == set()  # another page: all shown
    assert reveal.hidden("dimensions", None, hide, revealed=False) == set()  # no lesson


def test_the_placeholder_says_what_is_hidden_and_how_to_see_it():
    said = reveal.placeholder("trainer", "result")
    assert said == "Predict first, then press Reveal to see the run's result (accuracy, curves, mistakes)."
