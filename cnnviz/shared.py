"""What the replicas of one class share beyond models and datasets: a folder, and file locks in it.

Replicas (deploy/compose.yaml) are separate processes, usually containers on one machine. A limit that must
hold for the whole class (wrong class-code guesses a minute: cnnviz.access; one training run at a time:
cnnviz.runs) is kept in files in $CNNVIZ_SHARED, guarded by `fcntl.flock`. The kernel drops a flock when the
process holding it dies, so a crashed replica never leaves a lock behind. Without $CNNVIZ_SHARED a per-user
folder of this machine is used: one server behaves as before, and servers started by hand on one machine
share it too. Where fcntl does not exist (Windows) the locks hold within one process only.
"""
from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: one process is one server there
    fcntl = None

ENV = "CNNVIZ_SHARED"
_LOCAL = threading.Lock()          # without fcntl: one lock for the whole process
_HELD: set[str] = set()            # without fcntl: the paths this process holds


def folder() -> Path:
    """The shared folder (made when missing): $CNNVIZ_SHARED, else a per-user folder of this machine."""
    named = os.environ.get(ENV, "").strip()
    if named:
        path = Path(named)
    else:
        cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        path = Path(cache) / "cnnviz" / "shared"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        if named:
            raise
        path = Path(tempfile.gettempdir()) / f"cnnviz-shared-{os.getuid() if hasattr(os, 'getuid') else 0}"
        path.mkdir(mode=0o700, exist_ok=True)  # a home that cannot be written (a service account)
    return path


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on the file `path` (made when missing) for the with-block, waiting for any holder."""
    if fcntl is None:
        with _LOCAL:
            yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing lets go of the lock


class Hold:
    """A lock `try_hold` took; `release()` lets go (so does the end of the process)."""

    def __init__(self, path: Path, fd: int | None) -> None:
        self.path, self._fd = path, fd

    def release(self) -> None:
        """Let go of the lock (again: nothing)."""
        fd, self._fd = self._fd, None
        if fcntl is None:
            with _LOCAL:
                _HELD.discard(str(self.path))
        elif fd is not None:
            os.close(fd)


def try_hold(path: Path) -> Hold | None:
    """Take an exclusive lock on the file `path` (made when missing) without waiting; None when it is held.

    Another process, or another `try_hold` in this one, holding it counts as held (flock locks an open file).
    """
    if fcntl is None:
        with _LOCAL:
            if str(path) in _HELD:
                return None
            _HELD.add(str(path))
        return Hold(path, None)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return Hold(path, fd)


def write_atomic(path: Path, text: str) -> None:
    """Replace the file `path` with `text` in one step: a reader sees the old text or the new, never half."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
