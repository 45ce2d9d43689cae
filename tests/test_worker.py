"""cnnviz.worker: training in a spawned process: events, stop, result and errors come back."""
from __future__ import annotations

import threading

import pytest
import torch

from cnnviz import data, worker
from cnnviz import train as tr
from cnnviz.arch import PRESETS
from cnnviz.trainconfig import TrainConfig

pytestmark = pytest.mark.slow  # real processes: servers, spawned workers


@pytest.fixture(scope="module")
def mnist(data_root):
    test = data.load("mnist", "test", root=data_root, download=False)
    train = data.Split("mnist", "train", test.images[2000:2512], test.labels[2000:2512], test.mean, test.std)
    return train, test.subset(300)


def test_a_run_in_its_own_process_reports_and_returns_the_trained_model(mnist):
    config = TrainConfig(batch_size=32, max_batches=6, report_every=2, val_every=0, live_every_s=1e-9)
    events = []
    result = worker.run(tr.train, (PRESETS["tutorial_a"], config, *mnist), events.append)
    assert [e.batch for e in events] == [2, 4, 6] and all(e.frame is not None for e in events)
    assert result.batches == 6 and result.evaluation.total == 300 and len(result.snapshots) >= 2
    here = tr.train(PRESETS["tutorial_a"], config, *mnist)  # same seed, same run, in this process
    assert torch.allclose(result.model.state_dict()["conv1.weight"], here.model.state_dict()["conv1.weight"])


def test_stop_reaches_the_child(mnist):
    stop = threading.Event()
    config = TrainConfig(batch_size=16, epochs=1000, report_every=1, val_every=0)
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
        worker.run(tr.train, (bad, TrainConfig(max_batches=1), mnist[0], None))


def test_the_child_does_not_rerun_the_parents_main_script(mnist, tmp_path, monkeypatch):
    """Under Streamlit / AppTest, __main__ is the page script: the training process must not run it again."""
    import sys
    import types

    script = tmp_path / "page.py"
    script.write_text("raise SystemExit('the page ran again in the training process')\n")
    fake = types.ModuleType("__main__")
    fake.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", fake)
    config = TrainConfig(batch_size=32, max_batches=2, val_every=0, live_every_s=0, snapshots_per_epoch=0)
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


SPIN = '''
import os, time

def spin(pid_file, on_progress=None, stop_event=None):
    """A run that never looks at its stop event: only its parent's death can end it."""
    with open(pid_file + ".part", "w") as f:
        f.write(str(os.getpid()))
    os.replace(pid_file + ".part", pid_file)
    while True:
        time.sleep(0.05)
'''
SERVER = '''
import sys
sys.path.insert(0, sys.argv[1])
import spin
from cnnviz import worker
launcher = worker.Launcher() if sys.argv[3] == "spare" else None
if launcher is not None:
    import time
    launcher.fill()
    while launcher.waiting() is None:  # its imports done: only then does it get the job
        time.sleep(0.1)
    with open(sys.argv[2] + ".spare", "w") as f:
        f.write(str(launcher.waiting()))
worker.run(spin.spin, (sys.argv[2],), launcher=launcher)
'''


def _running(pid: int) -> bool:
    """True while `pid` runs (a zombie nobody has reaped yet counts as ended)."""
    import os
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True


@pytest.mark.parametrize("how", ["fresh", "spare"])
def test_a_killed_server_takes_its_training_process_and_files_with_it(tmp_path, how):
    """SIGKILL of the server (no finally runs there): the child notices its parent is gone and ends, and the
    pickled work left nothing in the temp folder."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    (tmp_path / "spin.py").write_text(SPIN)
    tmp, pid_file = tmp_path / "tmp", tmp_path / "child.pid"
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp), "PYTHONPATH": str(root)}
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(tmp_path), str(pid_file), how], cwd=root, env=env)
    child = None
    try:
        deadline = time.monotonic() + 180  # a spawn imports torch: slow on a loaded machine
        while not pid_file.exists() and server.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert pid_file.exists(), f"the run never started (server exit code {server.poll()})"
        child = int(pid_file.read_text())
        if how == "spare":  # the run went to the spare started ahead of time
            assert int(pid_file.with_suffix(".pid.spare").read_text()) == child
        server.send_signal(signal.SIGKILL)
        server.wait()
        deadline = time.monotonic() + 30  # generous: the point is that it ends, not how fast
        while _running(child) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _running(child), "the training process outlived its killed server"
        assert sorted(p.name for p in tmp.iterdir() if p.name.startswith("cnnviz-train-")) == []
    finally:
        if server.poll() is None:
            server.kill()
        if child is not None and _running(child):
            os.kill(child, signal.SIGKILL)


def test_a_finished_run_leaves_no_file(tmp_path, monkeypatch):
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert worker.run(_my_niceness, ()) is not None
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("cnnviz-train-")] == []


def test_work_left_by_a_killed_server_is_swept_by_the_next_run(tmp_path, monkeypatch):
    """A server killed before its child started: the next run removes that server's file (its pid is gone)."""
    import subprocess
    import sys
    import tempfile
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(gone.stdout)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    stale = tmp_path / f"cnnviz-train-{dead_pid}-abc.pkl"
    stale.write_bytes(b"x" * 1000)
    alive = tmp_path / "cnnviz-train-1-abc.pkl"   # pid 1 is alive: not ours to remove
    alive.write_bytes(b"x")
    worker.run(_my_niceness, ())
    assert not stale.exists() and alive.exists()


def _where(on_progress=None, stop_event=None) -> tuple[int, bool, int]:
    """(this process, torch imported before the job ran, this thread's nice)."""
    import os
    return os.getpid(), "torch" in __import__("sys").modules, os.nice(0)


def _wait_for_spare(launcher, old: int | None, timeout: float = 120.0) -> int:
    import time
    deadline = time.monotonic() + timeout
    while (pid := launcher.waiting()) in (None, old) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert pid not in (None, old), "no new spare process was started"
    return pid


def test_a_launcher_runs_each_job_in_its_waiting_spare_and_then_starts_the_next(mnist):
    """The spare imports torch before a job comes; a run alone keeps full priority (only the spare's importing
    thread yields), a class run yields; the datasets go by reference and train the same network."""
    import os
    mine = os.nice(0)
    launcher = worker.Launcher()
    try:
        launcher.fill()
        spare = _wait_for_spare(launcher, None)
        pid, _, nice = worker.run(_where, (), launcher=launcher)
        assert (pid, nice) == (spare, mine)
        spare = _wait_for_spare(launcher, spare)  # the next one, started when the run had ended
        assert worker.run(_where, (), nice=7, launcher=launcher)[::2] == (spare, min(mine + 7, 19))
        _wait_for_spare(launcher, spare)
        config = TrainConfig(batch_size=32, max_batches=6, report_every=2, val_every=0, live_every_s=1e-9)
        result = worker.run(tr.train, (PRESETS["tutorial_a"], config, *mnist), launcher=launcher)
        assert launcher.shelf.writes >= 1  # the 512 training images (1.6 MB) went by reference
        here = tr.train(PRESETS["tutorial_a"], config, *mnist)
        assert torch.allclose(result.model.state_dict()["conv1.weight"], here.model.state_dict()["conv1.weight"])
    finally:
        launcher.close()


def test_no_spare_when_the_server_says_so(monkeypatch):
    monkeypatch.setenv("CNNVIZ_TRAIN_SPARE", "0")
    launcher = worker.Launcher(spare=worker.spare_wanted())
    launcher.fill()
    assert launcher.waiting() is None and launcher.take() is None
    monkeypatch.setenv("CNNVIZ_TRAIN_SPARE", "1")
    assert worker.spare_wanted()
