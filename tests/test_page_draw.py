"""The draw page under AppTest (with a drawing injected as the canvas sends it) and its figures."""
from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
from PIL import Image
from streamlit.testing.v1 import AppTest

from cnnviz import arch, explain, preprocess, probe
from cnnviz.figures import draw as figs
from cnnviz.trainconfig import TrainConfig

PAGE = Path(__file__).resolve().parents[1] / "app_pages" / "draw.py"


def stroke_one() -> np.ndarray:
    """A '1' as the canvas returns it: (280, 280, 4) uint8, white vertical stroke on opaque black."""
    canvas = np.zeros((280, 280, 4), np.uint8)
    canvas[..., 3] = 255
    canvas[50:230, 130:150, :3] = 255
    return canvas


def stroke_zero() -> np.ndarray:
    """A '0': an ellipse ring, 18 px thick."""
    canvas = np.zeros((280, 280, 4), np.uint8)
    canvas[..., 3] = 255
    ys, xs = np.mgrid[0:280, 0:280]
    r = np.sqrt(((ys - 140) / 95.0) ** 2 + ((xs - 140) / 65.0) ** 2)
    canvas[(r > 0.82) & (r < 1.0), :3] = 255
    return canvas


def canvas_state(rgba: np.ndarray) -> dict:
    """The canvas component's value (streamlit-drawable-canvas 0.13): the PNG as a data URL."""
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, format="PNG")
    url = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
    return {"drawing": {"raw": {"objects": []}, "data": url}, "backgroundFit": None}


def _page(**state) -> AppTest:
    at = AppTest.from_file(str(PAGE), default_timeout=60)
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def test_empty_canvas_shows_a_hint_not_a_prediction():
    at = _page()
    assert not at.exception
    assert any("Draw a digit" in i.value for i in at.info)
    assert len(at.metric) == 0 and not at.error
    assert at.session_state["active_checkpoint"] == "tutorial_a"


@pytest.mark.parametrize("drawing, digit", [(stroke_one, "1"), (stroke_zero, "0")])
def test_injected_drawing_is_predicted(drawing, digit):
    at = _page(canvas=canvas_state(drawing()))
    assert not at.exception and not at.error
    assert [m.value for m in at.metric] == [digit]
    assert at.metric[0].label == "tutorial_a says"
    assert "Inside the network" in [h.value for h in at.subheader]


def test_compare_two_models_side_by_side():
    at = _page(canvas=canvas_state(stroke_one()), draw_compare=True, draw_model_2="keras_small")
    assert not at.exception and not at.error
    assert [m.label for m in at.metric] == ["tutorial_a says", "keras_small says"]
    assert [m.value for m in at.metric] == ["1", "1"]


def test_random_mnist_digit():
    at = _page(draw_source="Random MNIST test digit", draw_digit=0)  # test digit #0 is a 7
    assert not at.exception and not at.error
    assert [m.value for m in at.metric] == ["7"]
    at.button[0].click().run()  # 🎲 another digit: the first of a seeded sequence
    assert at.session_state["draw_digit"] != 0 and len(at.metric) == 1 and not at.exception
    assert any(f"Test digit #{at.session_state['draw_digit']}" in c.value for c in at.caption)


def _png(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return buf.getvalue()


def test_upload_a_photo_of_a_digit():
    paper = np.full((200, 160), 230, np.uint8)
    paper[30:170, 70:85] = 40  # a dark "1" on light paper
    at = _page(draw_source="Upload a picture")
    assert any("Upload a picture" in i.value for i in at.info)
    at.file_uploader[0].set_value(("one.png", _png(paper), "image/png"))
    at.run()
    assert not at.exception and not at.error
    assert [m.value for m in at.metric] == ["1"]
    assert any("inverted" in c.value for c in at.caption)


@pytest.mark.parametrize("content, message", [(b"not a picture at all", "not a picture"),
                                              (_png(np.zeros((1, 1), np.uint8)), "1x1 pixels")])
def test_bad_uploads_get_a_message(content, message):
    at = _page(draw_source="Upload a picture")
    at.file_uploader[0].set_value(("digit.png", content, "image/png"))
    at.run()
    assert not at.exception and len(at.metric) == 0
    assert message in at.error[0].value


def test_single_dot_gets_a_message():
    canvas = np.zeros((280, 280, 4), np.uint8)
    canvas[..., 3] = 255
    canvas[130:145, 130:145, :3] = 255
    at = _page(canvas=canvas_state(canvas))
    assert not at.exception and len(at.metric) == 0
    assert "dot" in at.error[0].value


# ---- figures (cnnviz.figures.draw), built from dicts without validation: validate them here ----

def _validated(fig: go.Figure) -> go.Figure:
    for trace in fig.to_dict()["data"]:  # named colorscales are resolved in Python only when validating
        assert not isinstance(trace.get("colorscale", []), str), trace["colorscale"]
    return go.Figure(fig.to_dict())  # raises on any invalid property


@pytest.fixture(scope="module")
def look_and_pixels():
    torch.manual_seed(0)
    model = arch.build(arch.PRESETS["tutorial_a"]).eval()
    prepared = preprocess.to_mnist(stroke_one())
    return probe.look(model, prepared.tensor), prepared


def test_panel_figures_are_valid_and_labelled_from_dims(look_and_pixels):
    look, prepared = look_and_pixels
    layers = figs.layer_views(look)
    titles = [v.title for v in layers]
    assert titles == ["conv1 → 16×28×28", "relu1 → 16×28×28", "pool1 → 16×14×14", "conv2 → 32×14×14",
                      "relu2 → 32×14×14", "pool2 → 32×7×7", "flatten → 1568", "fc1 → 10"]
    conv1 = layers[0].maps
    _validated(conv1)
    assert len(conv1.data) == 1 and conv1.data[0].type == "heatmap"  # ONE tiled heatmap, not subplots
    assert np.asarray(conv1.data[0].z).shape == (4 * 29 - 1, 4 * 29 - 1)  # 16 maps, 4x4, 1-px gaps
    assert conv1.layout.title.text == "conv1 → 16×28×28"
    assert np.asarray(layers[3].kernels.data[0].z).shape == (32 * 6 - 1, 16 * 6 - 1)
    assert _validated(layers[6].maps).data[0].type == "bar"
    assert [v.kernels is not None for v in layers] == [True, False, False, True] + [False] * 4
    verdict = look.inspection.verdict
    saliency = figs.panel_saliency(look, prepared.pixels)
    for fig in (figs.probabilities(look.inspection.probs, verdict.labels, verdict.index), saliency):
        _validated(fig)
    assert len(saliency.data) == 4  # (digit + Grad-CAM), (digit + input gradient)


def test_enlarged_map(look_and_pixels):
    look, _ = look_and_pixels
    assert figs.enlargeable(look) == {"conv1": 16, "relu1": 16, "pool1": 16, "conv2": 32, "relu2": 32, "pool2": 32}
    fig = figs.enlarged(look, "pool1", 5)
    _validated(fig)
    np.testing.assert_allclose(np.asarray(fig.data[0].z, dtype=np.float32),
                               look.inspection.activations["pool1"][0, 5].numpy())
    with pytest.raises(ValueError, match="maps 0..15, not 16"):
        figs.enlarged(look, "conv1", 16)
    with pytest.raises(ValueError, match="no feature maps"):
        figs.enlarged(look, "fc1", 0)


def test_dropout_layers_get_a_note():
    model = arch.build(arch.PRESETS["keras_small"]).eval()
    look = probe.look(model, torch.zeros(1, 1, 28, 28))
    views = figs.layer_views(look)
    dropout = [v for v in views if v.name == "dropout1"][0]
    assert dropout.maps is None and "switched off" in dropout.note


def test_look_refuses_other_input_shapes():
    spec = arch.Spec.from_json({"input_shape": [3, 32, 32], "layers": [{"type": "flatten"},
                                                                       {"type": "linear", "out_features": 10}]})
    with pytest.raises(ValueError, match="3×32×32"):
        probe.look(arch.build(spec), torch.zeros(1, 3, 32, 32))


def test_inside_the_network_explains_the_clicked_unit():
    """A click on conv2's tile 5, then on its pixel (3, 6) (as the selection events leave them): the arithmetic
    ends on the number the map holds; before any click there is no explanation (a stroke stays cheap)."""
    assert not [m for m in _page(canvas=canvas_state(stroke_zero())).markdown if " holds " in m.value]
    at = _page(canvas=canvas_state(stroke_zero()), draw_pick={"tutorial_a": (2, 5, (3, 6))})
    assert not at.exception and not at.error
    held = [m.value for m in at.markdown if " holds " in m.value]
    assert len(held) == 1 and held[0].startswith("**relu2, map 5, row 3, col 6**")
    value = held[0].split("`")[1]
    lines = [c.value for c in at.code]
    assert "bias" in lines[-2] and lines[-1].startswith("relu(") and lines[-1].endswith(f"= {value}")
    from cnnviz import glossary  # the lines' symbols (Σ, bias, ReLU) are explained beside them, in the "?"
    tip = next(m for m in at.markdown if " holds " in m.value).proto.help
    assert all(glossary.entry(term).sentence in tip for term in ("Σ", "bias", "ReLU"))
    assert any("Receptive field" in m.value for m in at.markdown)


def test_explanation_figures(look_and_pixels):
    look, prepared = look_and_pixels
    model = arch.build(arch.PRESETS["tutorial_a"]).eval()
    acts = look.inspection.activations
    x = prepared.tensor
    conv = explain.unit(model, x, acts, "conv2", (3, 5, 6))
    assert len(_validated(figs.conv_arithmetic(conv)).data) == 3
    src = _validated(figs.source_window(acts["pool1"][0].numpy(), conv, "pool1"))
    assert len(src.layout.shapes) == 16  # the window outlined on every input channel
    pool = explain.unit(model, x, acts, "pool1", (2, 3, 4))
    assert len(_validated(figs.pool_window(pool)).layout.shapes) == 1
    fc = explain.unit(model, x, acts, "fc1", (1,))
    assert len(_validated(figs.contributions(fc)).data[0].y) == explain.TOP_TERMS + 2
    pick = _validated(figs.pick_map(acts["relu2"][0, 3].numpy(), "relu2 map 3", (5, 6)))
    assert len(pick.data[1].customdata) == 14 * 14 and len(pick.layout.shapes) == 1
    field = explain.receptive_field(look.spec, "conv2", 5, 6)
    rf = _validated(figs.receptive(prepared.pixels, field, prepared.steps[0][1], (10, 40, 10, 40)))
    assert len(rf.layout.shapes) == 2


def test_a_scribble_gets_the_not_a_digit_warning():
    canvas = np.zeros((280, 280, 4), np.uint8)
    canvas[..., 3] = 255
    for k in range(6):  # a zigzag across most of the canvas
        ys, xs = np.mgrid[0:280, 0:280]
        y0, y1 = (40, 240) if k % 2 == 0 else (240, 40)
        x0 = 30 + 40 * k
        t = np.clip(((xs - x0) * 40 + (ys - y0) * (y1 - y0)) / (40 ** 2 + (y1 - y0) ** 2), 0, 1)
        near = (xs - (x0 + 40 * t)) ** 2 + (ys - (y0 + (y1 - y0) * t)) ** 2 <= 10 ** 2
        canvas[near, :3] = 255
    at = _page(canvas=canvas_state(canvas))
    assert not at.exception and len(at.metric) == 1
    assert any("Not a digit?" in w.value for w in at.warning)
    clean = _page(canvas=canvas_state(stroke_zero()))
    assert not any("Not a digit?" in w.value for w in clean.warning)


def test_saliency_beside_random_weights_and_the_detail_view():
    at = _page(canvas=canvas_state(stroke_one()), draw_why=True, draw_sanity=True, draw_detail=True)
    assert not at.exception and not at.error
    note = [c.value for c in at.caption if "random weights" in c.value]
    assert len(note) == 1 and "rank similarity Grad-CAM: " in note[0] and "proves little" in note[0]
    plain = _page(canvas=canvas_state(stroke_one()))
    assert not [c for c in plain.caption if "random weights" in c.value]
    # the detail view adds tutorial_a's 8 layers' maps and its 2 conv layers' kernels; Why adds 2 saliency figures
    assert len(at.get("plotly_chart")) == len(plain.get("plotly_chart")) + 8 + 2 + 2


def _save_early_model(tmp_path, monkeypatch, data_root):
    """tutorial_a after 8 batches of 512 real MNIST digits, saved as "early" with its snapshots: (result, card, the
    test split)."""
    from cnnviz import checkpoints, data, snapshots
    from cnnviz import train as tr
    from cnnviz.card import Card

    monkeypatch.setenv("CNNVIZ_USER_CHECKPOINTS", str(tmp_path))
    test = data.load("mnist", "test", root=data_root)
    small = data.Split("mnist", "train", test.images[2000:2512], test.labels[2000:2512], test.mean, test.std)
    config = TrainConfig(batch_size=32, max_batches=8, val_every=0, live_every_s=0)
    result = tr.train(arch.PRESETS["tutorial_a"], config, small, test.subset(200))
    card = Card.from_result(result, "early", how="test")
    checkpoints.save(result.model, card, extras={snapshots.EXTRA: snapshots.to_tensors(result.snapshots)})
    return result, card, test


def test_a_model_trained_in_the_app_can_be_seen_at_an_earlier_snapshot(tmp_path, monkeypatch, data_root):
    """The Draw page shows the drawing's feature maps with the weights of any training snapshot."""
    from cnnviz import snapshots

    result, card, test = _save_early_model(tmp_path, monkeypatch, data_root)
    at = _page(draw_model="early", draw_source="Random MNIST test digit", draw_digit=0)
    assert not at.exception
    slider = at.select_slider(key="draw_snap_0")
    assert [slider.format_func(i) for i in (0, 2)] == ["before training", "trained (the end)"]
    said = at.metric[0].value  # with the trained weights; now back to before training
    slider.set_value(0).run()
    assert not at.exception and at.metric and "says" in at.metric[0].label
    untrained = snapshots.model_at(arch.PRESETS["tutorial_a"], result.snapshots[0])
    x = test.images[:1]
    expected = probe.class_labels(card)[int(untrained(x).argmax())]
    assert at.metric[0].value == expected, (said, at.metric[0].value, expected)  # the untrained network answers


def _sidebar_model(at) -> str:
    return next(c.value for c in at.sidebar.caption if c.value.startswith("Active model"))


def test_the_sidebar_names_the_model_draw_uses_before_and_after_draw_ran():
    """It said 'Active model: pick one on Draw a digit' while Draw showed tutorial_a."""
    # the calculator first: Draw has not run yet
    at = AppTest.from_file(str(PAGE.parents[1] / "app.py"), default_timeout=90).run()
    assert not at.exception and _sidebar_model(at) == "Active model: **tutorial_a**"
    at.switch_page("app_pages/draw.py").run()
    assert at.selectbox(key="draw_model").value == "tutorial_a" and _sidebar_model(at) == "Active model: **tutorial_a**"
    at.selectbox(key="draw_model").select("lenet5").run()
    assert _sidebar_model(at) == "Active model: **lenet5**"
    at.switch_page("app_pages/dimensions.py").run()
    assert _sidebar_model(at) == "Active model: **lenet5**"
    linked = AppTest.from_file(str(PAGE.parents[1] / "app.py"), default_timeout=90)
    linked.switch_page("app_pages/draw.py")
    linked.query_params["model"] = "tutorial_b"  # a shared link opens Draw with another model
    linked.run()
    assert linked.selectbox(key="draw_model").value == "tutorial_b" and _sidebar_model(linked).endswith("tutorial_b**")


def _save_own_model(tmp_path, monkeypatch) -> str:
    """tutorial_a trained on the shipped shapes dataset as the trainer trains it, saved with its snapshots."""
    from cnnviz import checkpoints, ownsplits, snapshots
    from cnnviz import train as tr
    from cnnviz.card import Card

    monkeypatch.setenv("CNNVIZ_USER_CHECKPOINTS", str(tmp_path))
    train, test = ownsplits.splits("shapes", 0)
    config = TrainConfig(dataset=train.name, live_every_s=0, val_every=0)
    result = tr.train(arch.with_num_classes(arch.PRESETS["tutorial_a"], 3), config, train, test)
    card = Card.from_result(result, "shapes-a", how="test")
    checkpoints.save(result.model, card, extras={snapshots.EXTRA: snapshots.to_tensors(result.snapshots)})
    return "shapes-a"


def test_a_drawing_unlike_your_classes_is_not_one_of_them_and_before_training_the_model_is_to_blame(
        tmp_path, monkeypatch, data_root):
    """A model of your own classes warns "not one of your classes?" (it never warned: a digit was
    'triangle 87%'); at the replay's 'before training' the warning blames the untrained network, not the drawing."""
    name = _save_own_model(tmp_path, monkeypatch)
    ring = _page(draw_model=name, canvas=canvas_state(stroke_zero()))  # a circle: one of its classes
    assert not ring.exception and ring.metric[0].value == "circle"
    assert not [w for w in ring.warning if "classes" in w.value]
    at = _page(draw_model=name, draw_source="Random MNIST test digit", draw_digit=0)  # a 7
    assert not at.exception
    said = [w.value for w in at.warning]
    assert any(w.startswith("**Not one of your classes (circle, square, triangle)?** This does not look like the "
                            "drawings of circle, square, triangle") for w in said), said
    at.select_slider(key="draw_snap_0").set_value(0).run()  # the network before training
    said = [w.value for w in at.warning]
    assert len(said) == 1 and said[0].startswith("**The network is untrained.**"), said
    assert "does not look like" not in said[0] and "classes?" not in said[0]


def test_an_mnist_model_before_training_is_called_untrained_not_the_drawing_odd(tmp_path, monkeypatch, data_root):
    _save_early_model(tmp_path, monkeypatch, data_root)
    at = _page(draw_model="early", canvas=canvas_state(stroke_one()), draw_snap_0=0)
    assert not at.exception
    said = [w.value for w in at.warning]
    assert len(said) == 1 and said[0].startswith("**The network is untrained.**"), said
    assert "Not a digit" not in said[0] and "does not look like the digits" not in said[0]
