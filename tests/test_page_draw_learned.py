"""Draw's "what has this channel learned?" under AppTest: shown only when asked, for a conv channel, with the
numbers cnnviz.units computes."""
from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from cnnviz import checkpoints, data, units
from tests.test_page_draw import canvas_state, stroke_zero

PAGE = Path(__file__).resolve().parents[1] / "app_pages" / "draw.py"


def _page(data_root, **state) -> AppTest:
    at = AppTest.from_file(str(PAGE), default_timeout=60)
    at.session_state["canvas"] = canvas_state(stroke_zero())
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def test_a_conv_channel_shows_its_strongest_test_images_patches_and_grown_input(data_root):
    closed = _page(data_root, draw_pick={"tutorial_a": (2, 5, (3, 6))})
    toggles = [t for t in closed.toggle if t.label.startswith("🔎 What has conv2 map 5 learned")]
    assert len(toggles) == 1 and not toggles[0].value
    assert not [m for m in closed.markdown if "excite conv2 map 5 most" in m.value]
    at = _page(data_root, draw_pick={"tutorial_a": (2, 5, (3, 6))}, learned_0=True)
    assert not at.exception and not at.error
    heading = [m.value for m in at.markdown if "excite conv2 map 5 most" in m.value]
    assert len(heading) == 1 and "(of 10,000;" in heading[0]
    assert len(at.get("plotly_chart")) == len(closed.get("plotly_chart")) + 3
    model, card = checkpoints.load("tutorial_a")
    grown = units.dream(model, "conv2", 5, card.normalize)
    said = [m.value for m in at.markdown if m.value.startswith("**An input grown to excite it**")]
    assert said and f"from {grown.start:.2f} to {grown.end:.2f}" in said[0]
    assert any(units.CAN_AND_CANNOT == c.value for c in at.caption)
    test = data.load("mnist", "test")
    found = units.strongest(model, test.images)["conv2"]
    label = test.classes[int(test.labels[int(found.index[5, 0])])]
    first = f'"text":"{label}\\u003cbr\\u003e({found.values[5, 0]:.2f})"'
    # the images and their patches (the caption's first space is a line break in the figure)
    assert sum(first in c.proto.spec.replace(" ", "") for c in at.get("plotly_chart")) == 2


def test_a_pool_tile_has_no_such_section(data_root):
    at = _page(data_root, draw_pick={"tutorial_a": (1, 5, (3, 6))}, learned_0=True)
    assert not at.exception and not [t for t in at.toggle if t.label.startswith("🔎")]
