"""An optional class code: the teacher sets CNNVIZ_CLASS_CODE, each student enters it once per session.

Nothing here knows Streamlit: the app's gate (app_pages/shell/gate.py) asks `class_code()`, checks what a
student typed with `Gate.check` and keeps the result in the session. Codes are compared in constant
time (hmac.compare_digest over SHA-256 digests, so neither content nor length leaks through timing),
are never logged and never put in a URL. Wrong guesses are slowed twice: per session (a growing wait
after a few tries) and per server (at most `server_limit` wrong guesses a minute from everyone together,
so opening new tabs does not buy more guesses). `UnlockedSessions` lets the server's own checks (the upload
route, app_pages/shell/server_guards.py) tell by session id who entered the code; `who_can_reach` is the sidebar's
line on who can open the server at all.

`is_teacher` tells the teacher's browser from the students': the one on the server's own computer.

"Everyone" spans the replicas of a class: the recent wrong
guesses are kept in a file of the shared folder (cnnviz.shared, $CNNVIZ_SHARED), read and written under
its lock, so three replicas do not give three times the guesses.
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cnnviz import shared

ENV = "CNNVIZ_CLASS_CODE"
TEACHER_ENV = "CNNVIZ_TEACHER_CODE"  # opens the Class page (the class's drawings) from any computer
PROXY_HEADERS = ("x-forwarded-for", "x-real-ip", "forwarded")  # a proxy relayed it: the peer address is the proxy's
FAILS_FILE = "class-code-wrong.txt"   # in the shared folder: one time of a recent wrong guess a line
FREE_TRIES = 5          # wrong codes a session may type before it has to wait
MAX_WAIT_S = 300.0      # the longest a session waits between guesses


def class_code(environ: dict[str, str] | None = None) -> str | None:
    """The class code the teacher set in $CNNVIZ_CLASS_CODE (None when unset or blank: the app is open)."""
    code = (environ if environ is not None else os.environ).get(ENV, "").strip()
    return code or None


def teacher_code(environ: dict[str, str] | None = None) -> str | None:
    """The teacher code in $CNNVIZ_TEACHER_CODE (None when unset or blank: the Class page is for this computer only)."""
    code = (environ if environ is not None else os.environ).get(TEACHER_ENV, "").strip()
    return code or None


def _digest(code: str) -> bytes:
    return hashlib.sha256(code.strip().casefold().encode("utf-8", "surrogatepass")).digest()


def code_matches(given: str, expected: str) -> bool:
    """True when `given` is the class code (spaces around and letter case ignored), in constant time."""
    if not isinstance(given, str) or not isinstance(expected, str) or not expected.strip():
        return False
    return hmac.compare_digest(_digest(given), _digest(expected))


def session_wait(failures: int) -> float:
    """Seconds a session waits before its next guess after `failures` wrong ones: 0, then 2, 4, 8 ... 300."""
    if failures < FREE_TRIES:
        return 0.0
    return min(MAX_WAIT_S, 2.0 ** (failures - FREE_TRIES + 1))


@dataclass(frozen=True)
class Verdict:
    """What one attempt got: in or not, and a message for the student when not."""

    ok: bool
    message: str = ""
    wrong: bool = False  # a guess that was judged and failed (counts towards the session's wait)


class Gate:
    """Checks attempts against the class code; one budget of wrong guesses for every session of every replica
    sharing a folder (thread- and process-safe). `clock` must be one all of them read: time.monotonic is the
    machine's, so replicas on one machine share it."""

    def __init__(self, server_limit: int = 30, window_s: float = 60.0, clock=time.monotonic,
                 folder: Path | None = None) -> None:
        self._lock = threading.Lock()
        self._limit, self._window, self._clock = server_limit, window_s, clock
        self._folder = folder  # None: cnnviz.shared.folder() at each check ($CNNVIZ_SHARED)

    def check(self, given: str, expected: str, failures: int, last_failure: float | None) -> Verdict:
        """Judge one attempt by a session that has `failures` wrong ones so far (the last at `last_failure`)."""
        now = self._clock()
        wait = session_wait(failures)
        if last_failure is not None and now - last_failure < wait:
            return Verdict(False, f"Too many wrong codes: wait {wait - (now - last_failure):.0f} s and try again.")
        folder = self._folder or shared.folder()
        with self._lock, shared.locked(folder / (FAILS_FILE + ".lock")):
            fails = self._recent(folder / FAILS_FILE, now)
            if len(fails) >= self._limit:
                return Verdict(False, "Too many wrong codes on this server just now: wait a minute and try again.")
            if code_matches(given, expected):
                return Verdict(True)
            shared.write_atomic(folder / FAILS_FILE, "".join(f"{t!r}\n" for t in [*fails, now][-self._limit:]))
        return Verdict(False, "That is not the class code. Ask your teacher for it.", wrong=True)

    def _recent(self, path: Path, now: float) -> list[float]:
        """The wrong guesses of the last window_s seconds in the file (a damaged line, or a time ahead of now
        from before a reboot, counts for nothing)."""
        try:
            lines = path.read_text(encoding="utf-8").split()[-self._limit:]
        except (FileNotFoundError, UnicodeDecodeError):
            return []
        times = []
        for line in lines:
            try:
                t = float(line)
            except ValueError:
                continue
            if 0 <= now - t <= self._window:
                times.append(t)
        return times


class UnlockedSessions:
    """The ids of the sessions that entered the class code, for the server's own checks (thread-safe).

    The upload route and the websocket handlers know a session only by its id, not its st.session_state;
    the gate adds an id here when its session enters the code, and housekeeping forgets the sessions that ended.
    """

    def __init__(self) -> None:
        self._ids: set[str] = set()
        self._lock = threading.Lock()

    def add(self, session_id: str) -> None:
        """Remember that this session entered the class code."""
        with self._lock:
            self._ids.add(session_id)

    def __contains__(self, session_id: object) -> bool:
        with self._lock:
            return session_id in self._ids

    def keep_only(self, alive: Iterable[str]) -> int:
        """Forget every session not in `alive` (they ended); how many were forgotten."""
        alive = set(alive)
        with self._lock:
            gone = self._ids - alive
            self._ids -= gone
        return len(gone)


_EVERY_INTERFACE = {"", "0.0.0.0", "::"}


def _loopback(address: str) -> bool:
    if address.casefold() == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:  # a host name: whoever can resolve and reach it
        return False


def who_can_reach(address: str | None, code_set: bool) -> str:
    """Who can open this server, from Streamlit's server.address (None: unset) and whether a class code is set."""
    address = (address or "").strip()
    if _loopback(address):
        return "Only this computer can open this app."
    who = "Anyone on this network" if address in _EVERY_INTERFACE else f"Anyone who can reach {address}"
    if code_set:
        return f"{who} can open this app, with the class code."
    return (f"{who} can open this app: set {ENV} to lock it, or run it with --server.address 127.0.0.1 "
            "to keep it to this computer.")


def is_teacher(ip_address: str | None, header_names: Iterable[str]) -> bool:
    """True for a browser on the server's own computer: connected over loopback (Streamlit's st.context.ip_address
    is None for 127.0.0.1 and ::1), not through a proxy. No headers: no browser connection (AppTest), not the teacher.
    """
    names = {str(h).lower() for h in header_names}
    if not names or names & set(PROXY_HEADERS):
        return False  # behind a proxy on this computer every student would look local: nobody is, there
    if ip_address is None:
        return True
    try:
        ip = ipaddress.ip_address(ip_address)
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return (mapped or ip).is_loopback
