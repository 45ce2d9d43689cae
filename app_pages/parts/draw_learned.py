"""Draw's "what has this channel learned?" (not a page): the 9 test images that excite a conv channel most,
the patches of them its unit saw, and an input grown to excite it. Computation lives in cnnviz.units."""
from __future__ import annotations

import streamlit as st

from app_pages.shell import cached, ui, words
from cnnviz import checkpoints, explain, units
from cnnviz.figures import units as figs
from cnnviz.text import plain


def section(slot: int, name: str, stage: explain.Stage, channel: int) -> None:
    """Behind a toggle (a stroke stays cheap): shown for a conv channel picked on the overview."""
    if stage.type != "conv" or not st.toggle(f"🔎 What has {stage.layer} map {channel} learned?",
                                             key=f"learned_{slot}"):
        return
    stamp = checkpoints.resolve(name).stat().st_mtime
    found, test = cached.strongest(name, stamp)
    s = found[stage.layer]
    spec = cached.load_model(name, stamp)[0].spec
    pictures = test.raw(list(s.index[channel]))[:, 0].numpy()
    crops, boxes = zip(*(units.patch(p, spec, stage.layer, int(r), int(c))
                         for p, r, c in zip(pictures, s.row[channel], s.col[channel], strict=True)), strict=True)
    labels = [test.classes[int(test.labels[int(i)])] for i in s.index[channel]]
    captions = [f"{plain(label)} ({value:.2f})" for label, value in zip(labels, s.values[channel], strict=True)]
    words.markdown(f"**The {len(pictures)} test images that excite {stage.layer} map {channel} most** "
                   f"(of {len(test):,}; its strongest unit outlined, labelled with the class and that unit's value "
                   f"after {stage.shown})")
    ui.chart(figs.top_images(pictures, captions, boxes), width="stretch", key=f"learned_top_{slot}",
             config={"displayModeBar": False})
    words.markdown("**What that unit saw** (its receptive field in each image):")
    ui.chart(figs.patches(crops, captions), width="stretch", key=f"learned_patches_{slot}",
             config={"displayModeBar": False})
    grown = cached.dream(name, stamp, stage.layer, channel)
    words.markdown(f"**An input grown to excite it**: {grown.steps} small steps from a blank square raised the "
                   f"centre unit's value from {grown.start:.2f} to {grown.end:.2f} (before {stage.shown}).")
    ui.chart(figs.dream(grown.pixels, grown.box), width="stretch", key=f"learned_dream_{slot}",
             config={"displayModeBar": False})
    words.caption(units.CAN_AND_CANNOT)
