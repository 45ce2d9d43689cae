"""cnnviz.worker: training in a spawned process: events, stop, result and errors come back."""
from __future__ import annotations

import threading

import pytest
import torch

from cnnviz import data, worker
from cnnviz import train as tr
from cnnviz.arch import PRESETS


@pytest.fixture(scope="module")
def mnist(data_root):
    test = data.load("mnist", "test", root=data_root, download=False)
    train = data.Split("mnist", "train", test.images[2000:2512], test.labels[2000:2512], test.mean, test.std)
    return train, test.subset(300)


def test_a_run_in_its_own_process_reports_and_returns_the_trained_model(mnist):
    config = tr.TrainConfig(batch_size=32, max_batches=6, report_every=2, val_every=0, live_every_s=1e-9)
    events = []
    result = worker.run(tr.train, (PRESETS["tutorial_a"], config, *mnist), events.append)
    assert [e.batch for e in events] == [2, 4, 6] and all(e.frame is not None for e in events)
    assert result.batches == 6 and result.evaluation.total == 300 and len(result.snapshots) >= 2
    here = tr.train(PRESETS["tutorial_a"], config, *mnist)  # same seed, same run, in this process
    assert torch.allclose(result.model.state_dict()["conv1.weight"], here.model.state_dict()["conv1.weight"])


def test_stop_reaches_the_child(mnist):
    stop = threading.Event()
    config = tr.TrainConfig(batch_size=16, epochs=1000, report_every=1, val_every=0)
    seen = []

    def on_progress(event):
        seen.append(event)
        stop.set()  # Stop pressed as soon as the first batch has reported

    result = worker.run(tr.train, (PRESETS["logistic"], config, mnist[0], None), on_progress, stop)
    assert result.stopped and result.batches < 50 and seen


def test_an_error_in_the_child_is_raised_here(mnist):
    from cnnviz.arch import Spec

    bad = Spec.from_json({"input_shape": [1, 28, 28], "layers": [{"type": "flatten"},
                                                                 {"type": "linear", "out_features": 7}]})
    with pytest.raises(ValueError, match="10 class scores"):
        worker.run(tr.train, (bad, tr.TrainConfig(max_batches=1), mnist[0], None))


def test_the_child_does_not_rerun_the_parents_main_script(mnist, tmp_path, monkeypatch):
    """Under Streamlit / AppTest, __main__ is the page script: the training process must not run it again."""
    import sys
    import types

    script = tmp_path / "page.py"
    script.write_text("raise SystemExit('the page ran again in the training process')\n")
    fake = types.ModuleType("__main__")
    fake.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", fake)
    config = tr.TrainConfig(batch_size=32, max_batches=2, val_every=0, live_every_s=0, snapshots_per_epoch=0)
    result = worker.run(tr.train, (PRESETS["logistic"], config, mnist[0], None))
    assert result.batches == 2 and sys.modules["__main__"] is fake


def _my_niceness(on_progress=None, stop_event=None) -> int:
    import os
    return os.nice(0)


def test_the_training_process_runs_at_a_lower_priority_than_the_pages(monkeypatch):
    import os
    mine = os.nice(0)
    assert worker.run(_my_niceness, ()) == min(mine + worker.NICE, 19)
    monkeypatch.setenv("CNNVIZ_TRAIN_NICE", "0")
    assert worker.run(_my_niceness, ()) == mine
    for raw, value in (("99", 19), ("-5", 0), ("fast", worker.NICE), ("", worker.NICE)):
        monkeypatch.setenv("CNNVIZ_TRAIN_NICE", raw)
        assert worker.niceness() == value
