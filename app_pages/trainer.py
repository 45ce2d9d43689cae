"""Train a CNN, live: choose a network and settings, watch it learn, keep the model."""
import streamlit as st

from app_pages.parts import download, overfit_controls, runqueue
from app_pages.parts import training_view as view
from app_pages.shell import fields, handoff, ui, words
from app_pages.shell.cached import splits
from app_pages.shell.who import editor
from cnnviz import overfit, owndata, pagestate, registry, trainconfig, trainstatus, traintime, tutorials, worker
from cnnviz import train as tr
from cnnviz.arch import PRESET_NOTES, PRESETS, Spec
from cnnviz.device import describe, pick_device
from cnnviz.text import plain
from cnnviz.trainconfig import TrainConfig

CALC = "the network from the calculator"
SCHEMA = pagestate.trainer()


def _default_lr() -> None:
    """The learning rate follows the optimizer when it changes: its default (cnnviz.trainconfig.DEFAULT_LR)."""
    st.session_state["lr"] = trainconfig.default_lr(st.session_state.get("opt", TrainConfig.optimizer))


def choose(busy: bool) -> tuple[Spec, TrainConfig]:
    """The widgets, turned into (spec, TrainConfig); ValueError for a bad combination."""
    options = ([CALC] if handoff.calculator_network() is not None else []) + list(PRESETS)
    if handoff.take_network():  # just handed over by the calculator
        st.session_state["net"] = CALC
    if fresh := handoff.take_dataset():  # handed over by *Make a dataset*
        st.session_state["dataset"] = fresh
        overfit_controls.own_augmented_by_default()
    if st.session_state.get("lr") is None:
        _default_lr()
    c1, c2, c3 = st.columns(3)
    net = fields.select(SCHEMA["net"], "Network", c1, options=options, disabled=busy,
                        help="Build your own on the Dimension calculator")
    words.caption(PRESET_NOTES.get(net, "handed over by the Dimension calculator's *Train this network*"), c1)
    # MNIST's family by plain name: a label that changed with the download state would reset the choice
    own_default = overfit_controls.own_augmented_by_default  # your drawings start augmented
    dataset = fields.select(SCHEMA["data"], "Dataset", c1, on_change=own_default, disabled=busy,
                            format_func=lambda n: owndata.label(n, editor()) if registry.is_own(n) else n)
    opt = fields.radio(SCHEMA["opt"], "Optimizer", c2, horizontal=True, on_change=_default_lr,
                       format_func={"sgd": "SGD + momentum", "adam": "Adam"}.get, disabled=busy)
    lr = fields.number(SCHEMA["lr"], "Learning rate (peak)", c2, format="%g", disabled=busy,
                       help="The step size. It rises to this peak, then falls (one-cycle schedule). Try 10 to "
                            "see training fail: the loss blows up, or the network dies.")
    batch = fields.select_slider(SCHEMA["batch"], "Batch size", c2, disabled=busy)
    epochs = fields.number(SCHEMA["epochs"], "Epochs", c3, step=0.5, disabled=busy)
    seed = fields.number(SCHEMA["seed"], "Seed", c3, disabled=busy)
    cap = fields.number(SCHEMA["cap"], "Stop after N batches (0 = whole run)", c3, disabled=busy)
    spec = Spec.from_json(handoff.calculator_network()) if net == CALC else PRESETS[net]
    spec = registry.fit_spec(spec, dataset)  # own dataset: one output per class
    config = TrainConfig(dataset=dataset, optimizer=opt, lr=float(lr), batch_size=int(batch), epochs=float(epochs),
                         seed=int(seed), max_batches=int(cap) or None, **overfit_controls.choose(busy))
    tr.check_trainable(spec, registry.num_classes(dataset))
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
        if not registry.is_own(config.dataset) and not download.ready(config.dataset):
            spec = None  # ready() showed "not downloaded" / "downloading…" / "failed" and the Download button
        else:
            train_split, test_split = splits(config.dataset, config.seed, config.augment)
            if config.augment:
                overfit_controls.preview(train_split, config.seed)
            overfit.sample(train_split, config.train_images)  # N beyond the dataset: refused before the run
            # memory before anything is built, then the time measured here (ValueError naming the numbers)
            words.caption(traintime.require(spec, config, config.train_images or len(train_split), len(test_split),
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
          single=True, what=trainstatus.run_summary(spec, config))
if b2.button("■ Stop", disabled=not busy, key="stop", width="stretch"):
    runqueue.stop(runner)
    st.rerun()
if words.button("Reproduce the tutorials (Models A, B, C: plain pixels, SGD lr 0.01, batch 100, 3000 iterations)", b3,
                disabled=busy or spec is None or config.dataset != "mnist", key="reproduce", arithmetic=True,
                help="Six runs: the tutorials' own recipe, then the same on normalised inputs. Several minutes."):
    recipe = tutorials.TUTORIAL_CONFIG
    start(lambda cb, stop: worker.run(tutorials.reproduce_tutorials, (train_split, test_split), cb, stop,
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
