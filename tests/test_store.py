"""cnnviz.store: checkpoints and own datasets share one crash-safe store and one clean-up rule."""
from __future__ import annotations

import os
import time

from cnnviz import checkpoints, owndata, store


def _dead_pid() -> int:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


def _entry(base, prefix, pid, name):
    path = base / f"{prefix}{store.HOST}-{pid}-abc123-{name}"
    (path / "inside").mkdir(parents=True)
    return path


def test_the_one_rule(tmp_path):
    dead, live = _dead_pid(), os.getpid()
    grave = _entry(tmp_path, store.DELETED, live, "gone")      # a delete is decided: removed at once
    building = _entry(tmp_path, store.TEMP, live, "a")         # a write still running: kept
    crashed = _entry(tmp_path, store.TEMP, dead, "b")          # its writer died: removed
    back = _entry(tmp_path, store.OLD, dead, "c")              # replaced, the new one never came: put back
    (tmp_path / "d").mkdir()
    stale_old = _entry(tmp_path, store.OLD, dead, "d")         # replaced, and the new one is there: removed
    foreign = tmp_path / f"{store.TEMP}otherhost-1-abc-e"      # another machine's write: only its age counts
    foreign.mkdir()
    done = store.cleanup(tmp_path, lambda name: True)
    assert not grave.exists() and building.exists() and not crashed.exists() and foreign.exists()
    assert not back.exists() and (tmp_path / "c" / "inside").is_dir() and not stale_old.exists()
    assert "restored c" in done
    old = time.time() - store.STALE_SECONDS - 1
    for path in (building, foreign):
        os.utime(path, (old, old))
    store.cleanup(tmp_path, lambda name: True)
    assert not building.exists() and not foreign.exists()


def test_checkpoints_and_own_datasets_are_stores_with_the_same_rule(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNVIZ_USER_CHECKPOINTS", str(tmp_path / "ck"))
    monkeypatch.setenv("CNNVIZ_USER_DATA", str(tmp_path / "own"))
    assert checkpoints.user_dir() == tmp_path / "ck" and owndata.user_dir() == tmp_path / "own"
    dead = _dead_pid()
    leftovers = [_entry(tmp_path / "ck", store.TEMP, dead, "m"), _entry(tmp_path / "own", store.TEMP, dead, "toy")]
    checkpoints.available()
    owndata.available()  # an import killed a minute ago: its build folder goes now, not after an hour
    assert not any(p.exists() for p in leftovers)
