"""The background runner the app polls: `work(on_progress, stop_event)` in a daemon thread whose progress
events and results the page reads through `Runner.snapshot()`, under a lock."""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cnnviz.messages import no_paths

if TYPE_CHECKING:  # hints only: a runner keeps the events, torch is not needed to queue or poll one
    from cnnviz.train import Progress


@dataclass
class Snapshot:
    """A copy of a Runner's state for the page: safe to read while the thread runs on."""

    state: str                       # "running", "done", "stopped", "failed"
    history: list[Progress]
    results: list[Any]
    message: str | None
    job: str

    @property
    def tested(self) -> list[Any]:
        """The results that were tested (a run that blew up has no test; a stopped one has)."""
        return [r for r in self.results if getattr(r, "evaluation", None) is not None]

    def kept(self) -> Any | None:
        """The first tested result once the run has ended (done, or stopped when good enough): what can be kept."""
        return self.tested[0] if self.state in ("done", "stopped") and self.tested else None


class Runner:
    """Runs `work(on_progress, stop_event) -> result or list of results` in a daemon thread.

    Owns no Streamlit objects: progress goes into a list under a lock; the page calls `snapshot()`.
    """

    def __init__(self, work: Callable[[Callable[[Progress], None], threading.Event], Any]) -> None:
        self._work = work
        self._lock = threading.Lock()
        self._history: list[Progress] = []
        self._results: list[Any] = []
        self._state = "running"
        self._message: str | None = None
        self.stop_event = threading.Event()
        self._stopped_why = "Stopped by you"
        self._thread = threading.Thread(target=self._run, name="cnnviz-trainer", daemon=True)

    def start(self) -> Runner:
        """Start the thread; returns self."""
        self._thread.start()
        return self

    @property
    def started(self) -> bool:
        """True once start() was called (a queued Runner waits unstarted: see cnnviz.runs)."""
        return self._thread.ident is not None

    def cancel(self, message: str) -> None:
        """End a Runner that never started: state 'stopped' with `message` (it will not run)."""
        self.stop_event.set()
        with self._lock:
            if self._thread.ident is None:
                self._state, self._message = "stopped", message

    def _on_progress(self, event: Progress) -> None:
        with self._lock:
            self._history.append(event)

    def _run(self) -> None:
        try:
            out = self._work(self._on_progress, self.stop_event)
            results = out if isinstance(out, list) else [out]
            state, message = "done", None
            for r in results:
                if getattr(r, "diverged", None):
                    state, message = "failed", r.diverged
                elif getattr(r, "stopped", False):
                    state = "stopped"
                    tested = getattr(r, "evaluation", None) is not None
                    message = f"{self._stopped_why} after {r.batches:,} batches. " + (
                        "It was tested as it was then: keep it with Save if it is good enough." if tested
                        else "It was not tested, so there is nothing to save.")
        except Exception as err:  # the page shows the message; the thread must never die silently
            results, state, message = [], "failed", f"{type(err).__name__}: {no_paths(err)}"
        with self._lock:
            self._results, self._state, self._message = results, state, message

    def stop(self, timeout: float = 1.0, why: str | None = None) -> bool:
        """Ask the run to stop (`why` opens its message) and wait up to `timeout` s; True when it has ended."""
        if why:
            self._stopped_why = why
        if not self.started:
            self.cancel(f"{why or 'Stopped by you'} before it started.")
            return True
        self.stop_event.set()
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def snapshot(self) -> Snapshot:
        """State, full history, results and message, copied under the lock."""
        with self._lock:
            job = self._history[-1].job if self._history else ""
            return Snapshot(self._state, list(self._history), list(self._results), self._message, job)
