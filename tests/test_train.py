"""cnnviz.train: a tiny real-MNIST run learns and saves; Stop works; NaN is caught; the CLI writes a card."""
from __future__ import annotations

import json
import math
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from cnnviz import checkpoints, cli, data, snapshots, trainconfig, trainstatus, trainstep, tutorials
from cnnviz import train as tr
from cnnviz.arch import PRESETS
from cnnviz.card import Card
from cnnviz.evaluate import Evaluation
from cnnviz.runner import Runner
from cnnviz.trainconfig import TrainConfig


@pytest.fixture(scope="module")
def mnist(data_root):
    """A few hundred real training images and a few hundred real test images."""
    test = data.load("mnist", "test", root=data_root, download=False)
    train = data.Split("mnist", "train", test.images[2000:2512], test.labels[2000:2512], test.mean, test.std)
    return train, test.subset(500)


@pytest.fixture(autouse=True)
def user_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNVIZ_USER_CHECKPOINTS", str(tmp_path / "user"))
    return tmp_path / "user"


def test_a_tiny_run_lowers_the_loss_and_saves_a_loadable_checkpoint(mnist, user_dir):
    train_split, test_split = mnist
    config = TrainConfig(lr=0.05, batch_size=64, epochs=3, report_every=2, val_every=8, val_size=200,
                            snapshots_per_epoch=0)  # a quarter epoch is 2 batches here: held-out at each
    events = []
    result = tr.train(PRESETS["tutorial_a"], config, train_split, test_split, on_progress=events.append)
    assert result.batches == 24 and len(events) == 12 and events == result.history
    assert events[-1].loss < 0.6 * events[0].loss
    assert events[-1].val_accuracy is not None and events[0].val_accuracy is None
    assert result.test_accuracy > 60 and result.evaluation.total == 500
    card = Card.from_result(result, "tiny", how="test")
    folder = checkpoints.save(result.model, card)
    model, loaded = checkpoints.load(folder)
    assert loaded.spec == PRESETS["tutorial_a"].to_json() == card.spec
    assert loaded.test_accuracy == round(result.test_accuracy, 2) and len(loaded.per_class_accuracy) == 10
    assert loaded.config == config == result.config  # the whole run's settings: the run can be rebuilt
    x = test_split.images[:8]
    with torch.no_grad():
        assert torch.allclose(model(x), result.model(x), atol=1e-5)


def test_by_default_the_held_out_curve_is_measured_with_each_snapshot_and_at_the_end(mnist):
    """Each held-out evaluation is time the run does not train: by default only where a snapshot needs one."""
    train_split, test_split = mnist  # 512 images: a quarter epoch of batch 32 is 4 batches
    config = TrainConfig(batch_size=32, max_batches=18, report_every=2, val_size=100, live_every_s=0)
    result = tr.train(PRESETS["logistic"], config, train_split, test_split)
    assert len(result.history) == 9  # an event every 2 batches, a held-out number only on 5 of them
    assert [e.batch for e in result.history if e.val_accuracy is not None] == [4, 8, 12, 16, 18]
    assert [s.batch for s in result.snapshots] == [0, 4, 8, 12, 16, 18]
    assert all(s.val_accuracy is not None for s in result.snapshots)


def test_same_seed_same_run(mnist):
    train_split, _ = mnist
    config = TrainConfig(batch_size=32, max_batches=4, report_every=1, precision="fp32", val_every=0)
    first = [e.loss for e in tr.train(PRESETS["keras_small"], config, train_split).history]
    again = [e.loss for e in tr.train(PRESETS["keras_small"], config, train_split).history]
    assert first == again


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_the_loop_runs_relus_after_the_pools_with_the_same_numbers(mnist, monkeypatch, precision):
    """arch.training_order speeds the loop up and changes nothing: the same weights, bit for bit, as the
    spec's order; the model handed back (which every page shows) is in the spec's order."""
    train_split, _ = mnist
    config = TrainConfig(batch_size=64, max_batches=6, report_every=3, precision=precision, val_every=0,
                            snapshots_per_epoch=0)
    fast = tr.train(PRESETS["tutorial_a"], config, train_split)
    monkeypatch.setattr(trainstep, "training_order", lambda model: model)
    plain = tr.train(PRESETS["tutorial_a"], config, train_split)
    assert [n for n, _ in fast.model.named_children()] == PRESETS["tutorial_a"].layer_names()
    assert [e.loss for e in fast.history] == [e.loss for e in plain.history]
    assert all(torch.equal(a, b) for a, b in zip(fast.model.state_dict().values(), plain.model.state_dict().values()))


def test_a_huge_learning_rate_stops_with_a_plain_explanation(mnist):
    train_split, test_split = mnist
    config = TrainConfig(lr=1e4, schedule="constant", batch_size=64, epochs=5, report_every=1, val_every=0)
    result = tr.train(PRESETS["tutorial_a"], config, train_split, test_split)
    assert result.diverged and result.evaluation is None
    assert "far too high; try 0.01" in result.diverged and "learning rate 10000" in result.diverged
    assert result.batches < 80


@pytest.mark.parametrize("preset, seed", [("tutorial_a", 0), ("tutorial_a", 2), ("keras_small", 0)])
def test_lr_10_never_runs_on_at_chance_it_stops_and_says_why(mnist, preset, seed):
    """lr 10 blows the loss up or kills every ReLU; either way the run stops early and names the learning rate."""
    train_split, test_split = mnist
    config = TrainConfig(lr=10, seed=seed, batch_size=64, epochs=5, val_every=0, snapshots_per_epoch=0,
                            report_every=2)
    result = tr.train(PRESETS[preset], config, train_split, test_split)
    assert result.diverged and result.batches < 40 and result.evaluation is None
    assert result.diverged.startswith(("The loss blew up", "The loss became", "The network died at batch"))
    assert "the learning rate 10 is far too high; try 0.01" in result.diverged
    assert result.history[-1].batch == result.batches, "the curve runs up to where it stopped"


def test_a_dead_network_stops_after_two_reports_with_one_answer_for_all(mnist, monkeypatch):
    """Every ReLU at 0 (conv1's bias far below zero): every image gets the same scores, exactly."""
    real = tr.rng.build

    def dead(spec, generator):
        model = real(spec, generator)
        with torch.no_grad():
            model.conv1.bias.fill_(-1e4)
        return model
    monkeypatch.setattr(tr.rng, "build", dead)
    config = TrainConfig(lr=0.05, batch_size=64, epochs=5, report_every=3, val_every=0, snapshots_per_epoch=0)
    result = tr.train(PRESETS["tutorial_a"], config, *mnist)
    assert result.batches == 2 * 3 and [e.batch for e in result.history] == [3, 6]
    assert result.diverged == trainstatus.dead_message(6, config)
    last = result.history[-1].frame  # the live view ends on the dead network: one guess for every digit
    assert last is not None and last.batch == 6 and len(set(last.predicted.tolist())) == 1
    assert "try a smaller learning rate (e.g. 0.005)" in result.diverged  # 0.05 is not "far too high"


def test_divergence_message_wording():
    cfg = TrainConfig(lr=10, schedule="constant")
    assert trainstatus.divergence_message(float("nan"), 12, cfg) == \
        "The loss became NaN at batch 12 — the learning rate 10 is far too high; try 0.01"
    assert "infinite" in trainstatus.divergence_message(float("inf"), 3, TrainConfig(lr=0.01))


def test_a_loss_that_explodes_stops_the_run_before_it_is_nan(mnist):
    train_split, test_split = mnist  # lr 10 (the page's "too high" demo): the loss leaps far above ln(10)
    # lr 10 either blows the weights up or kills every ReLU (a flat 2.3), by the seed's luck: this seed and
    # the plain loss blow up (with label smoothing this one dies; the stalled test covers that outcome)
    config = TrainConfig(lr=10, batch_size=64, epochs=5, val_every=0, snapshots_per_epoch=0, label_smoothing=0)
    result = tr.train(PRESETS["tutorial_a"], config, train_split, test_split)
    assert result.diverged and result.evaluation is None and result.batches == config.report_every
    assert result.diverged.startswith("The loss blew up to ") and "try 0.01" in result.diverged
    # the history ends with the climb, batch by batch, so the curve can show the part that blew up
    climb = result.history
    peak = max(climb, key=lambda e: e.loss)
    assert [e.batch for e in climb] == list(range(1, 11)) and peak.loss > tr.blowup_loss(10) > climb[0].loss
    assert f"at batch {peak.batch} " in result.diverged
    assert result.snapshots == []


def test_a_nan_in_the_middle_of_a_window_names_its_batch():
    """Losses stay on the device between reports (no per-batch host sync): the NaN is found in the window."""
    window = trainstep.Window(first=21)
    for v in (2.0, 1.5, float("nan"), float("nan")):
        window.add(torch.tensor(v), torch.tensor([[1.0, 0.0]]), torch.tensor([0]))
    losses, acc = window.read()
    assert acc == 100.0 and losses[:2] == [2.0, 1.5] and math.isnan(losses[2])
    events = tr._blowup_events(window, losses, acc, 100, 10, 1.0, "")
    assert [e.batch for e in events] == [21, 22, 23] and math.isnan(events[-1].loss)


def test_blowup_message_wording():
    assert tr.blowup_loss(10) == pytest.approx(11.51, abs=0.01)
    assert trainstatus.divergence_message(3602.4, 2, TrainConfig(lr=10)) == (
        "The loss blew up to 3,602 at batch 2 (an untrained network starts near 2.3) — "
        "the learning rate 10 is far too high; try 0.01")
    assert "blew up to 1e+30" in trainstatus.divergence_message(1e30, 2, TrainConfig(lr=0.01))


def _finished(accuracy_hits: int, lr: float = 0.05) -> tr.Result:
    """A finished run whose evaluation got `accuracy_hits` of 100 right (10 classes)."""
    labels = np.arange(100) % 10
    preds = np.where(np.arange(100) < accuracy_hits, labels, (labels + 1) % 10)
    confusion = np.zeros((10, 10), dtype=np.int64)
    np.add.at(confusion, (labels, preds), 1)
    history = [tr.Progress(300, 300, 0.64, 0.08, 97.0, 1000.0, 38.3, 0.0)]
    return tr.Result(None, PRESETS["tutorial_a"], TrainConfig(lr=lr), history, 300, 38.3, "CPU", "bf16",
                     evaluation=Evaluation(preds, labels, confusion, 0.1))


def test_a_run_no_better_than_guessing_is_explained():
    assert trainstatus.stalled_message(_finished(97)) is None
    msg = trainstatus.stalled_message(_finished(11, lr=10))
    assert msg.startswith("Test accuracy 11 of 100 test images (11%) is no better than guessing (10%)")
    assert "try 0.01" in msg
    assert "smaller learning rate" in trainstatus.stalled_message(_finished(11, lr=0.01))


def test_summary_line():
    assert trainstatus.summary_text(_finished(97)) == \
        "300 batches (0.64 epochs) of 128 images in 38.3 s, 1,003 img/s on CPU (bf16)"


def _background(spec, config, train_split, test_split) -> Runner:
    """A started Runner training one network, as the trainer page hands it one (without the worker process)."""
    return Runner(lambda cb, stop: tr.train(spec, config, train_split, test_split, cb, stop)).start()


def test_stop_ends_the_background_run(mnist):
    train_split, test_split = mnist
    config = TrainConfig(batch_size=32, epochs=1000, report_every=1, val_every=0)
    runner = _background(PRESETS["tutorial_a"], config, train_split, test_split)
    deadline = time.time() + 60
    while not runner.snapshot().history and time.time() < deadline:
        time.sleep(0.05)
    assert runner.running and runner.snapshot().state == "running"
    assert runner.stop(timeout=60), "the thread did not end after stop()"
    snap = runner.snapshot()
    assert snap.state == "stopped" and "Stopped by you" in snap.message
    assert snap.results[0].stopped and snap.results[0].evaluation is not None  # tested, can be kept


def test_runner_reports_failures_instead_of_dying():
    def boom(on_progress, stop_event):
        raise ValueError("no such layer")

    runner = Runner(boom).start()
    runner.stop(timeout=5)
    assert runner.snapshot().state == "failed" and "no such layer" in runner.snapshot().message


def test_runner_is_safe_to_read_while_it_runs(mnist):
    train_split, _ = mnist
    config = TrainConfig(batch_size=16, max_batches=30, report_every=1, val_every=0)
    runner = _background(PRESETS["logistic"], config, train_split, None)
    seen = []
    while runner.running:
        seen.append(len(runner.snapshot().history))
        time.sleep(0.002)
    runner.stop(timeout=5)
    assert seen == sorted(seen) and runner.snapshot().state == "done"
    assert [e.batch for e in runner.snapshot().history] == list(range(1, 31))


def test_reproduce_tutorials_runs_a_b_c_plain_then_normalised(mnist):
    train_split, test_split = mnist
    config = replace(tutorials.TUTORIAL_CONFIG, max_batches=2, report_every=1, val_every=0, snapshots_per_epoch=0)
    jobs = []
    results = tutorials.reproduce_tutorials(train_split, test_split, lambda e: jobs.append(e.job), config=config)
    assert [(r.spec.name, r.config.normalize) for r in results] == [
        ("tutorial_a", False), ("tutorial_b", False), ("tutorial_c", False),
        ("tutorial_a", True), ("tutorial_b", True), ("tutorial_c", True)]
    assert list(dict.fromkeys(jobs)) == list(tutorials.TUTORIAL_JOBS)
    assert all(r.precision == "fp32" for r in results)
    recipe = tutorials.TUTORIAL_CONFIG  # the tutorials' own: plain pixels, fp32, SGD lr 0.01 no momentum, batch 100
    assert (recipe.max_batches, recipe.lr, recipe.batch_size, recipe.momentum, recipe.schedule, recipe.precision,
            recipe.normalize) == (3000, 0.01, 100, 0.0, "constant", "fp32", False)
    assert [tutorials.job_label(j) for j in ("", "tutorial_b", "tutorial_a (normalised)", "other")] == [
        "", "tutorial_b (2 of 6): ", "tutorial_a (normalised) (4 of 6): ", "other: "]
    table = tutorials.tutorial_table(results)
    assert [row[""] for row in table] == ["published (%)", "cnnviz, tutorial recipe: plain pixels, fp32 (%)",
                                         "difference, tutorial recipe (points)", "cnnviz, normalised inputs (%)"]
    assert [table[0][k] for k in tutorials.PUBLISHED] == [97.04, 93.59, 96.5]
    a = results[0].test_accuracy
    assert table[1]["tutorial_a"] == round(a, 2) and table[2]["tutorial_a"] == round(round(a, 2) - 97.04, 2)
    assert table[3]["tutorial_c"] == round(results[5].test_accuracy, 2)
    assert tutorials.tutorial_table(results[:1])[3]["tutorial_a"] is None  # stopped early: the rest stay empty


def test_plain_pixels_are_what_the_tutorials_feed(mnist):
    test = mnist[1]
    plain = tr.plain_pixels(test)
    assert (plain.mean, plain.std) == (0.0, 1.0) and float(plain.images.min()) == 0.0
    assert float(plain.images.max()) == pytest.approx(1.0) and torch.equal(plain.raw(), plain.images)
    assert tr.plain_pixels(plain) is plain
    cfg = TrainConfig(normalize=False)
    result = tr.train(PRESETS["logistic"], replace(cfg, max_batches=3, val_every=0), mnist[0], test)
    assert Card.from_result(result, "plain", "test").normalize == (0.0, 1.0)  # Draw feeds it plain pixels too


def test_stop_event_set_before_the_start(mnist):
    stop = threading.Event()
    stop.set()
    result = tr.train(PRESETS["logistic"], TrainConfig(epochs=10, val_every=0), mnist[0], None, stop_event=stop)
    assert result.stopped and result.batches == 1


@pytest.mark.parametrize("kwargs, match", [
    ({"lr": 0}, "learning rate 0"), ({"optimizer": "rmsprop"}, "optimizer 'rmsprop'"),
    ({"batch_size": 0}, "batch size 0"), ({"epochs": -1}, "epochs -1"), ({"val_every": -1}, "val_every -1"),
    ({"label_smoothing": 1.0}, "label smoothing 1.0"), ({"label_smoothing": float("nan")}, "label smoothing nan")])
def test_bad_settings_name_the_bad_value(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**kwargs)


def test_the_shipped_recipe_is_what_the_page_and_the_cli_start_from():
    from cnnviz import pagestate
    config = TrainConfig()
    assert (config.lr, config.epochs, config.label_smoothing) == (0.075, 1.5, 0.1)
    assert pagestate.trainer()["epochs"].default == config.epochs
    args = cli.parse(["--preset", "tutorial_a"])
    assert (args.lr, args.epochs, args.label_smoothing) == (config.lr, config.epochs, config.label_smoothing)
    assert tutorials.TUTORIAL_CONFIG.label_smoothing == 0, "the tutorials minimise the plain cross-entropy"
    assert "label smoothing 0.1" in trainstatus.describe_run(PRESETS["tutorial_a"], config)
    assert "smoothing" not in trainstatus.describe_run(PRESETS["tutorial_a"], tutorials.TUTORIAL_CONFIG)


def test_total_batches():
    assert trainconfig.total_batches(60_000, TrainConfig(batch_size=128, epochs=2)) == 938
    assert trainconfig.total_batches(60_000, TrainConfig(batch_size=100, epochs=5, max_batches=3000)) == 3000


def test_cli_trains_and_writes_checkpoint_and_card(tmp_path, capsys):
    assert cli.main(["--preset", "logistic", "--max-batches", "5", "--out", str(tmp_path), "--name", "cli"]) == 0
    out = capsys.readouterr().out
    assert "logistic: test accuracy" in out
    card = json.loads((tmp_path / "cli" / "card.json").read_text())  # the file itself: plain JSON
    assert card["how"].startswith("python -m cnnviz.train --preset logistic") and card["batches"] == 5
    model, loaded = checkpoints.load(tmp_path / "cli")
    assert loaded.test_accuracy == card["test_accuracy"] and f"{card['test_accuracy']:.2f}%" in out
    assert loaded.config == cli.config_of(cli.parse(["--preset", "logistic", "--max-batches", "5"]))
    assert "img/s" in out and [s.batch for s in snapshots.of_checkpoint(tmp_path / "cli")][-1] == 5


def test_cli_names_a_bad_value_in_one_line(tmp_path, capsys):
    assert cli.main(["--preset", "logistic", "--label-smoothing", "2", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("python -m cnnviz.train: bad training settings: label smoothing 2.0")
    assert "Traceback" not in err
    assert not any(tmp_path.iterdir()), "nothing trained, nothing written"


def test_the_readmes_spelled_out_tutorial_recipe_is_the_recipe():
    """docs/trainer.md's second command line sets each option by hand: it must be what --recipe tutorial runs."""
    spelled = ("--preset tutorial_a --momentum 0 --no-normalize --precision fp32 --lr 0.01 --schedule constant "
               "--label-smoothing 0 --batch-size 100 --epochs 5 --max-batches 3000").split()
    readme = (Path(__file__).parents[1] / "docs" / "trainer.md").read_text().replace("\\\n", " ")
    assert " ".join(spelled[2:]) in " ".join(readme.split())
    recipe = cli.config_of(cli.parse(["--preset", "tutorial_a", "--recipe", "tutorial"]))
    assert cli.config_of(cli.parse(spelled)) == replace(recipe, nesterov=True)  # Nesterov is off without momentum


@pytest.mark.slow
def test_cli_runs_the_tutorials_recipe(tmp_path, capsys):
    argv = ["--preset", "tutorial_a", "--recipe", "tutorial", "--max-batches", "3", "--out", str(tmp_path),
            "--name", "recipe", "--no-snapshots"]
    assert cli.main(argv) == 0
    card = checkpoints.read_card(tmp_path / "recipe")
    assert (card.config.lr, card.config.momentum, card.config.batch_size, card.precision, card.normalize,
            card.config.label_smoothing) == (0.01, 0.0, 100, "fp32", (0.0, 1.0), 0.0)
    assert not (tmp_path / "recipe" / "snapshots.safetensors").exists()
    assert cli.main(["--preset", "logistic", "--momentum", "0.5", "--no-nesterov", "--no-normalize", "--precision",
                    "fp32", "--max-batches", "2", "--out", str(tmp_path), "--name", "opts"]) == 0
    card = checkpoints.read_card(tmp_path / "opts")
    assert (card.config.momentum, card.normalize, card.precision) == (0.5, (0.0, 1.0), "fp32")
    assert cli.main(["--preset", "logistic", "--label-smoothing", "0", "--max-batches", "2", "--out", str(tmp_path),
                    "--name", "plain"]) == 0
    assert checkpoints.read_card(tmp_path / "plain").config.label_smoothing == 0.0


@pytest.mark.parametrize("layers, match", [
    ([{"type": "flatten"}, {"type": "linear", "out_features": 7}], r"ends in shape \(7,\).*linear layer of 10"),
    ([{"type": "conv", "out_channels": 4, "kernel_size": 3}], r"ends in shape \(4, 26, 26\)")])
def test_a_network_that_cannot_classify_is_refused(mnist, layers, match):
    from cnnviz.arch import Spec

    spec = Spec.from_json({"input_shape": [1, 28, 28], "layers": layers})
    with pytest.raises(ValueError, match=match):
        tr.train(spec, TrainConfig(max_batches=1), mnist[0])


def test_status_lines():
    e = tr.Progress(120, 938, 0.128, 0.4123, 90.0, 9210.4, 1.2, 11.4)
    assert trainstatus.progress_text(e) == "batch 120/938 · epoch 0.13 · loss 0.412 · 9,210 img/s · ETA 11 s"
    assert trainstatus.progress_text(e, running=False) == "batch 120/938 · epoch 0.13 · loss 0.412 · 9,210 img/s"
    assert trainstatus.describe_run(PRESETS["tutorial_a"], TrainConfig()) == \
        "cnnviz app: tutorial_a on mnist, sgd lr 0.075 (onecycle), batch 128, 1.5 epochs, label smoothing 0.1, seed 0"
    assert trainstatus.run_summary(PRESETS["tutorial_a"], TrainConfig(max_batches=300)) == \
        "tutorial_a on mnist · sgd lr 0.075 · batch 128 · 1.5 epochs · seed 0 · stop after 300 batches"


def test_a_stopped_run_is_tested_and_its_card_says_where_it_stopped(mnist, user_dir):
    """Stopping when it is good enough is a use; the stopped model is tested and can be kept."""
    train_split, test_split = mnist
    stop = threading.Event()

    def stop_after_6(event: tr.Progress) -> None:
        if event.batch >= 6:
            stop.set()

    config = TrainConfig(batch_size=32, epochs=2, report_every=3, live_every_s=0)
    result = tr.train(PRESETS["logistic"], config, train_split, test_split, stop_after_6, stop)
    assert result.stopped and result.batches == 7 and result.planned_batches == 32  # stopped at the next batch
    assert result.evaluation is not None and result.evaluation.total == 500
    card = Card.from_result(result, "stopped", how="test")
    assert card.stopped is True and card.batches == 7 and card.planned_batches == 32
    assert card.how == "test (stopped at batch 7 of 32)" and card.test_total == 500
    assert card.held_out_images == 500  # what its snapshots' held-out accuracies were measured on
    model, loaded = checkpoints.load(checkpoints.save(result.model, card))
    assert loaded.stopped is True and loaded.test_accuracy == round(result.test_accuracy, 2)
    finished = Card.from_result(tr.train(PRESETS["logistic"], replace(config, max_batches=3), train_split,
                                     test_split), "done", how="test")
    assert finished.stopped is False and finished.how == "test"


def test_one_default_learning_rate_per_optimizer_for_the_page_the_cli_and_the_check():
    """`--optimizer adam` trained at SGD's 0.075, which the check itself called far too high."""
    for optimizer, lr in trainconfig.DEFAULT_LR.items():
        assert TrainConfig(optimizer=optimizer).lr == trainconfig.default_lr(optimizer) == lr
        assert cli.parse(["--preset", "logistic", "--optimizer", optimizer]).lr == lr
        assert trainstatus.lr_too_high(TrainConfig(optimizer=optimizer)) is None, "a default is never far too high"
    adam = cli.config_of(cli.parse(["--preset", "logistic", "--optimizer", "adam"]))
    assert adam.lr == trainconfig.DEFAULT_LR["adam"]
    assert cli.parse(["--preset", "logistic", "--optimizer", "adam", "--lr", "0.002"]).lr == 0.002  # asked for
    assert trainstatus.lr_too_high(TrainConfig(optimizer="adam", lr=0.075)) == \
        "the learning rate 0.075 is far too high; try 0.001"
    with pytest.raises(ValueError, match="unknown optimizer 'rmsprop'"):
        trainconfig.default_lr("rmsprop")


def test_the_held_out_events_say_how_many_images_they_measured(mnist):
    train_split, test_split = mnist
    config = TrainConfig(batch_size=64, max_batches=4, report_every=2, val_size=300, live_every_s=0)
    result = tr.train(PRESETS["logistic"], config, train_split, test_split.subset(40))
    held = [e for e in result.history if e.val_accuracy is not None]
    assert held and all((e.val_total, e.val_what) == (40, "test images") for e in held)  # 40, not val_size
    assert result.held_out == (40, "test images")
    assert result.test_text().startswith(f"{result.evaluation.correct} of 40 test images (")


def test_the_command_lines_defaults_are_train_configs():
    """The CLI reads its defaults from TrainConfig's fields: none is typed twice."""
    args = cli.parse(["--preset", "logistic"])
    default = TrainConfig()
    for name in cli.OPTIONS:
        assert getattr(args, name) == getattr(default, name), name
    quiet = {"val_every": 0, "live_every_s": 0}  # the command line draws no live view and no held-out curve
    assert cli.config_of(args) == replace(default, **quiet)
    assert cli.config_of(cli.parse(["--preset", "logistic", "--no-snapshots"])).snapshots_per_epoch == 0


def test_the_tutorials_note_names_the_normalisation_the_last_row_used():
    from cnnviz import registry, tutorials

    mean, std = registry.normalization("mnist")
    assert f"((x − {mean}) / {std})" in tutorials.recipe_note() and (mean, std) == (0.1307, 0.3081)
