"""AppTest: the trainer page starts a short run, shows progress and results, saves a checkpoint."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from torchvision import datasets as tvd

from cnnviz import checkpoints

PAGE = Path(__file__).resolve().parents[1] / "app_pages" / "trainer.py"


@pytest.fixture(autouse=True)
def user_dir(tmp_path, monkeypatch, data_root):
    monkeypatch.setenv("CNNVIZ_USER_CHECKPOINTS", str(tmp_path / "user"))
    return tmp_path / "user"


def _app() -> AppTest:
    at = AppTest.from_file(str(PAGE), default_timeout=60)
    at.run()
    assert not at.exception
    return at


def _wait_done(at: AppTest, timeout: float = 90) -> None:
    deadline = time.time() + timeout
    runner = at.session_state["trainer_runner"]
    while runner.snapshot().state == "running" and time.time() < deadline:
        time.sleep(0.2)
    at.run()
    assert not at.exception


def test_a_short_run_shows_progress_results_and_saves(user_dir):
    at = _app()
    assert at.selectbox(key="net").value == "tutorial_a"
    at.number_input(key="max_batches").set_value(30)
    at.button(key="start").click().run()
    assert not at.exception
    assert at.button(key="stop").disabled is False and at.button(key="start").disabled is True
    at.run()  # a poll while (or just after) it runs
    assert at.get("progress"), "a progress bar is shown"
    _wait_done(at)
    assert "batch 30/30" in at.get("progress")[0].proto.text
    assert at.metric[0].label == "Test accuracy" and at.metric[0].value.endswith("%")
    assert "Test Accuracy of 0:" in at.code[0].value
    assert len(at.get("plotly_chart")) >= 3  # curves, confusion, gallery/filters
    at.button(key="save").click().run()
    assert not at.exception and at.success
    name = at.session_state["active_checkpoint"]
    assert name.startswith("tutorial_a-seed0") and name in checkpoints.available()
    assert (user_dir / name / "card.json").is_file()


def test_stop_button_stops_the_run():
    at = _app()
    at.selectbox(key="net").set_value("tutorial_b")  # ~1 minute of training: Stop comes long before the end
    at.button(key="start").click().run()
    runner = at.session_state["trainer_runner"]
    deadline = time.time() + 60
    while not runner.snapshot().history and time.time() < deadline:
        time.sleep(0.1)
    at.button(key="stop").click().run()
    assert not at.exception and not runner.running
    assert runner.snapshot().state == "stopped" and "stopped by you" in at.warning[0].value


def test_the_calculators_network_is_offered():
    at = AppTest.from_file(str(PAGE), default_timeout=60)
    at.session_state["train_spec"] = {"input_shape": [1, 28, 28], "layers": [
        {"type": "flatten"}, {"type": "linear", "out_features": 10}]}
    at.run()
    assert not at.exception and at.selectbox(key="net").value == "the network from the calculator"


def test_a_network_without_ten_outputs_is_explained_not_crashed():
    at = AppTest.from_file(str(PAGE), default_timeout=60)
    at.session_state["train_spec"] = {"input_shape": [1, 28, 28], "layers": [
        {"type": "flatten"}, {"type": "linear", "out_features": 7}]}
    at.run()
    assert not at.exception and "10 class scores" in at.error[0].value


def test_a_missing_dataset_says_where_to_put_it(monkeypatch, tmp_path):
    def no_network(self):
        raise RuntimeError("Error downloading: no network")

    monkeypatch.setattr(tvd.FashionMNIST, "download", no_network)
    monkeypatch.setenv("CNNVIZ_DATA", str(tmp_path))
    at = _app()
    at.selectbox(key="dataset").set_value("fashion-mnist").run()
    assert not at.exception
    assert str(tmp_path / "FashionMNIST" / "raw" / "train-images-idx3-ubyte.gz") in at.error[0].value
