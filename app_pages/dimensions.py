"""Dimension calculator: one layer worked out, then a whole network's shapes, parameters, memory and MACs."""
import pandas as pd
import streamlit as st

from app_pages.parts import dimensions_parts
from app_pages.shell import ui
from cnnviz import budget, checkpoints, dims, editor, export, pagestate, traintime
from cnnviz.arch import PRESET_NOTES, PRESETS, Spec
from cnnviz.figures import network as figs

PAGE, SCHEMA = "dimensions", pagestate.dimensions(checkpoints.available())
ui.bind(PAGE, SCHEMA)
ui.title("📐 Dimension calculator", "How big is each layer's output? The one formula behind every CNN shape, "
         "with your numbers in it.", PAGE, SCHEMA)
one_layer, whole_net = st.tabs(pagestate.CALC_TABS, key="calc_tab", on_change="rerun")


def one_layer_tab() -> None:
    # bound widgets (cnnviz.pagestate.dimensions): no default value arguments; switching the layer keeps the stride
    kind = st.radio("Layer", ["Convolution", "Pooling"], horizontal=True, key="calc_kind")
    c = st.columns(5)
    w = c[0].number_input("Input size W", 1, 4096, key="calc_w", help="Width (or height) of the input, in pixels")
    k = c[1].number_input("Kernel K", 1, 512, key="calc_k")
    if st.session_state.pop("want_same", False):
        st.session_state["pad"] = dims.same_padding(k, st.session_state.get("dil", 1)) or 0
    p = c[2].number_input("Padding P", 0, 512, key="pad")
    s = c[3].number_input("Stride S", 1, 512, key="calc_s")
    d = c[4].number_input("Dilation D", 1, 64, key="dil", help="Gaps between kernel taps; 1 = none")
    same = dims.same_padding(k, d)
    st.button(f"Same padding: P = (K_eff - 1)/2 = {same}" if same is not None else "Same padding (needs an odd kernel)",
              disabled=same is None, on_click=lambda: st.session_state.update(want_same=True))
    try:
        if kind == "Pooling":
            dims.check_pool_padding(k, p)  # the rule torch's pooling layers enforce (the whole-network tab too)
        work = dims.worked(w, k, s, p, d)
    except ValueError as err:
        st.error(f"Impossible layer: {err}. Make the kernel smaller, or add padding.")
        return
    if ui.answer("formula"):  # a lesson step may hide the worked formula and the output until Reveal
        st.latex(r"O = \left\lfloor \frac{W - K_{eff} + 2P}{S} \right\rfloor + 1 = "
                 rf"\left\lfloor \frac{{{w} - {work.k_eff} + 2 \cdot {p}}}{{{s}}} \right\rfloor + 1 = {work.out}")
        st.code("\n".join(work.steps), language=None)
    if not ui.answer("output"):
        return
    st.metric(f"Output size O ({work.padding_kind} padding)", work.out,
              help="For a square W×W input the output is O×O; each side is computed the same way.")
    for note in work.notes:
        (st.warning if "not divisible" in note else st.info)(note)
    if kind == "Pooling":
        st.caption("Pooling uses the same formula; PyTorch's pooling stride defaults to the kernel size.")
    st.caption("One row of the padded input (grey = zero padding, red = never reached) and each window position: "
               + (figs.window_view(work).note or ""))  # the view's note, when it shows only some positions
    ui.chart(figs.sliding_windows(work), width="stretch")


IN_KEYS = ("calc_in_c", "calc_in_h", "calc_in_w")


def _spec_of(name: str) -> Spec:
    """A preset, or the network inside a trained checkpoint ("checkpoint: NAME"); ValueError if unreadable."""
    return PRESETS.get(name) or Spec.from_json(checkpoints.read_card(name.split(": ", 1)[1])["spec"])


def _new_net() -> None:
    """Another network chosen: the input shape becomes its own (a link's shape is kept: it sets no callback)."""
    st.session_state["calc_layers"] = ""  # its own layers, not the last network's edits
    try:
        st.session_state.update(dict(zip(IN_KEYS, _spec_of(st.session_state["calc_net"]).input_shape)))
    except ValueError:
        pass  # the page says why it cannot open that network


def whole_network_tab() -> None:
    left, right = st.columns([1, 2])
    trained = [f"checkpoint: {n}" for n in checkpoints.available()]
    name = left.selectbox("Start from a preset", list(PRESETS) + trained, key="calc_net", on_change=_new_net,
                          help="The tutorials' networks, and every trained checkpoint's network")
    try:
        preset = _spec_of(name)
    except ValueError as err:
        st.error(checkpoints.plain(f"Could not open {name}: {err}"))
        return
    left.caption(PRESET_NOTES.get(name, "The network inside the trained model "
                                  + checkpoints.plain(name.split(": ", 1)[-1])))
    if any(key not in st.session_state for key in IN_KEYS):  # first visit: the network's own input shape
        st.session_state.update(dict(zip(IN_KEYS, preset.input_shape)))
    c = right.columns(3)
    shape = tuple(int(c[i].number_input(label, 1, 1024, key=IN_KEYS[i]))
                  for i, label in enumerate(["Channels C", "Height H", "Width W"]))
    st.caption("Edit the layers: change cells, add a row at the bottom, delete rows, or move a row by giving it an "
               "in-between order (2.5 goes between 2 and 3).")
    if f"editor_{name}" not in st.session_state:  # a fresh table starts from a link's (or the last) edited layers
        st.session_state["calc_seed"] = st.session_state.get("calc_layers", "")
    try:
        start = editor.layers_spec(st.session_state["calc_seed"], preset)
    except ValueError as err:
        st.warning(checkpoints.plain(f"{err}: showing {name}'s own layers."))
        start = preset
    table = st.data_editor(pd.DataFrame(editor.spec_to_records(start), columns=editor.COLUMNS),
                           num_rows="dynamic", key=f"editor_{name}", hide_index=True, width="stretch", placeholder="",
                           column_config=dimensions_parts.editor_columns())
    report = editor.report(shape, table.to_dict("records"), name)
    if report.spec is not None:  # the edited layers go into the link (and survive a visit to another page)
        st.session_state["calc_layers"] = editor.layers_text(report.spec, preset)
        ui.sync(PAGE, SCHEMA)
    if report.error:
        st.error(f"This network is impossible: {checkpoints.plain(report.error)}")
    st.dataframe(pd.DataFrame([editor.display_row(r) for r in report.rows]), hide_index=True, width="stretch")
    if report.spec is None or not report.spec.layers:
        return
    st.markdown(f"**Shapes:** {dims.flow(report.spec, report.analysis.rows)}")
    fits = _totals(report)
    ui.chart(figs.network_blocks(report.spec, report.analysis.rows), width="stretch")
    _export(report, fits.ok)


def _totals(report: editor.Report) -> budget.Verdict:
    t = dims.totals(report.spec, report.analysis.rows)
    fits = traintime.default_run(report.spec, measure=False)  # memory; the time the trainer's default run takes
    c = st.columns(5)
    c[0].metric("Parameters", f"{t.params:,}", help=f"{dims.human_bytes(t.param_bytes)} as float32")
    c[1].metric("MACs per image", f"{t.macs:,}", help="multiply-accumulates in conv and linear layers")
    c[2].metric("Memory / image (forward)", dims.human_bytes(t.forward_bytes), help=dims.Totals.__doc__)
    c[3].metric("Memory / image (training)", dims.human_bytes(t.training_bytes), help=dims.Totals.__doc__)
    c[4].metric("To train at batch 128", dims.human_bytes(fits.estimate.total), help=fits.estimate.breakdown())
    dimensions_parts.timing(report.spec, fits)  # says both; on a cold server the time follows the page
    return fits


def _export(report: editor.Report, trainable: bool) -> None:
    code, text = export.to_pytorch(report.spec), export.to_json_text(report.spec)
    a, b, c = st.columns(3)
    a.download_button("⬇️ PyTorch code (.py)", code, file_name=f"{report.spec.name or 'net'}.py", mime="text/x-python")
    b.download_button("⬇️ Spec (.json)", text, file_name=f"{report.spec.name or 'net'}.json", mime="application/json")
    if c.button("🏋️ Train this network", help="Open the trainer with this network" if trainable else
                "Too big to train on this server: see the message above", disabled=not trainable):
        st.session_state["train_spec"] = report.spec.to_json()
        st.session_state["train_spec_fresh"] = True  # the trainer selects it on arrival
        st.switch_page("app_pages/trainer.py")
    with st.expander("PyTorch code: every in_features below was computed, not typed"):
        st.code(code, language="python")
    with st.expander("JSON spec"):
        st.code(text, language="json")


with one_layer:
    one_layer_tab()
with whole_net:
    whole_network_tab()
ui.sync(PAGE, SCHEMA)  # last: the URL and the "Copy link" popover show the values the widgets ended on
