"""Sections of the draw page (not a page): the answer, "Inside the network" (overview, click to explain,
receptive field), the randomised-weights saliency check, and the per-layer detail view. Computation lives in cnnviz."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import streamlit as st
import torch

from app_pages.parts import draw_learned as learned
from app_pages.parts import draw_overview as panel
from app_pages.shell import ui, words
from cnnviz import checkpoints, explain, glossary, novelty, preprocess, probe
from cnnviz.card import Card
from cnnviz.figures import draw as figs
from cnnviz.figures import overview as ov
from cnnviz.text import plain

PICKED = "draw_pick"   # session key: {model name: (stage index, unit index, (row, col) or None)}


def answer(name: str, card: Card, look: probe.Look, pixels: np.ndarray, slot: int,
           moment: int | None = None) -> Callable[[], None]:
    """The model's answer: the digit, how sure, a "not a digit?" ("not one of your classes?", or "untrained"
    at `moment` 0, the snapshot before training) warning when due; a place for the probabilities.

    Returns the function that draws the probability bars into their place: the page calls it after the
    overview, so the browser paints the answer before it spends ~40 ms drawing the bars (bench/browser_latency.py).
    """
    if not ui.answer("prediction"):  # a lesson step may hide the answer until Reveal (cnnviz.reveal)
        return lambda: None
    verdict, probs = look.inspection.verdict, look.inspection.probs
    shown = plain(name)  # a folder name, a card's class names: text, never Markdown
    st.metric(f"{shown} says", plain(verdict.label), help=f"{shown}: test accuracy {card.test_text()}")
    st.caption(f"{verdict.confidence:.0%} sure")
    if said := novelty.warning(card, pixels, probs, look.features, moment) or plain(verdict.note or ""):
        st.warning(said)
    place = st.empty()
    return lambda: ui.chart(figs.probabilities(probs, verdict.labels, verdict.index, height=210), place,
                            width="stretch", key=f"probs_{slot}", config={"displayModeBar": False})


def _points(event) -> list[dict]:
    return list(getattr(getattr(event, "selection", None), "points", None) or [])  # None: nothing selected


def overview(slot: int, name: str, model: torch.nn.Module, x: torch.Tensor, look: probe.Look,
             prepared: preprocess.Prepared) -> None:
    """The whole network in one row of pictures; a click on a tile opens that map, a click on a pixel explains it."""
    stages = explain.stages(look.spec)
    picks = st.session_state.setdefault(PICKED, {})
    key = f"overview_{slot}_{checkpoints.display_name(name)}"
    if (got := panel.clicked(key)) is not None and got != picks.get(name, (None, None, None))[:2]:
        picks[name] = (*got, None)  # a new tile (or bar): its pixel is still to be chosen
    pick = picks.get(name)
    size = (560, 8, 16) if ui.presenting() else (420, None, 12)  # presenter: tiles >= 48 px, text >= 16 px
    panel.show(ov.overview(look, prepared.pixels, stages, *size[:2], pick[:2] if pick else None, size[2]), key)
    words.caption("Each column is one layer (maps after their ReLU / tanh), brightest = most active; the last layer's "
                  "cells are the classes' scores, blue high, red low. **Click a tile**, then a pixel of the enlarged "
                  "map, to see how that number was computed.")
    if pick is None or pick[0] >= len(stages) or pick[1] >= stages[pick[0]].shape[0]:
        return  # nothing clicked yet (or a retrained model changed under the click): a stroke stays cheap
    k, i, pixel = pick
    _unit(slot, name, model, x, look, prepared, stages[k], i, pixel)
    learned.section(slot, name, stages[k], i)


def _unit(slot: int, name: str, model, x, look, prepared, stage: explain.Stage, i: int,
          pixel: tuple[int, int] | None) -> None:
    acts = look.inspection.activations
    out = acts[stage.shown][0]
    left, right = st.columns([2, 3])
    if out.dim() == 3:
        with left:
            event = ui.chart(figs.pick_map(out[i].numpy(), f"{stage.layer} map {i} ({stage.shown})", pixel),
                             width="stretch", key=f"pick_{slot}_{checkpoints.display_name(name)}_{stage.layer}_{i}",
                             on_select="rerun", selection_mode="points", config={"displayModeBar": False})
            points = _points(event)
            if points:
                pixel = (int(points[0]["y"]), int(points[0]["x"]))
                st.session_state[PICKED][name] = (st.session_state[PICKED][name][0], i, pixel)
            if pixel is None or not (pixel[0] < out.shape[1] and pixel[1] < out.shape[2]):
                st.info("Click a pixel of the map.")
                return
        index = (i, *pixel)
    else:
        index = (i,)
    e = explain.unit(model, x, acts, stage.layer, index)
    with right if out.dim() == 3 else left:
        with st.container(key=f"arith_{slot}"):
            where = f"map {i}, row {index[1]}, col {index[2]}" if len(index) == 3 else f"unit {i}"
            # the lines' own number, rounded as they round it (the map's float32 could round the other way)
            st.markdown(f"**{stage.shown}, {where}** holds **`{e.value_text}`**. How it was computed:",
                        help=words.tip(*e.lines))  # Σ, bias, relu, softmax: explained beside the lines
            for line in e.lines:
                st.code(line, language=None, wrap_lines=True)
        _parts(e, acts, x, prepared)
    if e.type in ("conv", "maxpool", "avgpool"):
        _receptive(look, prepared, stage.layer, index, left)


def _parts(e: explain.Explanation, acts: dict, x: torch.Tensor, prepared: preprocess.Prepared) -> None:
    """The numbers behind the lines: patch, kernel, products; the pooling window; the contributions."""
    source = (x if e.source == "input" else acts[e.source])[0].numpy()
    if e.type == "conv":
        ui.chart(figs.conv_arithmetic(e), width="stretch", key=f"conv_arith_{e.layer}")
        ui.chart(figs.source_window(source, e, f"{e.source}: the patch on every channel"), width="stretch",
                 key=f"src_{e.layer}")
    elif e.type in ("maxpool", "avgpool"):
        ui.chart(figs.pool_window(e), width="stretch", key=f"pool_{e.layer}")
    elif e.type == "linear":
        ui.chart(figs.contributions(e), width="stretch", key=f"contrib_{e.layer}")


def _receptive(look, prepared, layer: str, index: tuple[int, ...], place) -> None:
    field = explain.receptive_field(look.spec, layer, index[1], index[2])
    source, box = prepared.drawing_box(field.top, field.bottom, field.left, field.right) or (None, None)
    with place:
        words.markdown(f"**Receptive field**: {field.bottom - field.top}×{field.right - field.left} pixels, outlined.")
        ui.chart(figs.receptive(prepared.pixels, field, source, box), width="stretch", key=f"rf_{layer}")


def saliency_check(slot: int, model, x: torch.Tensor, look: probe.Look, prepared, randomized) -> None:
    """Grad-CAM and the input gradient of the trained model beside those of a copy with random weights."""
    trained = look.saliency()
    rand = probe.saliency(randomized, x, target=trained.target)
    pairs = [(caption, a, b) for caption, a, b in (("Grad-CAM", trained.grad_cam, rand.grad_cam),
                                                    ("input gradient", trained.input_gradient, rand.input_gradient))
             if a is not None]
    maps = [m for caption, a, b in pairs for m in ((f"{caption} trained", a), (f"{caption} random weights", b))]
    ui.chart(figs.saliency_pair(prepared.pixels, maps), width="stretch", key=f"sanity_{slot}")
    sims = ", ".join(f"{caption}: {probe.similarity(a, b):.2f}" for caption, a, b in pairs)
    words.caption(f"{glossary.READ_SANITY} So a heatmap alone proves little (rank similarity {sims}).")


def layers(views: list[figs.LayerView], slot: int, wide: bool) -> None:
    """Every layer one under another: maps and the kernels that made them (the detail view)."""
    for view in views:
        if view.note:
            words.caption(view.note)
        places = st.columns([1, 2]) if view.kernels and wide else [st.container()] * 2
        for place, part, fig in ((places[0], "kernels", view.kernels), (places[1], "maps", view.maps)):
            if fig is not None:
                with place:
                    ui.chart(fig, width="stretch", key=f"{part}_{view.name}_{slot}")

