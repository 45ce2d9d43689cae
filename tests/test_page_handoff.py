"""Hand-offs between pages (app_pages/shell/handoff.py) under AppTest: what one page gives, the next one takes,
once; and no page reaches into another page's hand-off keys any more."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cnnviz.arch import PRESETS

ROOT = Path(__file__).resolve().parents[1]
CALC = "the network from the calculator"
KEYS = ("train_spec", "train_spec_fresh", "train_dataset_fresh", "ds_select", "active_checkpoint", "_wall_handed",
        "_wall_shown")


@pytest.fixture(autouse=True)
def user_dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNVIZ_USER_CHECKPOINTS", str(tmp_path / "ckpt"))
    monkeypatch.setenv("CNNVIZ_USER_DATA", str(tmp_path / "data"))


@pytest.mark.slow
def test_train_this_network_selects_the_calculators_network_on_the_trainer_once(data_root):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)  # the whole app: the page switches itself
    at.switch_page("app_pages/trainer.py").run()  # the trainer first: its network is already chosen
    assert at.selectbox(key="net").value == "tutorial_a"
    at.switch_page("app_pages/dimensions.py").run()
    at.selectbox(key="calc_net").select("keras_small").run()
    next(b for b in at.button if "Train this network" in b.label).click().run()
    assert not at.exception
    net = at.selectbox(key="net")  # on the trainer now, with the calculator's network selected
    assert net.value == CALC and net.options[0] == CALC
    assert at.session_state["train_spec"] == PRESETS["keras_small"].to_json()
    net.set_value("tutorial_a")
    at.switch_page("app_pages/trainer.py").run()  # (AppTest runs the page it was last told to)
    assert at.selectbox(key="net").value == "tutorial_a"  # taken once: a later run keeps the visitor's choice
    assert CALC in at.selectbox(key="net").options         # still offered


def test_only_the_handoff_module_names_the_handoff_keys():
    """A page that wrote st.session_state["train_spec"] itself would bypass the hand-off (and its docstring)."""
    keys = "|".join(KEYS)
    pattern = re.compile(r"""session_state(?:\[|\.get\(|\.pop\(|\.update\()\s*["'](""" + keys + r""")["']""")
    stray = [f"{p.relative_to(ROOT)}:{i}" for p in (ROOT / "app_pages").rglob("*.py") if p.name != "handoff.py"
             for i, line in enumerate(p.read_text().splitlines(), 1)
             if pattern.search(line) or re.search(r"update\((?:" + keys + ")=", line)]
    assert not stray
