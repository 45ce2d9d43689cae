"""Draw page section (not a page): the drawing seen by the network as it was at a moment of its training.

A model trained in the app keeps weight snapshots (every quarter epoch, cnnviz.snapshots); a slider picks
one, and the whole Draw page (answer, feature maps, arithmetic) then uses those weights:
"what did conv1 see after 50 batches?". Shipped models have no snapshots: nothing is shown for them.
"""
from __future__ import annotations

import json

import streamlit as st
from torch import nn

from cnnviz import checkpoints, snapshots
from cnnviz.card import Card
from cnnviz.spec import Spec
from cnnviz.text import plain


@st.cache_resource(show_spinner=False, max_entries=4)
def _snapshots(name: str, stamp: float) -> list[snapshots.WeightSnapshot]:
    return snapshots.of_checkpoint(checkpoints.resolve(name))


@st.cache_resource(show_spinner=False, max_entries=16)
def _model_at(name: str, stamp: float, i: int, spec_json: str) -> nn.Module:
    return snapshots.model_at(Spec.from_json(json.loads(spec_json)), _snapshots(name, stamp)[i])


def pick(name: str, stamp: float, model: nn.Module, card: Card, slot: int) -> tuple[nn.Module, int | None]:
    """(the trained model, None), or (the same network at the snapshot the slider picks, that snapshot's batch:
    0 before training) when the checkpoint has snapshots."""
    try:
        snaps = _snapshots(name, stamp)
    except ValueError as err:  # a damaged snapshots file: the trained model still works
        st.caption(f"Its training snapshots cannot be read ({plain(err)}).")
        return model, None
    if len(snaps) < 2:
        return model, None
    last, held = len(snaps) - 1, card.held_out()
    i = st.select_slider("The network as it was during training", range(len(snaps)), last, key=f"draw_snap_{slot}",
                         format_func=lambda k: "trained (the end)" if k == last else snapshots.label(snaps[k], held),
                         help="Snapshots kept while it trained: slide back to see what it saw early on.")
    if i == last:
        return model, None
    return _model_at(name, stamp, i, json.dumps(card.spec, sort_keys=True)), snaps[i].batch
