"""Train a CNN, live: choose a network and settings, watch it learn, keep the model."""
import streamlit as st

from app_pages.parts import download, runqueue
from app_pages.parts import training_view as view
from app_pages.shell import ui
from app_pages.shell.cached import splits
from app_pages.shell.who import editor
from cnnviz import data, owndata, pagestate, traintime, worker
from cnnviz import train as tr
from cnnviz.arch import PRESET_NOTES, PRESETS, Spec
from cnnviz.device import describe, pick_device
from cnnviz.text import plain

CALC = "the network from the calculator"
SCHEMA = pagestate.trainer()


def _default_lr() -> None:
    """The learning rate follows the optimizer when it changes: its default (cnnviz.train.DEFAULT_LR)."""
    st.session_state["lr"] = tr.default_lr(st.session_state.get("opt", tr.TrainConfig.optimizer))


def choose(busy: bool) -> tuple[Spec, tr.TrainConfig]:
    """The widgets, turned into (spec, TrainConfig); ValueError for a bad combination."""
    options = ([CALC] if "train_spec" in st.session_state else []) + list(PRESETS)
    if st.session_state.pop("train_spec_fresh", False):  # just handed over by the calculator
        st.session_state["net"] = CALC
    if fresh := st.session_state.pop("train_dataset_fresh", None):  # handed over by *Make a dataset*
        st.session_state["dataset"] = fresh
    if st.session_state.get("lr") is None:
        _default_lr()
    c1, c2, c3 = st.columns(3)
    net = c1.selectbox("Network", options, key="net", help="Build your own on the Dimension calculator",
                       disabled=busy)
    c1.caption(PRESET_NOTES.get(net, "handed over by the Dimension calculator's *Train this network*"))
    # MNIST's family by plain name: a label that changed with the download state would reset the choice
    dataset = c1.selectbox("Dataset", list(data.DATASETS) + owndata.keys(), key="dataset",  # own: *Make a dataset*
                           disabled=busy, format_func=lambda n: owndata.label(n, editor()) if owndata.is_own(n) else n)
    opt = c2.radio("Optimizer", pagestate.TRAIN_OPTIMIZERS, horizontal=True, key="opt", on_change=_default_lr,
                   format_func={"sgd": "SGD + momentum", "adam": "Adam"}.get, disabled=busy)
    lr = c2.number_input("Learning rate (peak)", 1e-5, 100.0, format="%g", key="lr", disabled=busy,
                         help="The step size. It rises to this peak, then falls (one-cycle schedule). Try 10 to "
                              "see training fail: the loss blows up, or the network dies.")
    batch = c2.select_slider("Batch size", pagestate.TRAIN_BATCHES, key="batch", disabled=busy)
    epochs = c3.number_input("Epochs", 0.1, 50.0, step=0.5, key="epochs", disabled=busy)
    seed = c3.number_input("Seed", 0, 2**31 - 1, key="seed", disabled=busy)
    cap = c3.number_input("Stop after N batches (0 = whole run)", 0, 100_000, key="max_batches", disabled=busy)
    spec = Spec.from_json(st.session_state["train_spec"]) if net == CALC else PRESETS[net]
    spec = owndata.fit_spec(spec, dataset)  # own dataset: one output per class
    config = tr.TrainConfig(dataset=dataset, optimizer=opt, lr=float(lr), batch_size=int(batch),
                            epochs=float(epochs), seed=int(seed), max_batches=int(cap) or None)
    tr.check_trainable(spec, owndata.num_classes(dataset))
    return spec, config


def start(work, single: bool, what: str) -> None:
    """Start `work` in the background; `what` is the one-line summary the folded settings show meanwhile."""
    st.session_state["trainer_runner"] = runqueue.submit(work, what)  # one run at a time per server
    st.session_state["trainer_summary"], st.session_state["trainer_single"] = what, single
    st.session_state["trainer_test"] = test_split  # the live view and results show these images
    st.session_state.pop("trainer_saved", None)
    st.rerun()


ui.bind("trainer", SCHEMA)
runner = st.session_state.get("trainer_runner")
snap = runner.snapshot() if runner is not None else None
busy = snap is not None and snap.state == "running"
# a single run that ended tested (done, or stopped when good enough): its result and Save come first
result = snap.kept() if snap is not None and st.session_state.get("trainer_single") else None
if busy:  # the first screen belongs to the run: bar, Stop, curves, digits, filters
    st.subheader("Train a CNN, live")
else:
    ui.title("Train a CNN, live", f"Training runs on **{describe(pick_device())}**, in the background: the rest "
             "of the app stays usable.", "trainer", SCHEMA)
shown = busy or snap is None or ui.answer("result")  # a lesson step may hide a run's result until Reveal
if result is not None and shown:
    view.headline(result, snap.message)
spec = config = None
folded = f"⚙️ Training {plain(st.session_state.get('trainer_summary', ''))} (settings locked while it runs)"
label = folded if busy else "⚙️ Settings for the next run" if result is not None else "⚙️ Settings"
with st.expander(label, expanded=not busy and result is None):  # folded under a result until asked for
    try:
        spec, config = choose(busy)
        if not owndata.is_own(config.dataset) and not download.ready(config.dataset):
            spec = None  # ready() showed "not downloaded" / "downloading…" / "failed" and the Download button
        else:
            train_split, test_split = splits(config.dataset, config.seed)
            # memory before anything is built, then the time measured here (ValueError naming the numbers)
            st.caption(traintime.require(spec, config, len(train_split), len(test_split),
                                         len(train_split.classes)).message)
    except ValueError as err:  # DatasetMissing is a ValueError too: its message says where the files go
        st.error(str(err))  # own dataset and class names are letters, digits, ' ', '-', '_' (owndata.check_name)
        spec = None  # nothing to start, but a run in progress stays visible and stoppable below
ui.sync("trainer", SCHEMA)  # the settings as their widgets left them (the optimizer moves the learning rate)

b1, b2, b3 = st.columns([1, 1, 3])
launch = runqueue.launcher()
if b1.button("▶ Start training", type="primary", disabled=busy or spec is None, key="start", width="stretch"):
    # its own process: page reruns (this session's or a classmate's) never hold up its loop (cnnviz/worker.py)
    start(lambda cb, stop: worker.run(tr.train, (spec, config, train_split, test_split), cb, stop,
                                      nice=runqueue.class_nice,  # in a class, drawing students come first
                                      launcher=launch),  # a spare process, torch imported: the first batch in ~1 s
          single=True, what=tr.run_summary(spec, config))
if b2.button("■ Stop", disabled=not busy, key="stop", width="stretch"):
    runqueue.stop(runner)
    st.rerun()
if b3.button("Reproduce the tutorials (Models A, B, C: plain pixels, SGD lr 0.01, batch 100, 3000 iterations)",
             disabled=busy or spec is None or config.dataset != "mnist", key="reproduce",
             help="Six runs: the tutorials' own recipe, then the same on normalised inputs. Several minutes."):
    recipe = tr.TUTORIAL_CONFIG
    start(lambda cb, stop: worker.run(tr.reproduce_tutorials, (train_split, test_split), cb, stop,
                                      kwargs={"config": recipe}, nice=runqueue.class_nice, launcher=launch),
          single=False, what="the tutorials' Models A, B, C: plain pixels, then normalised")

if runner is not None and busy and not runner.started:
    runqueue.waiting(runner)  # "you are 2nd in line" + Leave the queue, until its turn comes
elif runner is not None and shown:
    view.live(runner, busy, st.session_state.get("trainer_test") or splits("mnist")[1], said=result is not None)
    if snap.state == "done" and not st.session_state.get("trainer_single"):
        view.tutorials(snap.tested)
    elif result is not None:
        view.details(result)
