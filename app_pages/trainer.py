"""Train a CNN, live: choose a network and settings, watch it learn, keep the model."""
import streamlit as st

from app_pages import download
from app_pages.cached import splits
from cnnviz import checkpoints, data, owndata
from cnnviz import train as tr
from cnnviz.arch import PRESET_NOTES, PRESETS, Spec
from cnnviz.device import describe, pick_device
from cnnviz.evaluate import first_layer_filters, misclassified, per_class_lines
from cnnviz.figures import training as figs

CALC = "the network from the calculator"


def choose() -> tuple[Spec, tr.TrainConfig]:
    """The widgets, turned into (spec, TrainConfig); ValueError for a bad combination."""
    options = ([CALC] if "train_spec" in st.session_state else []) + list(PRESETS)
    if st.session_state.pop("train_spec_fresh", False):  # just handed over by the calculator
        st.session_state["net"] = CALC
    if fresh := st.session_state.pop("train_dataset_fresh", None):  # handed over by *Make a dataset*
        st.session_state["dataset"] = fresh
    c1, c2, c3 = st.columns(3)
    net = c1.selectbox("Network", options, key="net", help="Build your own on the Dimension calculator")
    c1.caption(PRESET_NOTES.get(net, "handed over by the Dimension calculator's *Train this network*"))
    # MNIST's family by plain name: a label that changed with the download state would reset the choice
    dataset = c1.selectbox("Dataset", list(data.DATASETS) + owndata.keys(), key="dataset",  # own: *Make a dataset*
                           format_func=lambda n: owndata.label(n) if owndata.is_own(n) else n)
    opt = c2.radio("Optimizer", ["sgd", "adam"], horizontal=True, key="opt",
                   format_func={"sgd": "SGD + momentum", "adam": "Adam"}.get)
    # no key: the default follows the optimizer (SGD 0.05, Adam 0.005)
    lr = c2.number_input("Learning rate (peak)", 1e-5, 100.0, 0.05 if opt == "sgd" else 0.005, format="%g",
                         help="The step size. It rises to this peak, then falls (one-cycle schedule). Try 10 to "
                              "see training blow up.")
    batch = c2.select_slider("Batch size", [16, 32, 64, 100, 128, 256, 512], 128, key="batch")
    epochs = c3.number_input("Epochs", 0.1, 50.0, 2.0, 0.5, key="epochs")
    seed = c3.number_input("Seed", 0, 2**31 - 1, 0, key="seed")
    cap = c3.number_input("Stop after N batches (0 = whole run)", 0, 100_000, 0, key="max_batches")
    spec = Spec.from_json(st.session_state["train_spec"]) if net == CALC else PRESETS[net]
    spec = owndata.fit_spec(spec, dataset)  # own dataset: one output per class
    config = tr.TrainConfig(dataset=dataset, optimizer=opt, lr=float(lr), batch_size=int(batch),
                            epochs=float(epochs), seed=int(seed), max_batches=int(cap) or None)
    tr.check_trainable(spec, owndata.num_classes(dataset))
    return spec, config


def start(work, single: bool) -> None:
    st.session_state["trainer_runner"] = tr.Runner(work).start()
    st.session_state["trainer_single"] = single
    st.session_state["trainer_test"] = test_split  # the results show these images even if the dataset changes
    st.session_state.pop("trainer_saved", None)
    st.rerun()


st.title("Train a CNN, live")
st.caption(f"Training runs on **{describe(pick_device())}**, in the background: the rest of the app stays usable.")
runner = st.session_state.get("trainer_runner")
busy = runner is not None and runner.snapshot().state == "running"
try:
    spec, config = choose()
    if not owndata.is_own(config.dataset) and not download.ready(config.dataset):
        spec = None  # ready() showed "not downloaded" / "downloading…" / "failed" and the Download button
    else:
        train_split, test_split = splits(config.dataset, config.seed)
except ValueError as err:  # DatasetMissing is a ValueError too: its message says where the files go
    st.error(str(err))
    spec = None  # nothing to start, but a run in progress stays visible and stoppable below

b1, b2, b3 = st.columns([1, 1, 3])
if b1.button("▶ Start training", type="primary", disabled=busy or spec is None, key="start", width="stretch"):
    start(lambda cb, stop: tr.train(spec, config, train_split, test_split, cb, stop), single=True)
if b2.button("■ Stop", disabled=not busy, key="stop", width="stretch"):
    runner.stop(timeout=1.0)
    st.rerun()
if b3.button("Reproduce the tutorials (Models A, B, C: SGD lr 0.01, batch 100, 3000 iterations)",
             disabled=busy or spec is None or config.dataset != "mnist", key="reproduce"):
    start(lambda cb, stop: tr.reproduce_tutorials(train_split, test_split, cb, stop), single=False)


@st.fragment(run_every=1.0 if busy else None)
def live() -> None:
    """Polls the background run: progress bar, status line, curves; a full rerun once it ends."""
    snap = runner.snapshot()
    history = [e for e in snap.history if e.job == snap.job]
    if history:
        last = history[-1]
        st.progress(last.batch / last.total_batches,
                    text=tr.job_label(snap.job) + tr.progress_text(last, snap.state == "running"))
    elif snap.state == "running":
        st.progress(0.0, text="starting: waiting for the first batches…")
    if busy and snap.state != "running":
        st.rerun()  # finished between polls: redraw the whole page with results, stop polling
    if snap.state == "failed":  # under the bar, where eyes are: above the fold on a projector
        st.error(snap.message)
    elif snap.state == "stopped":
        st.warning(snap.message)
    if len(history) >= 2:  # one point makes no curve: keep the axes away until there is a line to draw
        st.plotly_chart(figs.curves(history), key="curves")
    elif snap.state == "running":
        st.caption("The loss and accuracy curves appear after the first few batches…")


def results(result: tr.Result) -> None:
    ev, test = result.evaluation, st.session_state.get("trainer_test") or splits(result.config.dataset)[1]
    classes = test.classes
    st.subheader("How well did it learn?")
    st.metric("Test accuracy", f"{ev.accuracy:.2f}%", help=f"{ev.correct:,} of {ev.total:,} test images")
    st.caption(tr.summary_text(result))
    if warning := tr.stalled_message(result, len(classes)):
        st.warning(warning)
    c1, c2 = st.columns([2, 3])
    c1.code("\n".join(per_class_lines(ev, classes)), language=None)
    c2.plotly_chart(figs.confusion(ev.confusion, classes), key="confusion")
    wrong = misclassified(ev, 32)
    if len(wrong):
        st.subheader("Misclassified test images: predicted (true)")
        st.caption(f"The first {len(wrong)} of the {ev.total - ev.correct:,} test images it got wrong.")
        st.plotly_chart(figs.labelled_grid(test.raw(wrong)[:, 0].numpy(), ev.predictions[wrong],
                                           ev.labels[wrong], classes), key="wrong")
    st.subheader("What the first layer learned")
    try:
        st.plotly_chart(figs.filters(first_layer_filters(result.model), title=""), key="filters")
        st.caption("Each square is one first-layer filter (white = strong positive weight, black = negative).")
    except ValueError as err:
        st.info(str(err))
    save(result)


def save(result: tr.Result) -> None:
    st.subheader("Keep this model")
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    name = c1.text_input("Checkpoint name", f"{result.spec.name or 'custom'}-seed{result.config.seed}", key="ckpt")
    if c2.button("💾 Save checkpoint", key="save", width="stretch"):
        try:
            folder = checkpoints.save(result.model, tr.make_card(result, name, tr.describe_run(result.spec,
                                                                                             result.config)))
        except ValueError as err:
            st.error(str(err))
        else:  # rerun so the sidebar shows the new active model at once
            st.session_state["active_checkpoint"] = st.session_state["trainer_saved"] = folder.name
            st.rerun()
    if saved := st.session_state.get("trainer_saved"):
        st.success(f"Saved as **{saved}**: it is now the active model on *Draw a digit*.")


if runner is not None:
    live()
    snap = runner.snapshot()
    done = [r for r in snap.results if r.evaluation is not None]
    if snap.state == "done" and not st.session_state.get("trainer_single"):
        st.subheader("The tutorials, reproduced")
        st.dataframe(tr.tutorial_table(done), hide_index=True)
    elif snap.state == "done" and done:
        results(done[0])
