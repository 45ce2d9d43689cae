"""Draw's overview as pictures (cnnviz.figures.overview): the colours plotly would paint, each tile where the
component's click arithmetic looks for it, the real activations of a real network in it, names kept as text."""
from __future__ import annotations

import base64
import io

import numpy as np
import pytest
import torch
from PIL import Image
from plotly.colors import get_colorscale, sample_colorscale

from cnnviz import arch, explain, preprocess, probe
from cnnviz.figures import overview as ov
from cnnviz.figures.common import tile


def _decoded(src: str) -> np.ndarray:
    """A data: URI's PNG as (H, W, 3) uint8."""
    assert src.startswith("data:image/png;base64,")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))).convert("RGB"))


def _plotly_rgb(name: str, values) -> np.ndarray:
    return np.array([[float(v) for v in c[4:-1].split(",")] for c in
                     sample_colorscale(get_colorscale(name), list(values))])


@pytest.mark.parametrize("name", ["Viridis", "gray", "RdBu"])
def test_colours_are_the_ones_plotly_samples_from_its_own_scale(name):
    values = np.linspace(0, 1, 101, dtype=np.float32)
    got = ov.coloured(values.reshape(1, -1), name)[0].astype(float)
    assert np.abs(got - _plotly_rgb(name, values)).max() <= 2  # 256 steps vs plotly's exact interpolation


def test_colours_clip_to_the_range_and_paint_gaps_white():
    got = ov.coloured(np.array([[-5.0, 0.0, 5.0, np.nan]]), "RdBu", -1.0, 1.0)[0]
    ends = _plotly_rgb("RdBu", [0.0, 0.5, 1.0])
    assert np.abs(got[:3].astype(float) - ends).max() <= 1 and got[3].tolist() == [255, 255, 255]
    with pytest.raises(ValueError, match="non-empty"):
        ov.coloured(np.zeros((0, 3)), "Viridis")


@pytest.fixture(scope="module")
def look_and_pixels():
    torch.manual_seed(0)
    model = arch.build(arch.PRESETS["tutorial_a"]).eval()
    canvas = np.zeros((280, 280, 4), np.uint8)
    canvas[..., 3] = 255
    canvas[50:230, 130:150, :3] = 255  # a "1"
    prepared = preprocess.to_mnist(canvas)
    return model, probe.look(model, prepared.tensor), prepared


def test_a_column_per_layer_headed_by_name_and_shape(look_and_pixels):
    _, look, prepared = look_and_pixels
    payload = ov.overview(look, prepared.pixels, explain.stages(look.spec))
    cols = payload["columns"]
    assert [c["heading"] for c in cols] == [["input", "28×28"], ["conv1", "16×28×28"], ["pool1", "16×14×14"],
                                            ["conv2", "32×14×14"], ["pool2", "32×7×7"], ["fc1", "10"],
                                            ["probabilities", ""]]
    assert [c.get("n") for c in cols] == [0, 16, 16, 32, 32, 10, None]
    assert [c["k"] for c in cols] == [-1, 0, 1, 2, 3, 4, 4]  # the bars pick the last stage's units (logits)
    assert payload["height"] == 420 - ov.HEAD_PX and payload["picked"] is None


def test_each_tile_holds_its_own_map_where_a_click_looks_for_it(look_and_pixels):
    """Tile i of conv2's picture, at (i // cols, i % cols) with 1-px gaps, is relu2's map i in Viridis."""
    _, look, prepared = look_and_pixels
    conv2 = ov.overview(look, prepared.pixels, explain.stages(look.spec))["columns"][3]
    picture = _decoded(conv2["src"])
    assert picture.shape[:2] == (conv2["height"], conv2["width"])
    maps = look.inspection.activations["relu2"][0].numpy()  # (32, 14, 14): what conv2 shows, after its ReLU
    cols, th, tw, gap = conv2["cols"], conv2["th"], conv2["tw"], conv2["gap"]
    assert (th, tw, gap, cols) == (14, 14, 1, ov.overview_cols(32))
    for i in (0, 5, 31):
        r, c = divmod(i, cols)
        cell = picture[r * (th + gap): r * (th + gap) + th, c * (tw + gap): c * (tw + gap) + tw]
        m = maps[i]
        scaled = (m - m.min()) / ((m.max() - m.min()) or 1.0)
        assert np.abs(cell.astype(float) - _plotly_rgb("Viridis", scaled.reshape(-1)).reshape(14, 14, 3)).max() <= 3
    assert (picture[th, :] == 255).all()  # the gap under the first row of tiles


def test_the_flat_last_layer_is_a_strip_of_its_units_with_the_winner_outlined(look_and_pixels):
    _, look, prepared = look_and_pixels
    fc1 = ov.overview(look, prepared.pixels, explain.stages(look.spec))["columns"][5]
    logits = look.inspection.activations["fc1"][0].numpy()
    assert fc1["mark"] == look.inspection.verdict.index == int(logits.argmax())
    assert fc1["labels"][3] == f"fc1 unit 3: {logits[3]:.3g}"
    strip = _decoded(fc1["src"])[:, 0].astype(float)
    limit = np.abs(logits).max()
    assert np.abs(strip - _plotly_rgb("RdBu", (logits / limit + 1) / 2)).max() <= 3  # centred on 0


def test_bars_say_each_probability_and_colour_the_answer(look_and_pixels):
    _, look, prepared = look_and_pixels
    bars = ov.overview(look, prepared.pixels, explain.stages(look.spec))["columns"][-1]["rows"]
    probs, chosen = look.inspection.probs, look.inspection.verdict.index
    assert [b["label"] for b in bars] == [str(d) for d in range(10)]
    assert [b["colour"] for b in bars].count(ov.CHOSEN) == 1 and bars[chosen]["colour"] == ov.CHOSEN
    assert [b["text"] for b in bars] == [f"{p:.0%}" if p >= 0.01 else "" for p in probs]
    assert bars[chosen]["width"] == pytest.approx(100 * probs[chosen], abs=0.01)


def test_presenter_rows_give_the_maps_the_width_and_the_pick_comes_back(look_and_pixels):
    _, look, prepared = look_and_pixels
    stages = explain.stages(look.spec)
    plain, big = (ov.overview(look, prepared.pixels, stages, *args) for args in ((420, None), (560, 8, (2, 5), 16)))
    assert [c["cols"] for c in big["columns"][1:5]] == [2, 2, 4, 4]  # at most 8 tiles tall
    assert (big["columns"][0]["share"], plain["columns"][0]["share"]) == (0.45, 0.7)  # the input gives way
    assert big["picked"] == [2, 5] and big["font"] == 16


def test_hostile_class_names_stay_text_for_the_component():
    """Names travel as data; the component sets them with textContent (app_pages/parts/draw_overview.py)."""
    name = "<img src=x onerror=alert(1)>"
    col = ov._bars(np.array([0.5, 0.5]), (name, "b"), 0, 1.0, None)
    assert col["rows"][0]["label"] == name
    from pathlib import Path
    js = (Path(__file__).resolve().parents[1] / "app_pages" / "parts" / "draw_overview.py").read_text()
    assert "innerHTML" not in js


def test_overview_tile_pixels_track_the_real_network(look_and_pixels):
    """The pictures come from the model's own activations: another drawing, other tiles."""
    model, look, prepared = look_and_pixels
    stages = explain.stages(look.spec)
    other = preprocess.to_mnist(np.pad(np.full((100, 100, 4), 255, np.uint8), ((90, 90), (90, 90), (0, 0))))
    a = ov.overview(look, prepared.pixels, stages)["columns"][1]["src"]
    b = ov.overview(probe.look(model, other.tensor), other.pixels, stages)["columns"][1]["src"]
    assert a != b
    grid = tile(look.inspection.activations["relu1"][0].numpy(), cols=ov.overview_cols(16))
    assert _decoded(a).shape[:2] == grid.shape
