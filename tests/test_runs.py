"""cnnviz.runs: one training run at a time per server, a line with positions, runs ending with their session."""
from __future__ import annotations

import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from cnnviz import runs
from cnnviz import train as tr
from cnnviz.runner import Runner


def _runner() -> Runner:
    """A Runner whose work reports one event, then idles (no CPU) until stopped."""
    def work(on_progress, stop):
        on_progress(tr.Progress(1, 10, 0.1, 2.3, 10.0, 100.0, 0.1, 1.0))
        stop.wait(60)
        return SimpleNamespace(stopped=True, diverged=None, batches=1, evaluation=None)

    return Runner(work)


def _until(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()


@pytest.fixture
def queue():
    q = runs.RunQueue(grace_s=0.3, poll_s=0.05)
    yield q
    for t in list(q._tickets):
        q.leave(t)


def test_ordinal():
    assert [runs.ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st"]


def test_one_run_at_a_time_in_arrival_order(queue):
    a, b, c = (queue.submit(_runner(), label=x) for x in "abc")
    assert a.runner.started and not b.runner.started and not c.runner.started
    assert [queue.position(t) for t in (a, b, c)] == [0, 1, 2] and queue.waiting() == 2
    a.runner.stop(timeout=5)
    assert _until(lambda: b.runner.started), "the next in line starts when the run ends"
    assert queue.position(a) is None and queue.position(b) == 0 and queue.position(c) == 1
    assert not c.runner.started


def test_leaving_the_line_ends_a_waiting_run_without_running_it(queue):
    a, b, c = (queue.submit(_runner()) for _ in range(3))
    queue.leave(b)
    snap = b.runner.snapshot()
    assert snap.state == "stopped" and "left the queue" in snap.message and not b.runner.started
    assert queue.position(b) is None and queue.position(c) == 1
    queue.leave(a)  # leaving while running stops the run
    assert not a.runner.running and a.runner.snapshot().state == "stopped"
    assert _until(lambda: c.runner.started)


def test_a_run_stops_when_its_session_ends(queue):
    alive = threading.Event()
    alive.set()
    a = queue.submit(_runner(), alive=alive.is_set)
    b = queue.submit(_runner())
    assert _until(lambda: a.runner.snapshot().history)
    time.sleep(0.2)
    assert a.runner.running, "a live session's run goes on"
    alive.clear()  # the tab is closed
    assert _until(lambda: not a.runner.running, 5), "the run ends once the session is gone"
    snap = a.runner.snapshot()
    assert snap.state == "stopped" and snap.message.startswith("Stopped because the session that started it ended")
    assert _until(lambda: b.runner.started), "and the next in line gets the machine"


def test_a_blip_shorter_than_the_grace_does_not_stop_a_run(queue):
    flag = {"alive": True}
    a = queue.submit(_runner(), alive=lambda: flag["alive"])
    flag["alive"] = False
    time.sleep(0.1)  # < grace 0.3 s
    flag["alive"] = True
    time.sleep(0.5)
    assert a.runner.running


def test_a_waiting_ticket_whose_session_ended_leaves_the_line(queue):
    a = queue.submit(_runner())
    b = queue.submit(_runner(), alive=lambda: False)
    c = queue.submit(_runner())
    assert _until(lambda: queue.position(b) is None)
    assert b.runner.snapshot().state == "stopped" and not b.runner.started
    assert queue.position(c) == 1 and queue.position(a) == 0


def test_the_watchdog_ends_when_the_line_is_empty(queue):
    a = queue.submit(_runner())
    watchdog = queue._watchdog
    assert watchdog.is_alive()
    queue.leave(a)
    assert _until(lambda: not watchdog.is_alive()), "no thread polls an empty queue"
    b = queue.submit(_runner())  # a new ticket starts a new watchdog
    assert b.runner.started and queue._watchdog.is_alive()


def test_stop_before_start_cancels():
    r = _runner()
    assert r.stop(timeout=1) and not r.started
    assert r.snapshot().state == "stopped" and r.snapshot().message == "Stopped by you before it started."


def test_bad_slots():
    with pytest.raises(ValueError, match="slots must be >= 1, got 0"):
        runs.RunQueue(slots=0)


HOLD_A_RUN = """
import sys
from pathlib import Path
from types import SimpleNamespace
from cnnviz import runs
from cnnviz.runner import Runner

def work(on_progress, stop):
    print("training", flush=True)
    sys.stdin.readline()  # until the test says the run is over
    return SimpleNamespace(stopped=False, diverged=None, batches=1, evaluation=None)

queue = runs.RunQueue(poll_s=0.05)
ticket = queue.submit(Runner(work))
ticket.runner._thread.join()
"""


def _other_replica(tmp_path):
    """Another server process with a run training, sharing the folder $CNNVIZ_SHARED = tmp_path."""
    import os
    import subprocess
    import sys
    proc = subprocess.Popen([sys.executable, "-c", HOLD_A_RUN], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, cwd=Path(runs.__file__).parents[1],
                            env={**os.environ, "CNNVIZ_SHARED": str(tmp_path)})
    assert proc.stdout.readline().strip() == "training"
    return proc


@pytest.mark.slow
def test_two_server_processes_share_one_training_slot(tmp_path, monkeypatch):
    """Each replica had its own queue, so three replicas trained three runs at once on one machine."""
    monkeypatch.setenv("CNNVIZ_SHARED", str(tmp_path))
    other = _other_replica(tmp_path)
    queue = runs.RunQueue(grace_s=0.3, poll_s=0.05)
    try:
        mine, next_ = queue.submit(_runner()), queue.submit(_runner())
        time.sleep(0.3)
        assert not mine.runner.started, "the other replica's run trains: this one waits"
        assert [queue.position(mine), queue.position(next_)] == [1, 2]  # "you are 2nd in line": that run is 1st
        other.stdin.write("done\n")
        other.stdin.flush()
        assert other.wait(timeout=30) == 0
        assert _until(lambda: mine.runner.started), "it starts once the other replica's run has ended"
        assert queue.position(mine) == 0 and not next_.runner.started
    finally:
        other.kill()
        for t in list(queue._tickets):
            queue.leave(t)


@pytest.mark.slow
def test_a_replica_that_dies_while_training_frees_the_slot(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNVIZ_SHARED", str(tmp_path))
    other = _other_replica(tmp_path)
    queue = runs.RunQueue(grace_s=0.3, poll_s=0.05)
    try:
        mine = queue.submit(_runner())
        time.sleep(0.2)
        assert not mine.runner.started
        other.kill()  # no clean exit: the kernel lets go of its lock
        other.wait(timeout=30)
        assert _until(lambda: mine.runner.started)
    finally:
        for t in list(queue._tickets):
            queue.leave(t)
