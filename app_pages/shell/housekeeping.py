"""Server housekeeping (not a page): what a closed tab uploaded leaves the server's memory.

Streamlit keeps a closed tab's session for server.disconnectedSessionTTL (120 s) so a phone that reconnects
loses nothing. When that time is up nothing calls the session's shutdown: its store (a TTL cache that reaps
only when another session is written to it) keeps the whole session, with its widget values (a copy of each
uploaded picture), and the uploaded-file manager keeps the uploads (19 MB for a phone photo), both for as long
as no other tab closes, and the uploads for the life of the server. Every SWEEP_S seconds a sweep reaps the
expired sessions and shuts each down as Streamlit does a session it will not resume, drops any upload whose
session the server no longer knows, and trims malloc's heaps. Blocks of 4 MB and more get their own mappings
(memory.hand_back_big_blocks), so what the sweep frees leaves the process's resident memory. It reads
Streamlit's runtime internals, pinned
in requirements.txt (streamlit==1.67.0); tests/test_housekeeping.py runs it against the real managers.
"""
from __future__ import annotations

import threading
import time

from streamlit.runtime import Runtime

from app_pages.shell import server_guards
from cnnviz import serverwide
from cnnviz.memory import give_back_freed_memory, hand_back_big_blocks

SWEEP_S = 30


def reap_expired(sessions) -> int:
    """Shut down the closed tabs' sessions whose time to reconnect is up; how many."""
    cache = getattr(getattr(sessions, "_session_storage", None), "_cache", None)
    if not hasattr(cache, "expire"):
        return 0
    with sessions._storage_lock:  # the lock a reconnecting tab takes to resume its session
        removed = cache.expire()
    for _, info in removed:
        info.session.shutdown()  # its uploads, media and state go, as for a session Streamlit does not keep
    return len(removed)


def sweep(runtime: Runtime) -> int:
    """Reap expired sessions, drop uploads and media of sessions that are gone; how many sessions were swept."""
    reaped = reap_expired(runtime._session_mgr)
    alive = {info.session.id for info in runtime._session_mgr.list_sessions()}  # active + kept for reconnecting
    server_guards.unlocked().keep_only(alive)  # who entered the class code: only sessions that still exist
    uploads = runtime.uploaded_file_mgr
    gone = [sid for sid in list(getattr(uploads, "file_storage", {})) if sid not in alive]
    for session_id in gone:
        uploads.remove_session_files(session_id)
        runtime.media_file_mgr.clear_session_refs(session_id)
    if gone:
        runtime.media_file_mgr.remove_orphaned_files()
    if gone or reaped:
        give_back_freed_memory()
    return reaped + len(gone)


def _loop() -> None:
    while True:
        time.sleep(SWEEP_S)
        if Runtime.exists():
            try:
                sweep(Runtime.instance())
            except Exception as err:  # noqa: BLE001 - a failed sweep is retried; it must never end the thread
                print(f"cnnviz housekeeping: sweep failed: {err!r}")


def _begin() -> threading.Thread:
    hand_back_big_blocks()  # freed uploads and decoded photos leave the process, not only its heap
    sweeper = threading.Thread(target=_loop, name="cnnviz-housekeeping", daemon=True)
    sweeper.start()
    return sweeper


def start() -> None:
    """Start the sweeping thread once per server process (app.py calls this on every run: after the first,
    a dictionary look-up)."""
    serverwide.single("housekeeping", _begin)
