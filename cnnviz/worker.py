"""Training in its own process, so the app's server never slows it down (and it never slows the server).

Inside `streamlit run`, a training thread shares the interpreter lock with every page rerun: each time a
page builds its figures, the training loop's many short torch calls wait to get the lock back (measured with
bench/train_inapp.py: the app trained at 0.25x the CLI's img/s). `run` starts the work in a fresh
("spawn") process instead: Progress events come back through a queue, a stop request goes in through an
event, the work and its result (model, snapshots, evaluation) travel pickled by value (no shared memory).

A server passes a `Launcher` to go faster at Start (bench/interactions.py, trainer row: 7.9 s to the first batch on
screen before): a spare process started ahead of time has already imported torch and waits for its job, and the
datasets go by reference (cnnviz/byreference.py) instead of 209 MB pickled.
"""
from __future__ import annotations

import contextlib
import importlib
import multiprocessing as mp
import os
import pickle
import queue as queues
import sys
import tempfile
import threading
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cnnviz import memory

POLL_S = 0.05  # how often the relay looks at the queue and the stop flag
PARENT_POLL_S = 0.2  # how often a training process checks that its server still runs
JOB_PREFIX = "cnnviz-train-"  # the job files in the temp folder: cnnviz-train-<server pid>-<random>.pkl
# What a spare imports while it waits (~1.5 s of a core): torch._refs, which a run's first model imports, is time a
# spare would otherwise spend after Start. Neither its optimizer (cnnviz.lazydynamo) nor its model (cnnviz.rng.build)
# imports torch._dynamo or sympy any more.
SPARE_IMPORTS = ("torch", "torch._refs", "cnnviz.train", "cnnviz.byreference")
NICE = 10      # in a class, the training process yields the cores to the pages: a stroke on Draw is answered first


def spare_wanted() -> bool:
    """False when $CNNVIZ_TRAIN_SPARE is 0: no spare process waits (it holds ~670 MB RSS, ~360 MB its own)."""
    return os.environ.get("CNNVIZ_TRAIN_SPARE", "1").strip() != "0"


def niceness() -> int:
    """How much lower a training process's priority is while others use the server: $CNNVIZ_TRAIN_NICE (0-19), or NICE.

    Not for a run alone on a machine (a student at home): there is no one to yield to, and its own browser's
    redraws would only interrupt its OpenMP threads sooner (bench/train_inapp.py, alone: 0.61 of the CLI's img/s
    at nice 10, 0.63-0.67 at 0 on the same machine). The page chooses (app_pages/parts/runqueue.py); `run(nice=...)`
    applies it.
    """
    raw = os.environ.get("CNNVIZ_TRAIN_NICE", "").strip()
    try:
        value = int(raw) if raw else NICE
    except ValueError:
        return NICE
    return min(max(value, 0), 19)


def _child(job_path: str, out, stop, nice: int = 0, parent: int | None = None) -> None:
    """In the child: run the pickled (fn, args, kwargs), sending ("progress", event) ... then ("done", result).

    `parent`: end with that process (None: already watched, as a spare is from its start)."""
    try:
        job = open(job_path, "rb")
    except OSError as err:  # the parent gave up (and removed it) before this process got here
        out.put(("error", pickle.dumps(RuntimeError(f"the training job was gone before it started ({err})"))))
        return
    with contextlib.suppress(OSError):
        os.remove(job_path)  # read from the open file: from now on a killed server leaves no file behind
    if parent is not None:
        _end_with(parent)
        memory.keep_freed_memory()  # this process only trains, then ends: batch after batch, reuse the same memory
    if nice > 0 and hasattr(os, "nice"):  # before torch starts its threads, which inherit it (no nice on Windows)
        with contextlib.suppress(OSError):
            os.nice(nice)
    try:
        with job:
            from cnnviz import byreference  # here, not at the top: it imports torch, which a spare imports at nice 19
            fn, args, kwargs = byreference.load(job)  # big tensors mapped from the server's files
        result = fn(*args, **kwargs, on_progress=lambda event: out.put(("progress", event)), stop_event=stop)
        out.put(("done", pickle.dumps(result)))
    except BaseException as err:  # everything goes back to the parent, which raises it there
        try:
            out.put(("error", pickle.dumps(err)))
        except Exception:  # an exception that cannot be pickled: its text still can
            out.put(("error", pickle.dumps(RuntimeError(f"{type(err).__name__}: {err}"))))


def _spare(jobs, out, stop, imported, parent: int, modules: tuple[str, ...], nice: int) -> None:
    """A spare training process: import `modules` (in a thread at `nice`), wait for a job, run it.

    Only the importing thread yields (Linux keeps a nice per thread): the main thread, which runs the job and
    starts torch's threads, keeps the priority the job asks for. `imported` is set once the imports are done
    (`Launcher.waiting`). A None job retires the spare.
    """
    _end_with(parent)
    memory.keep_freed_memory()
    threading.Thread(target=_preload, args=(modules, imported, nice), name="cnnviz-preload", daemon=True).start()
    job = jobs.get()
    if job is not None:
        _child(job[0], out, stop, job[1])


def _preload(modules: tuple[str, ...], imported, nice: int) -> None:
    if nice > 0 and sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(),
                           min(19, os.getpriority(os.PRIO_PROCESS, 0) + nice))  # this thread only
    for name in modules:
        importlib.import_module(name)
    imported.set()


class _Ready:
    """One spare process and its channels: jobs in, events out, the stop flag."""

    def __init__(self, ctx, modules: tuple[str, ...], nice: int) -> None:
        self.jobs, self.out, self.stop, self.imported = ctx.SimpleQueue(), ctx.Queue(), ctx.Event(), ctx.Event()
        self.proc = ctx.Process(target=_spare, args=(self.jobs, self.out, self.stop, self.imported, os.getpid(),
                                                     modules, nice), name="cnnviz-train", daemon=True)
        _start(self.proc)


class Launcher:
    """A server's way to start training processes fast: one spare waiting, big tensors sent by reference.

    `fill()` starts a spare unless one waits (the server calls it once its first page is served, and `run`
    after each run); `run(..., launcher=...)` hands its job to the spare. `shelf` keeps the datasets' files.
    `nice()` is how much a spare's imports yield when it starts (as a run's `nice`: in a class, the pages come
    first; alone, nothing to yield to).
    """

    def __init__(self, modules: tuple[str, ...] = SPARE_IMPORTS, nice: Callable[[], int] = lambda: 0,
                 spare: bool = True) -> None:
        from cnnviz import byreference
        self._ctx, self._modules, self._nice, self._spare = mp.get_context("spawn"), modules, nice, spare
        self.shelf = byreference.Shelf()
        self._lock = threading.Lock()
        self._ready: _Ready | None = None
        self._runs = 0  # runs in flight through this launcher: no spare is started while one trains

    def fill(self) -> None:
        """Start a spare process unless a live one waits or a run trains (`release` starts it after)."""
        with self._lock:
            if self._spare and self._runs == 0 and (self._ready is None or not self._ready.proc.is_alive()):
                self._ready = _Ready(self._ctx, self._modules, max(0, self._nice()))

    def release(self) -> None:
        """A run that called `take` has ended (its process too)."""
        with self._lock:
            self._runs = max(0, self._runs - 1)
        self.fill()

    def waiting(self) -> int | None:
        """The process id of the spare waiting now with its imports done, or None."""
        with self._lock:
            ready = self._ready
        return ready.proc.pid if ready is not None and ready.imported.is_set() and ready.proc.is_alive() else None

    def take(self) -> _Ready | None:
        """The waiting spare (now the caller's), or None. Either way a run is now in flight: the caller calls
        `release` when it has ended.

        A spare still importing is taken too: its imports run at the nice a fresh process would import at (the
        class's, see `nice`), so waiting for them is never slower than starting over (measured at load 7-8: a
        fresh process beside a spare still importing, 12.9-14.9 s to the first batch on screen)."""
        with self._lock:
            self._runs += 1
            ready, self._ready = self._ready, None
        return ready if ready is not None and ready.proc.is_alive() else None

    def close(self) -> None:
        """Retire the spare (tests; a server's spare ends with the server)."""
        with self._lock:
            ready, self._ready = self._ready, None
        if ready is not None:
            ready.jobs.put(None)
            ready.proc.join(30)
            if ready.proc.is_alive():
                ready.proc.kill()


def _end_with(parent: int, poll_s: float = PARENT_POLL_S) -> None:
    """End this process as soon as `parent` is no longer its parent (killed, even by SIGKILL: no goodbye comes).

    A training process must not outlive its server: nobody would read its result, and it would keep a core
    busy for minutes. Polling getppid() works everywhere (a dead parent's children are adopted by another).
    """
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_s)
        os._exit(1)  # at once: nothing here is worth finishing for a server that is gone

    threading.Thread(target=watch, name="cnnviz-parent-watch", daemon=True).start()


def _sweep_jobs(folder: str) -> None:
    """Remove job files whose server died before its child could read them (the pid in the name has ended)."""
    for path in Path(folder).glob(f"{JOB_PREFIX}*.pkl"):
        pid = path.name[len(JOB_PREFIX):].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            with contextlib.suppress(OSError):
                path.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def run(fn: Callable, args: tuple, on_progress: Callable[[Any], None] | None = None,
        stop_event: threading.Event | None = None, kwargs: dict | None = None,
        nice: int | Callable[[], int] = 0, launcher: Launcher | None = None) -> Any:
    """fn(*args, **kwargs, on_progress=..., stop_event=...) in a spawned process; returns what fn returned.

    `fn` must be a module-level function (it is pickled). Progress events are passed to `on_progress` here,
    in the caller's thread; setting `stop_event` asks the child to stop. An exception in the child is
    raised here; a child that dies without an answer raises RuntimeError with its exit code. `nice` > 0 lowers
    the child's CPU priority by that much (see `niceness`); a callable is asked again every second and may
    lower it further while the run goes (a class joins after the teacher started it), never raise it again.
    With a `launcher`, its spare process runs the job (a fresh one if none waits) and big tensors go by
    reference; a new spare is started when the run ends.
    """
    ctx = mp.get_context("spawn")
    # The work goes through a temp file, pickled by value (no /dev/shm, 64 MB in Docker): the spawn pipe then
    # carries a few bytes, and a child that dies at start cannot leave the parent blocked writing to it.
    # The child removes it as soon as it has opened it, and the server in `finally`; a server killed before its
    # child started leaves its pid in the name, for the next run to sweep.
    _sweep_jobs(tempfile.gettempdir())
    fd, job_path = tempfile.mkstemp(prefix=f"{JOB_PREFIX}{os.getpid()}-", suffix=".pkl")
    with os.fdopen(fd, "wb") as f:
        if launcher is not None:
            launcher.shelf.dump((fn, args, kwargs or {}), f)  # args keeps the tensors (and their files) alive
        else:
            pickle.dump((fn, args, kwargs or {}), f)
    ready = launcher.take() if launcher is not None else None  # from here on, `finally` gives it back
    out, stop = (ready.out, ready.stop) if ready is not None else (ctx.Queue(), ctx.Event())
    ask = nice if callable(nice) else (lambda: nice)
    now, asked = max(0, ask()), time.monotonic()
    proc = ready.proc if ready is not None else ctx.Process(
        target=_child, args=(job_path, out, stop, now, os.getpid()), name="cnnviz-train", daemon=True)
    try:
        if ready is not None:
            ready.jobs.put((job_path, now))
        else:
            _start(proc)
        while True:
            if stop_event is not None and stop_event.is_set():
                stop.set()
            if time.monotonic() - asked >= 1.0:
                asked, wanted = time.monotonic(), ask()
                if wanted > now and hasattr(os, "setpriority") and renice(
                        proc.pid, min(19, os.getpriority(os.PRIO_PROCESS, 0) + wanted)):
                    now = wanted
            try:
                kind, value = out.get(timeout=POLL_S)
            except queues.Empty:
                if not proc.is_alive() and out.empty():
                    raise RuntimeError(f"the training process ended without an answer (exit code "
                                       f"{proc.exitcode})") from None
                continue
            if kind == "progress":
                if on_progress is not None:
                    on_progress(value)
            elif kind == "error":
                raise pickle.loads(value)
            else:
                return pickle.loads(value)
    finally:
        stop.set()  # the caller gave up (or is done): the child stops at its next batch
        with contextlib.suppress(OSError):
            os.remove(job_path)  # the child has (or never will): not left for the reaper, which may not get to run
        threading.Thread(target=_reap, args=(proc, job_path, launcher), name="cnnviz-train-reaper", daemon=True).start()


def renice(pid: int, nice: int) -> bool:
    """Set the nice value of every thread of process `pid` (Linux keeps one per thread: torch's OpenMP threads too)."""
    try:
        tids = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    except OSError:  # not Linux, or the process is gone
        tids = [pid]
    done = False
    for tid in tids:
        with contextlib.suppress(OSError):  # a thread that ended meanwhile
            os.setpriority(os.PRIO_PROCESS, tid, nice)
            done = True
    return done


_START = threading.Lock()


def _start(proc) -> None:
    """Start the child without it re-running the parent's `__main__`.

    spawn imports the parent's main module in the child; under Streamlit (and AppTest) `__main__` is the page
    script being run, which must not run again in a training process. For the instant of the start, `__main__`
    is an empty module (under a lock: sessions run in threads).
    """
    with _START:
        main = sys.modules.get("__main__")
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            proc.start()
        finally:
            if main is not None:
                sys.modules["__main__"] = main


def _reap(proc, job_path: str, launcher: Launcher | None = None, grace_s: float = 30.0) -> None:
    """Let a finished child exit in its own time (torch's teardown can take seconds on a busy machine); kill a
    stuck one. Then the launcher's next spare starts: after the run, so it never competes with one."""
    if proc.pid is not None:
        proc.join(grace_s)
        if proc.is_alive():
            proc.kill()
            proc.join()
    with contextlib.suppress(OSError):
        os.remove(job_path)
    if launcher is not None:
        launcher.release()
