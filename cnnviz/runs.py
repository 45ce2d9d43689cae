"""One training run at a time per server (every replica of a class together), in arrival order; a run ends
when its session ends.

Two runs on 2 cores starve each other (each at half speed, both late, and the
drawing students' answers slow down too), so a class shares one queue: the
head runs, the others wait and see "another run is training: you are 2nd in
line", and anyone may leave the line. Each ticket carries an `alive()` callable
from the page (built on the server's session registry: the library never imports
streamlit); when it has answered False for `grace_s` seconds (a closed or
reloaded tab), the run is stopped or the ticket leaves the line.

Replicas are separate processes: a run may only start while it holds one of the `slots` slot files of the
shared folder (cnnviz.shared, $CNNVIZ_SHARED) under an flock, held from its start until it has ended (the
kernel lets go if the replica dies). While another replica's run holds it, this replica's line waits, and
each replica's line keeps its own arrival order; when the slot frees, the replica that asks first gets it.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cnnviz import shared
from cnnviz.runner import Runner

SLOT_FILE = "training-slot-{}.lock"   # in the shared folder; a run holds one from its start to its end


def ordinal(n: int) -> str:
    """1 -> '1st', 2 -> '2nd', 11 -> '11th', 23 -> '23rd'."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


@dataclass(eq=False)
class Ticket:
    """One session's place in the queue: its Runner (started when its turn comes) and how to tell it is alive."""

    runner: Runner
    alive: Callable[[], bool]
    label: str = ""
    left: bool = False
    dead_since: float | None = field(default=None, repr=False)
    slot: shared.Hold | None = field(default=None, repr=False)   # the shared slot its run holds


class RunQueue:
    """A FIFO of tickets; at most `slots` Runners run at once. A watchdog thread exists only while tickets do."""

    def __init__(self, slots: int = 1, grace_s: float = 5.0, poll_s: float = 0.5, folder: Path | None = None) -> None:
        if slots < 1:
            raise ValueError(f"slots must be >= 1, got {slots!r}")
        self.slots, self.grace_s, self.poll_s = slots, grace_s, poll_s
        self._folder = folder  # None: cnnviz.shared.folder() when a slot is taken ($CNNVIZ_SHARED)
        self._lock = threading.Lock()
        self._tickets: list[Ticket] = []   # running first (up to `slots`), then waiting, in arrival order
        self._watchdog: threading.Thread | None = None

    def submit(self, runner: Runner, alive: Callable[[], bool] = lambda: True, label: str = "") -> Ticket:
        """Queue an unstarted Runner; it starts at once when a slot is free. Returns the ticket."""
        ticket = Ticket(runner, alive, label)
        with self._lock:
            self._tickets.append(ticket)
            self._advance()
            if self._watchdog is None or not self._watchdog.is_alive():
                self._watchdog = threading.Thread(target=self._watch, name="cnnviz-run-queue", daemon=True)
                self._watchdog.start()
        return ticket

    def position(self, ticket: Ticket) -> int | None:
        """0 while it runs, k when k-th in line to start (here: a run of another replica is ahead of the 1st),
        None once it has ended or left."""
        with self._lock:
            if ticket not in self._tickets:
                return None
            if ticket.runner.started:
                return 0
            running = sum(1 for t in self._tickets if t.runner.started)
            return self._tickets.index(ticket) - running + 1

    def waiting(self) -> int:
        """How many tickets wait for a slot."""
        with self._lock:
            return sum(1 for t in self._tickets if not t.runner.started)

    def leave(self, ticket: Ticket, message: str = "You left the queue before your run started.",
              timeout: float = 1.0) -> None:
        """Leave the line (the Runner ends as 'stopped' without running) or stop the run if it is running,
        waiting up to `timeout` s for it to end (a stopped run is tested first)."""
        with self._lock:
            ticket.left = True
            started = ticket.runner.started
            if not started:
                ticket.runner.cancel(message)
                if ticket in self._tickets:
                    self._tickets.remove(ticket)
        if started:
            ticket.runner.stop(timeout=timeout)

    def _advance(self) -> None:
        """Under the lock: drop finished runs (their slots freed), start waiting ones while a slot is free here
        and in the shared folder."""
        for t in self._tickets:
            if t.runner.started and not t.runner.running and t.slot is not None:
                t.slot.release()
                t.slot = None
        self._tickets = [t for t in self._tickets if not (t.runner.started and not t.runner.running)]
        for t in self._tickets[: self.slots]:
            if not t.runner.started:
                t.slot = self._take_slot()
                if t.slot is None:
                    return  # every slot is held by a run of another replica: the watchdog asks again
                t.runner.start()

    def _take_slot(self) -> shared.Hold | None:
        folder = self._folder or shared.folder()
        for i in range(self.slots):
            if (hold := shared.try_hold(folder / SLOT_FILE.format(i))) is not None:
                return hold
        return None

    def _sweep(self, now: float) -> list[Ticket]:
        """Under the lock: tickets whose session has been gone for grace_s (their runs must stop)."""
        gone = []
        for t in list(self._tickets):
            try:
                alive = bool(t.alive())
            except Exception:  # a broken check must not kill the watchdog; treat the session as alive
                alive = True
            t.dead_since = None if alive else (t.dead_since or now)
            if t.dead_since is not None and now - t.dead_since >= self.grace_s:
                gone.append(t)
                if not t.runner.started:
                    t.runner.cancel("Your session ended before your run started.")
                    self._tickets.remove(t)
        return [t for t in gone if t.runner.started]

    def _watch(self) -> None:
        while True:
            with self._lock:
                stop = self._sweep(time.monotonic())
            for t in stop:  # outside the lock: stopping waits for the training thread
                t.runner.stop(timeout=5.0, why="Stopped because the session that started it ended "
                                               "(tab closed or reloaded)")
            with self._lock:
                self._advance()
                if not self._tickets:
                    self._watchdog = None
                    return
            time.sleep(self.poll_s)
