"""The trainer page's sections (not a page): the live view while a run goes, the results, replay and saving.
Every number comes from cnnviz (train, snapshots, evaluate); this module only lays things out."""
from __future__ import annotations

import streamlit as st

from app_pages.shell import handoff, ui, words
from app_pages.shell.cached import splits
from cnnviz import checkpoints, data, overfit, registry, snapshots, trainstatus
from cnnviz import train as tr
from cnnviz.card import Card
from cnnviz.evaluate import misclassified, per_class_lines, percent_text
from cnnviz.figures import inline, svg
from cnnviz.figures import training as figs
from cnnviz.runner import Runner
from cnnviz.text import plain
from cnnviz.tutorials import job_label, recipe_note, tutorial_table

FILTERS_NOTE = "first-layer filters (white = strong positive weight, black = negative)"


def live_frame(frame: snapshots.Frame | None, test: data.Split) -> None:
    """The digit grid (guess · confidence, green right / red wrong) and the first layer's filters (the replay)."""
    st.html(_panel(frame, test), width="stretch")


def _panel(frame: snapshots.Frame | None, test: data.Split) -> str:
    return inline.live_panel(frame, snapshots.grid_pictures(test), test.classes, FILTERS_NOTE,
                             font_px=20 if ui.presenting() else 15)


def live(runner: Runner, busy: bool, test: data.Split, said: bool = False) -> None:
    """Polls the background run once a second: progress bar, then curves, digit grid and filters in ONE piece of
    HTML (SVG and PNG pictures; plotly curves once the run has ended).

    Kept cheap for the browser, which shares the cores with training (bench/train_inapp.py): no sliding animation
    on the bar (repainted at 60 fps for most of each second), no plotly while it runs (157 ms of JavaScript per
    second), one element instead of six (each costs the browser about as much as its pictures). `said`: the
    run's message is already on the page (above its result), so it is not repeated under the curves.
    """
    st.html("<style>[data-testid='stProgress'] * {transition: none !important; animation: none !important}</style>")

    @st.fragment(run_every=1.0 if busy else None)
    def poll() -> None:
        snap = runner.snapshot()
        history = [e for e in snap.history if e.job == snap.job]
        if history:
            last = history[-1]
            st.progress(min(last.batch / last.total_batches, 1.0),
                        text=job_label(snap.job) + trainstatus.progress_text(last, snap.state == "running"))
        elif snap.state == "running":
            st.progress(0.0, text="starting: waiting for the first batches…")
        if busy and snap.state != "running":
            st.rerun()  # finished between polls: redraw the whole page with results, stop polling
        frame = next((e.frame for e in reversed(history) if e.frame is not None), None)
        if snap.state == "running":  # one point makes no curve: no axes until there is a line to draw
            curves = (svg.curves(history, height=250, font_px=20 if ui.presenting() else 14) if len(history) >= 2
                      else inline.note("The loss and accuracy curves appear after the first few batches…"))
            st.html(inline.columns(curves, _panel(frame, test)), width="stretch")
            return
        left, right = st.columns(2)
        if len(history) >= 2:  # ended (done, stopped, blew up): plotly, with hover
            ui.chart(figs.curves(history, height=300), where=left, key="curves")
        if snap.state == "failed":  # under the curve that blew up
            left.error(snap.message)
        elif snap.state == "stopped" and not said:
            left.warning(snap.message)
        with right:
            live_frame(frame, test)

    poll()


def headline(result: tr.Result, message: str | None) -> None:
    """The first screen after a run: how it ended, the test accuracy with its real count, and Save."""
    ev = result.evaluation
    st.subheader("How well did it learn?")
    if message:  # "Stopped by you after 120 batches. It was tested as it was then: ..."
        st.warning(message)
    st.metric("Test accuracy", percent_text(ev.correct, ev.total))
    words.caption(result.test_text())
    if (seen := result.train_evaluation) is not None:  # the gap between training and held-out: overfitting?
        (st.warning if overfit.overfitted(seen.accuracy, ev.accuracy) else st.info)(overfit.verdict(
            seen.accuracy, ev.accuracy, seen.total, registry.test_items(result.config.dataset)))
    words.caption(trainstatus.summary_text(result))
    if warning := trainstatus.stalled_message(result, len(result.classes) or 10):
        st.warning(warning)
    save(result)


def details(result: tr.Result) -> None:
    """Below the curves: per-class table, confusion matrix, the misclassified digits, replay."""
    ev, test = result.evaluation, st.session_state.get("trainer_test") or splits(result.config.dataset)[1]
    classes = test.classes
    c1, c2 = st.columns([2, 3])
    c1.code("\n".join(per_class_lines(ev, classes)), language=None)
    ui.chart(figs.confusion(ev.confusion, classes), c2, key="confusion")
    wrong = misclassified(ev, 32)
    if len(wrong):
        st.subheader("Misclassified test images: predicted (true)")
        st.caption(f"The first {len(wrong)} of the {ev.total - ev.correct:,} "
                   f"{registry.test_items(result.config.dataset)} it got wrong.")
        ui.chart(figs.labelled_grid(test.raw(wrong)[:, 0].numpy(), ev.predictions[wrong],
                                    ev.labels[wrong], classes), key="wrong")
    replay(result, test)


def replay(result: tr.Result, test: data.Split) -> None:
    """A slider over the run's snapshots: the filters, the digit grid and the held-out accuracy at that moment."""
    snaps = result.snapshots
    if len(snaps) < 2:
        return
    st.subheader("Replay: watch it learn again")
    words.caption("Snapshots of the weights, every quarter epoch. Slide to see what the network knew then.")
    i = st.select_slider("Moment of the run", range(len(snaps)), len(snaps) - 1, key="replay",
                         format_func=lambda k: snapshots.label(snaps[k], result.held_out),
                         help=words.tip(*(snapshots.label(snap, result.held_out) for snap in snaps)))
    model = snapshots.model_at(result.spec, snaps[i])
    frame = snapshots.frame(model, *snapshots.grid(tr.as_trained(test, result.config)), snaps[i].batch, snaps[i].epoch)
    live_frame(frame, test)


def save(result: tr.Result) -> None:
    """Name + save button; the checkpoint carries the run's snapshots (the Draw page can replay them)."""
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    name = c1.text_input("Checkpoint name", key="ckpt",  # e.g. shapes-tutorial_a-seed0 for an own dataset
                         value=registry.model_name(result.config.dataset, result.spec.name, result.config.seed))
    if c2.button("💾 Save checkpoint", key="save", width="stretch"):
        extra = {snapshots.EXTRA: snapshots.to_tensors(result.snapshots)} if result.snapshots else None
        try:
            card = Card.from_result(result, name, trainstatus.describe_run(result.spec, result.config))
            folder = checkpoints.save(result.model, card, extras=extra)
        except ValueError as err:
            st.error(plain(err))  # it names the typed name: text, never Markdown
        else:  # rerun so the sidebar shows the new active model at once
            handoff.set_active_model(folder.name)
            st.session_state["trainer_saved"] = folder.name
            st.rerun()
    if saved := st.session_state.get("trainer_saved"):
        st.success(f"Saved as **{plain(saved)}**: it is now the active model on *Draw a digit*, with its "
                   f"{len(result.snapshots)} snapshots.")


def tutorials(results: list[tr.Result]) -> None:
    """Published vs reproduced, side by side, and what normalising the inputs changes."""
    st.subheader("The tutorials, reproduced")
    st.dataframe(tutorial_table(results), hide_index=True)
    words.caption(recipe_note())
