"""A folder of named things that ship with cnnviz beside a folder of the user's own, written crash-safe.

Checkpoints (cnnviz.checkpoints) and own datasets (cnnviz.owndata) are each a `Store`: a shipped folder
(read-only) and a user folder (an environment variable, else `<shipped>/user`, git-ignored). Names are the
entries' folder names; hidden entries (a leading '.') are never listed.

Writers never change an entry in place. They build a new one in a hidden folder and rename it in; what they
replace or delete is renamed away to a hidden folder first. Hidden names say who made them:
`<prefix><host>-<pid>-<random>-<name>`, with the prefix saying what it was:

    .tmp-   an entry being built        .old-   an entry being replaced        .del-   an entry being deleted

One rule finishes what a crash left (`Store.cleanup`, run by every listing and every write): a `.del-` entry
is removed at once (the delete was decided); a `.tmp-` or `.old-` entry whose writer is gone (its process
has died on this host, or it is older than STALE_SECONDS, which no running write is, even on another host
sharing the folder) is removed, except an `.old-` one whose name is free: that one is put back, since its
replacement never arrived.
"""
from __future__ import annotations

import os
import re
import shutil
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

TEMP, OLD, DELETED = ".tmp-", ".old-", ".del-"
STALE_SECONDS = 15 * 60           # a hidden folder this old belongs to no running write (even on another host)
HOST = re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:32] or "host"


@dataclass(frozen=True)
class Store:
    """A shipped folder and a user folder of named entries (see the module docstring)."""

    shipped: Path
    user_env: str                                   # the environment variable naming the user folder
    valid_name: Callable[[str], bool] = lambda name: bool(name) and not name.startswith(".")

    def user_dir(self) -> Path:
        """Where the user's entries go: $<user_env>, else <shipped>/user (git-ignored)."""
        return Path(os.environ.get(self.user_env) or self.shipped / "user")

    def bases(self) -> list[tuple[Path, bool]]:
        """(folder, shipped?) in listing order: shipped first."""
        return [(self.shipped, True), (self.user_dir(), False)]

    def cleanup(self, base: str | Path | None = None) -> list[str]:
        """Finish what crashed writes left in `base` (default: the user folder), by the one rule of the module
        docstring. Returns what it did, one line each."""
        return cleanup(Path(base) if base is not None else self.user_dir(), self.valid_name)


def hidden(prefix: str, name: str) -> str:
    """A fresh hidden folder name for `name`, saying what it is and which process made it."""
    return f"{prefix}{HOST}-{os.getpid()}-{uuid.uuid4().hex[:12]}-{name}"


def writer_gone(entry: Path) -> bool:
    """True when the write that made this hidden folder cannot still be running."""
    try:
        age = time.time() - entry.lstat().st_mtime
    except FileNotFoundError:
        return False
    if age > STALE_SECONDS:
        return True
    parts = entry.name.split("-")  # .tmp-<host>-<pid>-<hex>-<name>
    if len(parts) < 5 or parts[1] != HOST or not parts[2].isdigit():
        return False  # another machine's write (a shared folder): trust only the age
    try:
        os.kill(int(parts[2]), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError):
        return False
    return False


def cleanup(base: Path, valid_name: Callable[[str], bool]) -> list[str]:
    """The one clean-up rule (module docstring) applied to `base`; one line per thing done."""
    done: list[str] = []
    try:
        entries = [e for e in base.iterdir() if e.name.startswith((TEMP, OLD, DELETED))]
    except OSError:
        return done
    for entry in sorted(entries, key=lambda e: not e.name.startswith(OLD)):  # restore first, then delete
        if not entry.name.startswith(DELETED) and not writer_gone(entry):
            continue
        name = entry.name.split("-", 4)[-1]
        if entry.name.startswith(OLD) and valid_name(name) and not (base / name).exists():
            try:
                os.rename(entry, base / name)
                done.append(f"restored {name}")
                continue
            except OSError:
                pass
        shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink(missing_ok=True)
        done.append(f"removed {entry.name}")
    return done
