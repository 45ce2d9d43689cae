"""What one page hands to another (not a page): every cross-page hand-off through session state, by name.

Pages never reach into another page's session keys; they call these. The hand-offs:

- calculator -> trainer: *Train this network* hands over the edited network (`network_to_trainer`); the trainer
  offers it as an option (`calculator_network`) and selects it once, on arrival (`take_network`).
- Make a dataset -> trainer: *Train on it* (`dataset_to_trainer`); the trainer selects it once (`take_dataset`).
- Make a dataset -> itself, across its rerun: the dataset just created, copied or imported (`select_dataset`,
  `take_selected_dataset`).
- trainer / Draw -> Draw, How it learns, the sidebar (app.py reads the same key): the active model
  (`set_active_model`, `active_model_choice`).
- Class page -> Draw: a wall drawing for the canvas, and whose it is (`drawing_to_draw`; Draw's `take_drawing`,
  `pending_drawing`, `shown_from_wall`, `forget_shown`).
- Draw -> How it learns: the brush size (`brush`); the drawing itself is the shared canvas widget (`CANVAS`, kept
  across pages by ui.keep).
"""
from __future__ import annotations

import streamlit as st

CANVAS = "canvas"                       # the drawing canvas's widget key, the same on Draw and How it learns
_SPEC, _SPEC_FRESH = "train_spec", "train_spec_fresh"
_DATASET_FRESH, _DATASET_SELECT = "train_dataset_fresh", "ds_select"
_ACTIVE = "active_checkpoint"
_WALL_DRAWING, _WALL_SHOWN = "_wall_handed", "_wall_shown"
_BRUSH, BRUSH_DEFAULT = "draw_brush", 20


def network_to_trainer(spec_json: dict) -> None:
    """The calculator's network (Spec.to_json()) becomes the trainer's, selected when the trainer opens."""
    st.session_state[_SPEC] = spec_json
    st.session_state[_SPEC_FRESH] = True


def calculator_network() -> dict | None:
    """The network the calculator handed over (its JSON), or None when it never did."""
    return st.session_state.get(_SPEC)


def take_network() -> bool:
    """True once, on the trainer's first run after *Train this network*."""
    return bool(st.session_state.pop(_SPEC_FRESH, False))


def dataset_to_trainer(key: str) -> None:
    """An own dataset (its registry key) becomes the trainer's dataset when the trainer opens."""
    st.session_state[_DATASET_FRESH] = key


def take_dataset() -> str | None:
    """The dataset key handed over by *Make a dataset*, once; None otherwise."""
    return st.session_state.pop(_DATASET_FRESH, None)


def select_dataset(name: str) -> None:
    """*Make a dataset*: pick `name` in the dataset picker on the next run."""
    st.session_state[_DATASET_SELECT] = name


def take_selected_dataset() -> str | None:
    """The dataset to pick on this run (just created, copied or imported), once; None otherwise."""
    return st.session_state.pop(_DATASET_SELECT, None)


def set_active_model(name: str) -> None:
    """The model *Draw a digit* (and the sidebar) use from now on."""
    st.session_state[_ACTIVE] = name


def active_model_choice() -> str | None:
    """The session's last chosen or trained model (pagestate.active_model resolves it against what exists)."""
    return st.session_state.get(_ACTIVE)


def drawing_to_draw(canvas_state: dict, who: str) -> None:
    """A wall drawing (the canvas's value) for Draw's canvas, and whose it is, for the caption above it."""
    st.session_state[_WALL_DRAWING] = canvas_state
    st.session_state[_WALL_SHOWN] = (who, len(canvas_state["drawing"]["raw"]["objects"]))


def take_drawing() -> dict | None:
    """Draw, before its canvas: the handed-over drawing, once; None otherwise."""
    return st.session_state.pop(_WALL_DRAWING, None)


def pending_drawing() -> dict | None:
    """The handed-over drawing not yet on the canvas, without taking it."""
    return st.session_state.get(_WALL_DRAWING)


def shown_from_wall() -> tuple[str, int] | None:
    """(whose wall drawing the canvas holds, its number of strokes), until someone draws on it."""
    return st.session_state.get(_WALL_SHOWN)


def forget_shown() -> None:
    """The canvas is no longer the wall drawing as handed over."""
    st.session_state.pop(_WALL_SHOWN, None)


def brush() -> int:
    """The brush size chosen on Draw (How it learns draws with the same one)."""
    return st.session_state.get(_BRUSH, BRUSH_DEFAULT)
