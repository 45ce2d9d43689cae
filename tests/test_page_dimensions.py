"""AppTest: the app entry and the calculator page run, and show numbers cnnviz computed."""
from conftest import ROOT
from streamlit.testing.v1 import AppTest

from cnnviz import dims
from cnnviz.arch import PRESETS


def _page() -> AppTest:
    return AppTest.from_file(str(ROOT / "app_pages" / "dimensions.py"), default_timeout=60)


def test_app_entry_runs():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert any("Computing on" in c.value for c in at.sidebar.caption)


def test_one_layer_default_is_the_tutorials_same_example():
    at = _page().run()
    assert not at.exception
    out = next(m for m in at.metric if m.label.startswith("Output size"))
    assert out.value == "5" and "same" in out.label   # W=5, K=3, P=1, S=1


def test_one_layer_floor_warning_and_impossible_error():
    at = _page().run()
    at.number_input(key="pad").set_value(0)
    at.number_input[3].set_value(2)  # stride
    at.number_input[0].set_value(6)  # W=6, K=3, P=0, S=2: 1.5 -> floor
    at.run()
    assert any("rounds down" in w.value for w in at.warning)
    at.number_input[1].set_value(9).run()  # K=9 > W=6
    assert not at.exception
    assert any("Impossible layer" in e.value and "kernel 9 > input 6" in e.value for e in at.error)


def test_network_table_shows_shapes_and_totals():
    at = _page().run()
    table = at.dataframe[1].value
    expected = [dims.shape_str(r.out_shape) for r in dims.table(PRESETS["tutorial_a"])]
    assert list(table["output shape"]) == expected
    params = next(m for m in at.metric if m.label == "Parameters")
    assert params.value == "28,938"


def test_choosing_a_preset_recomputes():
    at = _page().run()
    at.selectbox[0].select("keras_small").run()
    assert not at.exception
    assert next(m for m in at.metric if m.label == "Parameters").value == "5,994"


def test_impossible_input_shape_is_marked_not_raised():
    at = _page().run()
    at.selectbox[0].select("tutorial_c").run()
    at.number_input(key="calc_in_h").set_value(10).run()  # 10 -> 6 -> 3 -> conv 5x5 impossible
    assert not at.exception
    assert any("impossible" in e.value and "conv2" in e.value for e in at.error)
    status = list(at.dataframe[1].value["status"])
    assert status[:3] == ["✅"] * 3 and status[3].startswith("❌")


def test_a_shipped_checkpoints_network_opens_in_the_calculator():
    at = _page().run()
    assert "checkpoint: tutorial_a" in at.selectbox[0].options
    at.selectbox[0].select("checkpoint: tutorial_a").run()
    assert not at.exception
    assert next(m for m in at.metric if m.label == "Parameters").value == "28,938"


def test_one_layer_pooling_follows_torchs_padding_rule():
    import torch

    at = _page().run()
    at.radio[0].set_value("Pooling").run()
    at.number_input[0].set_value(7)
    at.number_input[1].set_value(3)
    at.number_input(key="pad").set_value(2)
    at.number_input[3].set_value(2).run()  # the W=7, K=3, P=2, S=2: torch refuses it
    assert not at.exception and not [m for m in at.metric if m.label.startswith("Output size")]
    assert any("padding 2 is more than half the kernel 3" in e.value for e in at.error)
    try:
        torch.nn.MaxPool2d(3, 2, padding=2)(torch.zeros(1, 1, 7, 7))
    except RuntimeError as err:
        assert "pad should be at most half" in str(err)
    else:
        raise AssertionError("torch accepted the layer the calculator refuses")
    at.number_input(key="pad").set_value(1).run()  # P = K // 2 is allowed, and the output is torch's
    out = next(m for m in at.metric if m.label.startswith("Output size"))
    assert int(out.value) == torch.nn.MaxPool2d(3, 2, padding=1)(torch.zeros(1, 1, 7, 7)).shape[-1] == 4


def test_a_network_too_big_to_train_is_refused_with_its_numbers():
    at = _page().run()
    assert any(c.value.startswith("Fits: this network needs ~") for c in at.caption)
    assert not at.button[-1].disabled  # Train this network
    for key in ("calc_in_c", "calc_in_h", "calc_in_w"):  # tutorial_a on a 1024x1024x1024 input
        at.number_input(key=key).set_value(1024)
    at.run()
    assert not at.exception
    err = next(e.value for e in at.error if "Too big for this server" in e.value)
    assert "to train at batch 128" in err and "free" in err
    train = next(b for b in at.button if "Train this network" in b.label)
    assert train.disabled


def test_one_layer_huge_input_is_summarised():
    at = _page().run()
    at.number_input[0].set_value(4096).run()
    assert not at.exception
    assert any("Summarised: showing the first 40 and last 14 of the 4,098 cells" in c.value for c in at.caption)


def test_switching_to_pooling_keeps_the_stride_and_same_padding_warns_nothing():
    at = _page().run()
    at.number_input(key="calc_s").set_value(3).run()
    at.radio(key="calc_kind").set_value("Pooling").run()
    assert at.number_input(key="calc_s").value == 3
    at.number_input(key="calc_k").set_value(5)
    at.button[0].click().run()  # "Same padding": sets P through Session State, once
    assert not at.exception and at.number_input(key="pad").value == 2


def test_a_link_opens_the_network_tab_with_its_input_shape():
    at = _page()
    at.query_params.update(tab="A whole network", net="lenet5", c="1", h="40", iw="40", w="9")
    at.run()
    assert not at.exception and not at.warning
    assert at.number_input(key="calc_w").value == 9 and at.selectbox(key="calc_net").value == "lenet5"
    assert [at.number_input(key=k).value for k in ("calc_in_c", "calc_in_h", "calc_in_w")] == [1, 40, 40]
    at.selectbox(key="calc_net").select("tutorial_a").run()  # another network: its own input shape
    assert at.number_input(key="calc_in_h").value == 28 and "net" not in at.query_params  # the default


def test_edited_layers_go_into_the_link_and_a_link_opens_them():
    at = _page()
    at.query_params.update(tab="A whole network", net="tutorial_a")
    at.run()
    assert "layers" not in at.query_params  # the preset's own layers: nothing to add
    layers = '[{"type":"conv","out_channels":4,"kernel_size":3},{"type":"relu"},{"type":"flatten"},' \
             '{"type":"linear","out_features":10}]'
    fresh = _page()
    fresh.query_params.update(tab="A whole network", net="tutorial_a", layers=layers)
    fresh.run()
    assert not fresh.exception and not fresh.warning
    assert next(m for m in fresh.metric if m.label == "Parameters").value == f"{4 * 9 + 4 + 4 * 26 * 26 * 10 + 10:,}"
    assert '"out_channels":4' in fresh.query_params["layers"]
    broken = _page()
    broken.query_params.update(tab="A whole network", layers="[{nope")
    broken.run()
    assert not broken.exception and any("not valid JSON" in w.value for w in broken.warning)
