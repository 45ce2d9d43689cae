"""cnnviz.shared: the folder replicas share, and the file locks that make a limit hold for all of them."""
from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from cnnviz import shared

ROOT = Path(shared.__file__).resolve().parents[1]


def test_the_folder_is_the_environments_else_one_of_this_machine(tmp_path, monkeypatch):
    monkeypatch.setenv(shared.ENV, str(tmp_path / "class"))
    assert shared.folder() == tmp_path / "class" and (tmp_path / "class").is_dir()
    monkeypatch.delenv(shared.ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert shared.folder() == tmp_path / "cache" / "cnnviz" / "shared"


def test_a_slot_is_held_by_one_at_a_time_and_freed_by_release(tmp_path):
    first = shared.try_hold(tmp_path / "slot")
    assert first is not None and shared.try_hold(tmp_path / "slot") is None  # another handle, same process
    held_elsewhere = subprocess.run([sys.executable, "-c", "import sys; from pathlib import Path; "
                                     "from cnnviz import shared; print(shared.try_hold(Path(sys.argv[1])) is None)",
                                     str(tmp_path / "slot")], capture_output=True, text=True, cwd=ROOT, check=True)
    assert held_elsewhere.stdout.strip() == "True"
    first.release()
    first.release()  # twice is harmless
    again = shared.try_hold(tmp_path / "slot")
    assert again is not None
    again.release()


def test_locked_lets_one_writer_in_at_a_time(tmp_path):
    path = tmp_path / "count.txt"
    path.write_text("0")

    def bump():
        for _ in range(50):
            with shared.locked(tmp_path / "count.lock"):
                n = int(path.read_text())
                shared.write_atomic(path, str(n + 1))

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert int(path.read_text()) == 200 and not list(tmp_path.glob(".*.tmp"))  # no update lost, no temp file left
