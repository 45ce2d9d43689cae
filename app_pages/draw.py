"""Draw a digit: what the network sees, what it answers, what every layer makes of it, and why.

The drawing and everything that depends on it live in one st.fragment: a stroke (or a click inside the
network) reruns only that part, not the title, the model picker or the sidebar.
"""
import streamlit as st

from app_pages.parts import draw_class as wall
from app_pages.parts import draw_inside as inside
from app_pages.parts import draw_replay as replay
from app_pages.parts.draw_input import Inputs, model_picker, read_input
from app_pages.shell import handoff, screen, ui, words
from app_pages.shell.cached import load_model, random_copy
from cnnviz import checkpoints, glossary, pagestate, preprocess, probe
from cnnviz.figures import draw as figs
from cnnviz.figures import inline
from cnnviz.text import plain

SCHEMA = pagestate.draw(checkpoints.available())
active = pagestate.active_model(handoff.active_model_choice(), checkpoints.available())
if "draw_model" not in st.session_state and active:  # first visit: the model in use, as the sidebar names it
    st.session_state["draw_model"] = active
ui.bind("draw", SCHEMA)
ui.title("✏️ Draw a digit", "Draw with the mouse (or a finger), white on black: the network answers as soon as you "
         "lift the pen. Then look inside it, below.", "draw", SCHEMA)
st.html("<style>[data-testid='stMetricValue'] {font-size: 3.6rem; line-height: 1.05}</style>")


def analyse(name: str, prepared: preprocess.Prepared, slot: int = 0) -> tuple:
    """(name, card, model, input tensor, look, snapshot batch or None) for one model on the prepared picture."""
    stamp = checkpoints.resolve(name).stat().st_mtime  # mtime: a retrained model reloads
    model, card = load_model(name, stamp)
    model, moment = replay.pick(name, stamp, model, card, slot)  # a moment of its training, if it kept any
    x = prepared.normalized(card.normalize)
    return name, card, model, x, probe.look_for_card(model, x, card), moment


@st.fragment
def drawing(inputs: Inputs) -> None:
    """Everything that depends on the drawing: a stroke reruns only this."""
    narrow = screen.narrow()  # a phone or an upright tablet: one column, the answer right under the canvas
    widths = [3.5, 2.8, 3.7] if len(inputs.models) == 1 else [3.5, 3.25, 3.25]
    if narrow:  # canvas, answer, then the brush and the wall's name box, then what the network sees
        boxes = [st.container() for _ in range(4)]
        places, below = [boxes[0], boxes[1], boxes[3]], boxes[2]
    else:
        places = st.columns(widths)
        below = places[0]
    prepared = None
    with below:
        nick = wall.nickname()  # only while the class wall collects (None: nothing is sent)
    with places[0]:
        wall.shown_caption()
        try:
            prepared = read_input(inputs, below)
        except preprocess.EmptyInput as hint:
            st.info(f"✏️ {hint}")
        except ValueError as err:
            st.error(str(err))
    ui.sync("draw", SCHEMA)
    if prepared is None:
        return
    results, bars = {}, []
    for slot, name in enumerate(inputs.models):
        with places[1 + slot]:
            try:
                results[slot] = analyse(name, prepared, slot)
            except ValueError as err:
                st.error(plain(f"{name}: {err}"))
                continue
            shown, card, _, _, look, moment = results[slot]
            bars.append(inside.answer(shown, card, look, prepared.pixels, slot, moment))
    if len(inputs.models) == 1:
        with places[2]:
            words.markdown("**What the network sees**: crop, longer side to 20 px, centre of mass",
                           help=glossary.help_for(*(name for name, _ in prepared.steps)))
            st.html(inline.picture_row(prepared.steps, height_px=84, font_px=18 if ui.presenting() else 13))
            for note in prepared.notes:
                st.caption(note)
    if not results or not ui.answer("inside"):  # a lesson step may hide what the layers make of it until Reveal
        for draw_bars in bars:  # the answer's bars still fill their place
            draw_bars()
        return
    if 0 in results:
        with below:
            wall.send(nick, prepared, results[0][4])
    # folded, it is not drawn at all (not even hidden): on a phone a stroke redraws only the answer
    fold = st.expander("Inside the network", key="draw_fold", on_change="rerun") if narrow else None
    with fold if narrow else st.container():
        if fold is None or fold.open:
            inside_the_network(results, bars, prepared, narrow)
            return
    for draw_bars in bars:
        draw_bars()


def inside_the_network(results: dict, bars: list, prepared: preprocess.Prepared, narrow: bool) -> None:
    """The overview, the probability bars, the Why and the layer-by-layer details (folded on a narrow screen)."""
    if not narrow:
        st.subheader("Inside the network")
    slot = 0 if len(results) == 1 else st.radio("Look inside", list(results), horizontal=True, key="draw_inside",
                                                format_func=lambda s: plain(results[s][0]))
    name, card, model, x, look, _ = results[slot]
    inside.overview(slot, name, model, x, look, prepared)
    for draw_bars in bars:  # after the overview: the answer is painted first (draw_inside.answer)
        draw_bars()
    why = "Why: which strokes pushed the answer (saliency), and its limits"
    if st.toggle(words.say(why), key="draw_why", help=words.tip(why)):
        ui.chart(figs.panel_saliency(look, prepared.pixels), width="stretch", key="saliency")
        words.caption(glossary.READ_SALIENCY)
        if st.toggle("Compare with the same model with random weights", key="draw_sanity", help=glossary.READ_SANITY):
            stamp = checkpoints.resolve(name).stat().st_mtime
            inside.saliency_check(slot, model, x, look, prepared, random_copy(name, stamp))
    detail = "Every layer in detail (maps and kernels, one layer under another)"
    if st.toggle(words.say(detail), key="draw_detail", help=words.tip(detail)):
        inside.layers(figs.layer_views(look), slot, wide=True)


drawing(model_picker())
