"""Page section (not a page): the server's one training queue, tied to the Streamlit session that queued.

The library's RunQueue knows nothing of Streamlit; here each ticket gets an `alive()` built on the
runtime's session registry, so a closed or reloaded tab ends its run (after a short grace for blips).
Under AppTest there is no server runtime and no class to share with: runs start directly.
"""
from collections.abc import Callable

import streamlit as st
from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from app_pages.shell import server_guards
from cnnviz import runs, serverwide, worker
from cnnviz.runner import Runner


def run_queue() -> runs.RunQueue:
    """The one queue of this server process: one training run at a time (not a cache: a client may clear those)."""
    return serverwide.single("training queue", lambda: runs.RunQueue(slots=1, grace_s=5.0))


def launcher() -> worker.Launcher | None:
    """The server's way to start training fast (a spare process waiting, datasets by reference); None under AppTest.

    Not under AppTest: each test's app would start a process that imports torch for nothing."""
    if not server_guards.serving():
        return None
    return serverwide.single("training launcher", lambda: worker.Launcher(nice=class_nice, spare=worker.spare_wanted()))


def warm() -> None:
    """Have a spare training process waiting (once the first page is served: app.py calls this after it)."""
    if (spare := launcher()) is not None:
        spare.fill()


def _alive() -> Callable[[], bool] | None:
    """True while this browser session is connected; None when there is no server runtime (AppTest)."""
    ctx = get_script_run_ctx()
    if ctx is None or not Runtime.exists():
        return None
    runtime, session_id = Runtime.instance(), ctx.session_id
    return lambda: runtime.is_active_session(session_id)


def class_nice() -> int:
    """The training process's nice now: lower priority while other sessions use this server (a class), 0 alone.

    worker.run asks again every second, so a run the teacher started alone yields once the class connects.
    Streamlit has no public count of sessions; without one (AppTest, a future Streamlit) a run counts as alone.
    """
    try:
        others = Runtime.instance()._session_mgr.num_active_sessions() - 1  # Streamlit 1.67's session manager
    except Exception:  # noqa: BLE001 - a private attribute: any change means "unknown", never a failed page
        return 0
    return worker.niceness() if others > 0 else 0


def submit(work, label: str) -> Runner:
    """Queue `work` for this session (or start it at once without a server); returns its Runner."""
    runner, alive = Runner(work), _alive()
    if alive is None:
        return runner.start()
    st.session_state["trainer_ticket"] = run_queue().submit(runner, alive, label)
    return runner


STOP_WAIT_S = 30.0  # a stopped run is tested before it ends (~1 s for MNIST's 10,000 test images on 2 cores)


def stop(runner: Runner) -> None:
    """Stop this session's run (waiting while the network is tested as it is), or take it out of the line."""
    ticket = st.session_state.get("trainer_ticket")
    with st.spinner("Stopping: testing the network as it is now…"):
        if ticket is not None and ticket.runner is runner:
            run_queue().leave(ticket, timeout=STOP_WAIT_S)
        else:
            runner.stop(timeout=STOP_WAIT_S)


@st.fragment(run_every=1.0)
def waiting(runner: Runner) -> None:
    """While this session's run waits: its place in line and a way out; a full rerun when its turn comes."""
    ticket = st.session_state.get("trainer_ticket")
    place = run_queue().position(ticket) if ticket is not None and ticket.runner is runner else None
    if not place:
        if runner.started or place is None:
            st.rerun()  # it started (or left): the live view takes over
        return
    st.info(f"Another run is training on this server: you are {runs.ordinal(place + 1)} in line. Yours starts "
            f"by itself when the runs before it end (one at a time keeps every run, and every drawing "
            f"student, fast).")
    if st.button("Leave the queue", key="leave_queue"):
        stop(runner)
        st.rerun()
