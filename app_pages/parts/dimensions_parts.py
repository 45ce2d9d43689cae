"""The Dimension calculator's pieces kept out of the page to keep it short: how the layer table's columns are
edited, and the training-time line."""
import json
from concurrent.futures import Future, ThreadPoolExecutor

import streamlit as st

from app_pages.shell import server_guards, words
from cnnviz import budget, serverwide, traintime
from cnnviz.arch import LAYER_TYPES
from cnnviz.messages import no_paths
from cnnviz.spec import MAX_SIDE, MAX_WIDTH, Spec


def editor_columns() -> dict:
    """st.data_editor's column settings for cnnviz.editor.COLUMNS: labels, ranges (the spec's), steps, layer types."""
    num = st.column_config.NumberColumn

    def side(label: str, low: int = 1):
        return num(label, min_value=low, max_value=MAX_SIDE, step=1, help=f"{low} to {MAX_SIDE:,}")
    return {"order": num("#", step=0.5, format="plain", help="Row order; type 2.5 to move a row between 2 and 3"),
            "type": st.column_config.SelectboxColumn("layer", options=LAYER_TYPES, required=True),
            "size": num("out channels / features", min_value=1, max_value=MAX_WIDTH, step=1,
                        help=f"1 to {MAX_WIDTH:,}"),
            "kernel_size": side("kernel"), "stride": side("stride"), "padding": side("padding", 0),
            "dilation": side("dilation"), "p": num("dropout p", min_value=0.0, max_value=0.99, step=0.05)}


def timing(spec: Spec, fits: budget.Verdict) -> None:
    """The estimate's line under the totals: at once when this network's time is known; on a cold server it is
    measured in the background and the line follows (~3 s: torch's optimizer import and the first batches),
    so the calculator shows up without waiting for it. Under AppTest (no server) it is measured here."""
    pending = fits.ok and traintime.default_pending(spec)
    if pending and not server_guards.serving():
        fits, pending = traintime.default_run(spec), False
    job = _measuring(spec) if pending else None
    if job is None or (job.done() and job.exception() is not None):
        (words.caption if fits.ok else st.error)(fits.message)
        if job is not None:
            st.warning(f"Could not time this network here: {no_paths(job.exception())}")
        return

    @st.fragment(run_every=0.5)
    def wait() -> None:
        if job.done():
            st.rerun()  # the whole page once, with the measured time in its line; no more polling
        words.caption(f"{fits.message} ⏱ Timing a few training batches on this machine…")
    wait()


def _measuring(spec: Spec) -> Future:
    """The background measurement of `spec`'s default run (one at a time per server; a failed one is kept)."""
    pool, jobs = serverwide.single("calculator timing", lambda: (ThreadPoolExecutor(1, "cnnviz-timing"), {}))
    key = json.dumps(spec.to_json(), sort_keys=True)
    job = jobs.get(key)
    if job is None or (job.done() and job.exception() is None):  # a finished one left its time in traintime
        job = jobs[key] = pool.submit(traintime.default_run, spec)
        while len(jobs) > 128:
            jobs.pop(next(iter(jobs)))
    return job
