"""app_pages/shell/rerun_guard.py: after a full run cut short, the widgets' values are sent to the browser again.

The race itself needs a browser and a loaded machine (bench/lesson_links.py counts lesson links that lost their
step); here, under AppTest, a run that stops before `end()` stands for one cut short by a rerun request.
"""
import pytest
from conftest import ROOT
from streamlit.testing.v1 import AppTest

from cnnviz import pagestate

SCRIPT = """
import streamlit as st
from app_pages.shell import rerun_guard

rerun_guard.begin()
st.session_state.setdefault("k", 5)
st.caption("resent:" + ",".join(rerun_guard.resend(["k", "absent"])))
st.number_input("Kernel", 1, 9, key="k")
if st.session_state.get("cut"):
    st.stop()  # the run ends before end(): as when a rerun request cuts it short
rerun_guard.end()
"""


def _resent(at: AppTest) -> str:
    return at.caption[0].value.removeprefix("resent:")


def test_values_are_resent_only_after_a_run_that_did_not_finish(tmp_path):
    script = tmp_path / "app.py"
    script.write_text(SCRIPT)
    at = AppTest.from_file(str(script), default_timeout=30)
    at.run()
    assert _resent(at) == ""  # the first run follows none
    at.run()
    assert _resent(at) == ""  # a finished run: nothing to resend
    at.session_state["cut"] = True
    at.run()  # this one stops before end()
    at.session_state["cut"] = False
    at.number_input(key="k").set_value(7).run()
    assert _resent(at) == "k"  # only the keys that exist, with the user's value kept
    assert at.number_input(key="k").value == 7
    at.run()
    assert _resent(at) == ""


def test_widget_keys_are_the_schemas_keys():
    assert pagestate.widget_keys("") == pagestate.widget_keys("dimensions")
    assert "calc_w" in pagestate.widget_keys("dimensions")
    schema = pagestate.schema("playground")
    assert pagestate.widget_keys("playground") == [f.key or n for n, f in schema.items()]
    assert pagestate.widget_keys("class") == []


@pytest.mark.parametrize("page", pagestate.PAGES)
def test_every_page_after_a_cut_short_run_shows_its_values_and_no_warning(page):
    """The whole app: a run that did not finish, then the next: each of the page's values is resent unchanged,
    with no exception and no Streamlit warning ("created with a default value but also had its value set")."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90).run()
    if page != "dimensions":
        at.switch_page(f"app_pages/{page}.py").run()
    before = {key: at.session_state[key] for key in pagestate.widget_keys(page) if key in at.session_state}
    at.session_state["_rerun_guard_open"] = True  # as a run cut short leaves it
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not [w.value for w in at.warning if "Session State" in str(w.value)]
    assert {key: at.session_state[key] for key in before} == before
    assert at.session_state["_rerun_guard_open"] is False  # this run finished
