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


def test_a_run_in_a_class_yields_the_cores_and_a_run_alone_does_not(monkeypatch):
    import os
    mine = os.nice(0)
    assert worker.run(_my_niceness, ()) == mine                                  # alone: full priority
    assert worker.run(_my_niceness, (), nice=worker.niceness()) == min(mine + worker.NICE, 19)
    for raw, value in (("0", 0), ("99", 19), ("-5", 0), ("fast", worker.NICE), ("", worker.NICE)):
        monkeypatch.setenv("CNNVIZ_TRAIN_NICE", raw)
        assert worker.niceness() == value


def _my_thread_nices(on_progress=None, stop_event=None) -> list[int]:
    """Every thread's nice, after the parent had a chance to renice them (torch's threads are up by then)."""
    import os
    import time
    torch.ones(256, 256) @ torch.ones(256, 256)  # starts the intra-op threads
    time.sleep(2.5)
    return sorted({os.getpriority(os.PRIO_PROCESS, int(t)) for t in os.listdir("/proc/self/task")})


def test_a_run_started_alone_yields_once_a_class_connects():
    """nice as a callable: asked every second, the child (every thread of it) is reniced when it rises."""
    import os
    mine, asked = os.nice(0), []

    def class_now() -> int:
        asked.append(1)
        return 0 if len(asked) < 2 else 7   # the first ask: alone; then others have connected

    nices = worker.run(_my_thread_nices, (), nice=class_now)
    assert nices == [min(mine + 7, 19)] and len(asked) >= 2
