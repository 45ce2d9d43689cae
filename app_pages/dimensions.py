"""Dimension calculator: one layer worked out, then a whole network's shapes, parameters, memory and MACs."""
import pandas as pd
import streamlit as st

from app_pages.parts import dimensions_parts
from app_pages.shell import fields, handoff, ui, words
from cnnviz import budget, checkpoints, dims, editor, export, pagestate, text, traintime
from cnnviz.arch import PRESET_NOTES, PRESETS, Spec
from cnnviz.figures import network as figs

PAGE, SCHEMA = "dimensions", pagestate.dimensions(checkpoints.available())
ui.bind(PAGE, SCHEMA)
ui.title("📐 Dimension calculator", "How big is each layer's output? The one formula behind every CNN shape, "
         "with your numbers in it.", PAGE, SCHEMA)
one_layer, whole_net = st.tabs(pagestate.CALC_TABS, key="calc_tab", on_change="rerun")


def one_layer_tab() -> None:
    # widgets built from their fields (cnnviz.pagestate.dimensions); switching the layer keeps the stride
    kind = fields.radio(SCHEMA["layer"], "Layer", horizontal=True)
    c = st.columns(5)
    w = fields.number(SCHEMA["w"], "Input size W", c[0], help="Width (or height) of the input, in pixels")
    k = fields.number(SCHEMA["k"], "Kernel K", c[1])
    if st.session_state.pop("want_same", False):
        st.session_state["pad"] = dims.same_padding(k, st.session_state.get("dil", 1)) or 0
    p = fields.number(SCHEMA["p"], "Padding P", c[2])
    s = fields.number(SCHEMA["s"], "Stride S", c[3])
    d = fields.number(SCHEMA["d"], "Dilation D", c[4], help="Gaps between kernel taps; 1 = none")
    same = dims.same_padding(k, d)
    words.button(f"Same padding: P = (K_eff - 1)/2 = {same}" if same is not None else "Same padding (needs an odd "
                 "kernel)", disabled=same is None, on_click=lambda: st.session_state.update(want_same=True))
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
    words.metric(f"Output size O ({work.padding_kind} padding)", work.out,
                 help="For a square W×W input the output is O×O; each side is computed the same way.")
    for note in work.notes:
        (st.warning if "not divisible" in note else st.info)(note)
    if kind == "Pooling":
        words.caption("Pooling uses the same formula; PyTorch's pooling stride defaults to the kernel size.")
    words.caption("One row of the padded input (grey = zero padding, red = never reached) and each window position: "
                  + (figs.window_view(work).note or ""))  # the view's note, when it shows only some positions
    ui.chart(figs.sliding_windows(work), width="stretch")


IN_KEYS = ("calc_in_c", "calc_in_h", "calc_in_w")


def _spec_of(name: str) -> Spec:
    """A preset, or the network inside a trained checkpoint ("checkpoint: NAME"); ValueError if unreadable."""
    return PRESETS.get(name) or checkpoints.read_card(name.split(": ", 1)[1]).network


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
    name = fields.select(SCHEMA["net"], "Start from a preset", left, options=list(PRESETS) + trained,
                         on_change=_new_net, help="The tutorials' networks, and every trained checkpoint's network")
    try:
        preset = _spec_of(name)
    except ValueError as err:
        st.error(text.plain(f"Could not open {name}: {err}"))
        return
    words.caption(PRESET_NOTES.get(name, "The network inside the trained model "
                                   + text.plain(name.split(": ", 1)[-1])), left)
    if any(key not in st.session_state for key in IN_KEYS):  # first visit: the network's own input shape
        st.session_state.update(dict(zip(IN_KEYS, preset.input_shape)))
    c = right.columns(3)
    shape = tuple(int(fields.number(SCHEMA[p], label, c[i]))
                  for i, (p, label) in enumerate(zip(("c", "h", "iw"), ["Channels C", "Height H", "Width W"])))
    st.caption("Edit the layers: change cells, add a row at the bottom, delete rows, or move a row by giving it an "
               "in-between order (2.5 goes between 2 and 3).")
    if f"editor_{name}" not in st.session_state:  # a fresh table starts from a link's (or the last) edited layers
        st.session_state["calc_seed"] = st.session_state.get("calc_layers", "")
    try:
        start = editor.layers_spec(st.session_state["calc_seed"], preset)
    except ValueError as err:
        st.warning(text.plain(f"{err}: showing {name}'s own layers."))
        start = preset
    table = st.data_editor(pd.DataFrame(editor.spec_to_records(start), columns=editor.COLUMNS),
                           num_rows="dynamic", key=f"editor_{name}", hide_index=True, width="stretch", placeholder="",
                           column_config=dimensions_parts.editor_columns())
    report = editor.report(shape, table.to_dict("records"), name)
    if report.spec is not None:  # the edited layers go into the link (and survive a visit to another page)
        st.session_state["calc_layers"] = editor.layers_text(report.spec, preset)
        ui.sync(PAGE, SCHEMA)
    if report.error:
        st.error(f"This network is impossible: {text.plain(report.error)}")
    st.dataframe(pd.DataFrame([editor.display_row(r) for r in report.rows]), hide_index=True, width="stretch")
    if report.spec is None or not report.spec.layers:
        return
    words.markdown(f"**Shapes:** {dims.flow(report.spec, report.analysis.rows)}")
    fits = _totals(report)
    ui.chart(figs.network_blocks(report.spec, report.analysis.rows), width="stretch")
    _export(report, fits.ok)


def _totals(report: editor.Report) -> budget.Verdict:
    t = dims.totals(report.spec, report.analysis.rows)
    fits = traintime.default_run(report.spec, measure=False)  # memory; the time the trainer's default run takes
    c = st.columns(5)
    words.metric("Parameters", f"{t.params:,}", c[0], help=f"{dims.human_bytes(t.param_bytes)} as float32")
    words.metric("MACs per image", f"{t.macs:,}", c[1], help="multiply-accumulates in conv and linear layers")
    words.metric("Memory / image (forward)", dims.human_bytes(t.forward_bytes), c[2], help=dims.Totals.__doc__)
    words.metric("Memory / image (training)", dims.human_bytes(t.training_bytes), c[3], help=dims.Totals.__doc__)
    words.metric("To train at batch 128", dims.human_bytes(fits.estimate.total), c[4], help=fits.estimate.breakdown())
    dimensions_parts.timing(report.spec, fits)  # says both; on a cold server the time follows the page
    return fits


def _export(report: editor.Report, trainable: bool) -> None:
    code, text = export.to_pytorch(report.spec), export.to_json_text(report.spec)
    a, b, c = st.columns(3)
    a.download_button("⬇️ PyTorch code (.py)", code, file_name=f"{report.spec.name or 'net'}.py", mime="text/x-python")
    b.download_button("⬇️ Spec (.json)", text, file_name=f"{report.spec.name or 'net'}.json", mime="application/json")
    if c.button("🏋️ Train this network", help="Open the trainer with this network" if trainable else
                "Too big to train on this server: see the message above", disabled=not trainable):
        handoff.network_to_trainer(report.spec.to_json())  # the trainer selects it on arrival
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
