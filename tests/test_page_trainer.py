"""AppTest: the trainer page starts a short run, shows progress and results, saves a checkpoint."""
from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest
from streamlit.testing.v1 import AppTest

from cnnviz import checkpoints, data, snapshots, trainconfig, tutorials
from cnnviz import train as tr
from cnnviz.runner import Runner

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


def _idle_run(events: int) -> Runner:
    """A started Runner that reports `events` progress events, then waits (no CPU) until stopped."""
    def work(on_progress, stop):
        for b in range(1, events + 1):
            on_progress(tr.Progress(10 * b, 300, 0.02 * b, 2.3 / b, 10.0 * b, 1000.0, 1.0 * b, 30.0))
        stop.wait(60)
        return SimpleNamespace(stopped=True, diverged=None, batches=10 * events, evaluation=None)

    return Runner(work).start()


def _curves_svg(at: AppTest) -> list[str]:
    return [e.proto.body for e in at.get("html") if "cnnviz-curves" in e.proto.body]


def _running(events: int) -> tuple[AppTest, Runner]:
    at = AppTest.from_file(str(PAGE), default_timeout=60)
    runner = at.session_state["trainer_runner"] = _idle_run(events)
    deadline = time.time() + 30
    while len(runner.snapshot().history) < events and time.time() < deadline:
        time.sleep(0.01)
    at.run()
    assert not at.exception
    return at, runner


@pytest.mark.parametrize("events", [0, 1])
def test_no_chart_until_there_is_a_line_to_draw(events):
    at, runner = _running(events)
    assert not at.get("plotly_chart"), "no empty axes with made-up ticks before the first batches"
    assert not _curves_svg(at)
    assert any("curves appear after the first few batches" in e.proto.body for e in at.get("html"))
    if events == 0:
        assert "waiting for the first batches" in at.get("progress")[0].proto.text
    runner.stop(timeout=5)


def test_during_a_run_the_settings_fold_into_one_line_and_stop_works():
    at, runner = _running(3)
    at.session_state["trainer_summary"] = "tutorial_a on mnist · sgd lr 0.05"
    at.run()
    assert "ETA 30 s" in at.get("progress")[0].proto.text
    # while it runs the curves are SVG (cheap for the browser to redraw every second), not plotly
    assert len(_curves_svg(at)) == 1 and not at.get("plotly_chart")
    assert "loss: 2.3 → 0.767" in _curves_svg(at)[0] and "data:image/svg+xml;base64," in _curves_svg(at)[0]
    folded = at.expander[0]
    assert folded.label.startswith("⚙️ Training tutorial_a on mnist · sgd lr 0.05") and "locked" in folded.label
    assert at.selectbox(key="dataset").disabled and at.selectbox(key="net").disabled
    assert at.button(key="start").disabled and not at.button(key="stop").disabled
    at.button(key="stop").click().run()
    assert not at.exception and not runner.running and any("Stopped by you" in w.value for w in at.warning)
    assert "ETA" not in at.get("progress")[0].proto.text  # an ended run has no time left to estimate
    assert len(at.get("plotly_chart")) == 1 and not _curves_svg(at)  # ended: the curves with hover
    assert at.expander[0].label == "⚙️ Settings" and not at.selectbox(key="dataset").disabled  # back when it ends


@pytest.mark.slow
def test_a_too_high_learning_rate_is_explained(user_dir):
    at = _app()
    lr = next(n for n in at.number_input if n.label.startswith("Learning rate"))
    lr.set_value(10.0)
    at.number_input(key="max_batches").set_value(100)
    at.button(key="start").click().run()
    _wait_done(at)
    # lr 10 either blows the loss up (the run stops itself) or kills the network (it ends at chance level):
    # either way the page says so in plain words
    said = [e.value for e in at.error] + [w.value for w in at.warning]
    assert any("the learning rate 10 is far too high; try 0.01" in m for m in said), said


@pytest.mark.slow
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
    assert any("Test Accuracy of 0:" in c.value for c in at.code)
    assert len(at.get("plotly_chart")) >= 3  # curves, confusion, gallery/filters
    assert any(c.value.startswith("30 batches (0.06 epochs) of 128 images in") for c in at.caption)
    at.button(key="save").click().run()
    assert not at.exception and "it is now the active model" in at.success[0].value
    name = at.session_state["active_checkpoint"]
    assert name.startswith("tutorial_a-seed0") and name in checkpoints.available()
    assert (user_dir / name / "card.json").is_file()
    assert [s.batch for s in snapshots.of_checkpoint(name)] == [0, 30]  # the replay travels with the model
    replay = at.select_slider(key="replay")
    assert replay.value == 1 and "after 30 batches" in replay.format_func(1)
    replay.set_value(0).run()
    assert not at.exception and any("test digits right" in e.proto.body for e in at.get("html"))
    pictures = [e.proto.body for e in at.get("html") if "cnnviz-cell" in e.proto.body or "filters" in e.proto.body]
    assert any(p.count("cnnviz-cell'>") == 16 for p in pictures), "the 16-digit grid, as HTML pictures"
    assert any("alt='first-layer filters'" in p for p in pictures)


@pytest.mark.slow
def test_stop_button_stops_the_run_and_the_stopped_model_can_be_kept(user_dir):
    at = _app()
    at.selectbox(key="net").set_value("tutorial_b")  # ~1 minute of training: Stop comes long before the end
    at.button(key="start").click().run()
    runner = at.session_state["trainer_runner"]
    deadline = time.time() + 60
    while not runner.snapshot().history and time.time() < deadline:
        time.sleep(0.1)
    at.button(key="stop").click().run()
    assert not at.exception and not runner.running
    assert runner.snapshot().state == "stopped" and "Stopped by you" in at.warning[0].value
    # good enough is a reason to stop; the stopped network was tested and can be saved
    stopped_at = runner.snapshot().results[0].batches
    assert "nothing to save" not in at.warning[0].value and at.metric[0].label == "Test accuracy"
    assert any(c.value.endswith(" of 10,000 test images (" + at.metric[0].value + ")") for c in at.caption)
    at.button(key="save").click().run()
    assert not at.exception and "it is now the active model" in at.success[0].value
    card = checkpoints.read_card(user_dir / at.session_state["active_checkpoint"])
    assert card.stopped is True and card.batches == stopped_at
    assert card.how.endswith(f"(stopped at batch {stopped_at:,} of {card.planned_batches:,})")


def test_the_calculators_network_is_offered():
    at = AppTest.from_file(str(PAGE), default_timeout=60)
    at.session_state["train_spec"] = {"input_shape": [1, 28, 28], "layers": [
        {"type": "flatten"}, {"type": "linear", "out_features": 10}]}
    at.session_state["train_spec_fresh"] = True  # as the calculator's "Train this network" hands it over
    at.run()
    assert not at.exception and at.selectbox(key="net").value == "the network from the calculator"


def test_a_network_too_big_for_the_server_is_refused_before_it_is_built(monkeypatch):
    built = []
    monkeypatch.setattr(tr, "build", lambda *a: built.append(a), raising=False)
    at = AppTest.from_file(str(PAGE), default_timeout=60)
    at.session_state["train_spec"] = {"input_shape": [1, 28, 28], "layers": [  # the issue's ~1.26 G parameters
        {"type": "flatten"}, {"type": "linear", "out_features": 1_600_000}, {"type": "linear", "out_features": 10}]}
    at.session_state["train_spec_fresh"] = True
    at.run()
    assert not at.exception and at.selectbox(key="net").value == "the network from the calculator"
    assert "Too big for this server: this network needs ~" in at.error[0].value
    assert at.button(key="start").disabled and not built
    at.selectbox(key="net").set_value("tutorial_a").run()
    assert not at.button(key="start").disabled
    assert any(c.value.startswith("Fits: this network needs ~") for c in at.caption)


def test_a_network_without_ten_outputs_is_explained_not_crashed():
    at = AppTest.from_file(str(PAGE), default_timeout=60)
    at.session_state["train_spec"] = {"input_shape": [1, 28, 28], "layers": [
        {"type": "flatten"}, {"type": "linear", "out_features": 7}]}
    at.session_state["train_spec_fresh"] = True
    at.run()
    assert not at.exception and "10 class scores" in at.error[0].value


def test_a_missing_dataset_offers_a_download_and_creates_nothing(monkeypatch, tmp_path):
    monkeypatch.setenv("CNNVIZ_DATA", str(tmp_path))
    at = _app()
    at.selectbox(key="dataset").set_value("fashion-mnist").run()
    assert not at.exception and at.button(key="start").disabled
    assert "$CNNVIZ_DATA/FashionMNIST/raw/train-images" not in at.warning[0].value  # names, not a long path
    assert "$CNNVIZ_DATA/FashionMNIST/raw/" in at.warning[0].value and str(tmp_path) not in at.warning[0].value
    assert at.button(key="download").label.startswith("⬇️ Download")
    assert list(tmp_path.iterdir()) == [], "visiting the page creates no folder"


def test_a_failed_download_says_so_until_the_files_appear(monkeypatch, tmp_path):
    def no_network(name, root, *args):
        raise data.DatasetMissing("Could not download train-images-idx3-ubyte.gz: timed out")

    monkeypatch.setattr(data, "download_files", no_network)
    monkeypatch.setenv("CNNVIZ_DATA", str(tmp_path))
    at = _app()
    at.selectbox(key="dataset").set_value("kmnist").run()
    at.button(key="download").click().run()
    deadline = time.time() + 10  # the download thread fails at once; the page shows it on its next run
    while not at.error and time.time() < deadline:
        time.sleep(0.1)
        at.run()
    assert not at.exception and at.error, ([i.value for i in at.info], [w.value for w in at.warning])
    assert "Download failed" in at.error[0].value and "timed out" in at.error[0].value
    assert at.selectbox(key="dataset").value == "kmnist", "the choice survives the state change"
    at.run()
    assert "Download failed" in at.error[0].value, "the failure is remembered"
    assert at.button(key="download").label.startswith("⬇️ Try the download again")


@pytest.mark.slow
def test_reproduce_the_tutorials_shows_the_table(monkeypatch):
    small = replace(tutorials.TUTORIAL_CONFIG, max_batches=3, report_every=1, val_every=0)
    monkeypatch.setattr(tutorials, "TUTORIAL_CONFIG", small)  # the page hands the recipe to the training process
    at = _app()
    at.button(key="reproduce").click().run()
    _wait_done(at)
    assert at.get("progress")[0].proto.text.startswith("tutorial_c (normalised) (6 of 6): batch 3/3")
    table = at.dataframe[0].value
    assert list(table.columns) == ["", "tutorial_a", "tutorial_b", "tutorial_c"]
    assert list(table.iloc[0])[1:] == [97.04, 93.59, 96.5]
    assert table.iloc[1, 0].startswith("cnnviz, tutorial recipe: plain pixels, fp32")
    assert table.iloc[3, 0] == "cnnviz, normalised inputs (%)" and table.iloc[3].notna().all()


def test_a_queued_run_shows_its_place_and_can_leave_the_line():
    from app_pages.parts.runqueue import run_queue

    queue = run_queue()  # the page's own queue (one per process)
    first = queue.submit(_idle_runner_unstarted())
    mine = queue.submit(_idle_runner_unstarted())
    try:
        at = AppTest.from_file(str(PAGE), default_timeout=60)
        at.session_state["trainer_runner"], at.session_state["trainer_ticket"] = mine.runner, mine
        at.run()
        assert not at.exception and any("you are 2nd in line" in i.value for i in at.info)
        assert at.button(key="start").disabled and not at.button(key="stop").disabled
        at.button(key="leave_queue").click().run()
        assert not at.exception and not mine.runner.started and queue.position(mine) is None
        assert any("You left the queue" in w.value for w in at.warning)
        assert not at.button(key="start").disabled
    finally:
        queue.leave(mine)
        queue.leave(first)


def _idle_runner_unstarted() -> Runner:
    def work(on_progress, stop):
        stop.wait(60)
        return SimpleNamespace(stopped=True, diverged=None, batches=0, evaluation=None)

    return Runner(work)


def test_picking_adam_sets_adams_default_learning_rate():
    """The page's optimizer switch reads the library's one table (was a literal 0.005)."""
    at = _app()
    assert at.number_input(key="lr").value == trainconfig.DEFAULT_LR["sgd"]
    at.radio(key="opt").set_value("adam").run()
    adam = at.number_input(key="lr").value
    assert not at.exception and adam == trainconfig.default_lr("adam") == trainconfig.DEFAULT_LR["adam"]
    assert not any("far too high" in m.value for m in [*at.error, *at.warning])


def test_the_calculator_and_the_trainer_show_the_same_measured_estimate(monkeypatch):
    """26 s on the calculator, 38 s on the trainer for one run; now one measured estimate."""
    from cnnviz import trainstep, traintime

    clock = SimpleNamespace(now=0.0)

    def step_runner(spec, config, num_classes, images=None):  # each batch "takes" 50 ms on this fake machine
        return lambda n: setattr(clock, "now", clock.now + n * 0.05)

    monkeypatch.setattr(trainstep, "step_runner", step_runner)
    monkeypatch.setattr(traintime, "time", SimpleNamespace(perf_counter=lambda: clock.now))
    traintime._measured.cache_clear()
    try:
        calc = AppTest.from_file(str(PAGE.parent / "dimensions.py"), default_timeout=60).run()
        trainer = _app()
    finally:
        traintime._measured.cache_clear()
    said = "about 35 s of training (704 batches of 128)"  # 704 batches x the measured 0.05 s, both places
    assert not calc.exception and any(said in c.value for c in calc.caption), [c.value for c in calc.caption]
    assert any(said in c.value for c in trainer.caption), [c.value for c in trainer.caption]


@pytest.mark.slow
def test_an_own_dataset_result_names_its_real_count_and_comes_first_with_save(user_dir):
    """12 held-out drawings are not '1,000 test images' at '100.00%', and after a run
    the result and Save come first, the settings folded."""
    at = _app()
    at.selectbox(key="dataset").set_value("own:shapes").run()
    at.number_input(key="max_batches").set_value(20)
    at.button(key="start").click().run()
    _wait_done(at)
    held_out = next(c.value for c in at.caption if "held-out drawings" in c.value)
    assert held_out.endswith(f" of 12 held-out drawings ({at.metric[0].value})") and "." not in at.metric[0].value
    curves = at.get("plotly_chart")[0].proto.spec  # the run's curves, the held-out line named with its count
    assert '"12 held-out drawings"' in curves and "1,000 test images" not in curves
    settings = at.expander[0]
    assert settings.label == "⚙️ Settings for the next run" and not settings.proto.expanded
    order = [node.type for node in _walk(at._tree)]
    assert order.index("metric") < order.index("expander") and at.button[0].key == "save"  # before the settings
    at.button(key="save").click().run()
    assert not at.exception and at.session_state["active_checkpoint"].startswith("shapes-tutorial_a-seed0")


def _walk(node):
    """The page's elements in the order they are drawn (depth first)."""
    for child in getattr(node, "children", {}).values():
        yield child
        yield from _walk(child)


@pytest.mark.parametrize("key, value, said", [
    ("train_n", 0, "train on at least 1 image"),
    ("train_n", 70_000, "mnist has 60,000 training images: choose N up to 60,000"),
    ("train_drop", 1.0, "dropout 1.0 (at least 0 and below 1"),
    ("train_wd", 1e6, "weight decay 1000000.0 (between 0 and 0.1")])
def test_impossible_overfitting_settings_are_refused_before_a_run(key, value, said):
    at = _app()
    at.number_input(key=key).set_value(value).run()
    assert any(said in e.value for e in at.error), [e.value for e in at.error]
    assert at.button(key="start").disabled


def test_200_images_with_augmentation_train_for_real_and_the_result_says_how_far_apart(user_dir):
    at = _app()
    assert not at.toggle(key="train_aug").value  # MNIST starts without augmentation
    at.number_input(key="train_n").set_value(200)
    at.toggle(key="train_aug").set_value(True)
    at.number_input(key="epochs").set_value(2.0).run()
    assert sum(h.proto.body.count(">augmented<") for h in at.get("html")) == 7  # the preview: 1 as it is + 7
    assert not at.error
    at.button(key="start").click().run()
    _wait_done(at)
    result = at.session_state["trainer_runner"].snapshot().kept()
    assert result.config.train_images == 200 and result.config.augment and result.train_evaluation.total == 200
    said = [m.value for m in at.info] + [w.value for w in at.warning]
    assert any(m.startswith("On 200 of the images it trained on it got") for m in said), said
