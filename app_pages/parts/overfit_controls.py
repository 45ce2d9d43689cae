"""The trainer's overfitting controls (not a page): train on N images, augmentation with a preview of what it
does, dropout and weight decay. What they mean and do lives in cnnviz.overfit; TrainConfig refuses bad values."""
from __future__ import annotations

import streamlit as st

from app_pages.shell import fields, ui
from cnnviz import data, overfit, pagestate, registry
from cnnviz.figures import inline


def own_augmented_by_default() -> None:
    """The dataset's on_change: your own drawings are few, so they start augmented; the MNIST family does not."""
    st.session_state["train_aug"] = registry.is_own(st.session_state.get("dataset", "mnist"))


def choose(busy: bool) -> dict:
    """The widgets (in a folded section) -> TrainConfig's train_images, augment, dropout, weight_decay."""
    with st.expander("🧪 Overfitting: fewer training images, and the cures", expanded=bool(
            st.session_state.get("train_n") or st.session_state.get("train_drop") or st.session_state.get("train_wd"))):
        c1, c2, c3 = st.columns(3)
        schema = pagestate.trainer()
        empty = {} if "train_n" in st.session_state else {"value": None}  # empty (all) until a number is typed
        n = fields.number(schema["n"], "Train on N images (empty: all)", c1, disabled=busy,
                          placeholder="all", **empty, help="A few hundred images are easy to memorise: compare the "
                          "training accuracy with the held-out one at the end. Chosen class by class.")
        drop = fields.number(schema["drop"], "Dropout p", c2, step=0.1, disabled=busy,
                             help="Before the last dense layer, this share of the units is switched off at every "
                             "training step (0: no dropout).")
        decay = fields.number(schema["wd"], "Weight decay", c3, step=1e-4, format="%g", disabled=busy,
                              help="Pulls every weight towards 0 at every step (0: none; 5e-4 is usual).")
        own = registry.is_own(st.session_state.get("dataset", "mnist"))
        if own:  # a few drawings: always augmented copies (ownsplits), so the toggle shows it and stays on
            st.session_state["train_aug"] = True
        augment = fields.toggle(schema["aug"], "Augment the training images", c1, disabled=busy or own, help="Each "
                                "image moved, turned and resized a little, differently every time it is seen" +
                                (" (your own drawings: always, as augmented copies)." if own else "."))
    return {"train_images": None if n is None else int(n), "augment": augment, "dropout": float(drop),
            "weight_decay": float(decay)}


def preview(train_split: data.Split, seed: int) -> None:
    """When augmentation is on: one training image and 7 augmented versions of it, as the run will see them."""
    pictures = overfit.preview(train_split.raw(0)[0], 8, seed).numpy()
    st.html(inline.picture_row([("as it is" if i == 0 else "augmented", p) for i, p in enumerate(pictures)],
                               height_px=56, font_px=18 if ui.presenting() else 12))
