"""cnnviz.serverwide: one object per process and name, made once even when the first callers race."""
from __future__ import annotations

import threading
import time

from cnnviz import serverwide


def test_the_same_object_every_time():
    made = []
    first = serverwide.single("test: a list", lambda: made.append(1) or [])
    assert serverwide.single("test: a list", list) is first and made == [1]
    assert serverwide.single("test: another", list) is not first


def test_racing_first_callers_get_one_object():
    made, barrier = [], threading.Barrier(8)

    def slow_make() -> object:
        made.append(1)
        time.sleep(0.05)  # a slow constructor: the others arrive meanwhile
        return object()

    got = []

    def call() -> None:
        barrier.wait()
        got.append(serverwide.single("test: raced", slow_make))

    threads = [threading.Thread(target=call) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(made) == 1 and len({id(g) for g in got}) == 1
