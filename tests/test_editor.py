"""editor: the calculator's table <-> spec, and impossible layers marked without losing the rest."""
import math
import re

import pytest

from cnnviz import editor
from cnnviz.arch import PRESETS


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_records_round_trip_every_preset(name):
    spec = PRESETS[name]
    rep = editor.report(spec.input_shape, editor.spec_to_records(spec), spec.name)
    assert rep.error is None and rep.spec == spec
    assert all(r.status == "ok" for r in rep.rows)


def test_nan_cells_from_the_data_editor_are_empty():
    rows = [{"order": 1, "type": "conv", "size": 4.0, "kernel_size": 3.0, "stride": math.nan, "padding": math.nan,
             "dilation": None, "p": math.nan},
            {"order": 2, "type": "flatten", "size": math.nan, "kernel_size": 7.0},  # unused cell ignored
            {"order": math.nan, "type": None, "size": math.nan}]                    # blank row dropped
    rep = editor.report((1, 8, 8), rows)
    assert rep.error is None
    assert [r.out_shape for r in rep.rows] == ["4×6×6", "144"]


def test_order_column_moves_rows():
    rows = [{"order": 1, "type": "flatten"}, {"order": 2, "type": "linear", "size": 5},
            {"order": 0.5, "type": "relu"}]
    rep = editor.report((1, 4, 4), rows)
    assert [r.type for r in rep.rows] == ["relu", "flatten", "linear"]


def test_impossible_layer_is_marked_and_the_rest_still_shows():
    spec = PRESETS["tutorial_c"]
    rows = editor.spec_to_records(spec)
    rows[3]["kernel_size"] = 20  # conv2 with a 20x20 kernel on a 12x12 input
    rep = editor.report(spec.input_shape, rows)
    assert rep.spec is None
    assert [r.status for r in rep.rows] == ["ok"] * 3 + ["error"] + ["skipped"] * 4
    assert "conv2" in rep.rows[3].reason and "kernel 20 > input 12" in rep.rows[3].reason
    assert rep.rows[2].out_shape == "16×12×12"


def test_the_table_shows_numbers_bytes_and_status_in_words():
    spec = PRESETS["tutorial_c"]
    rows = editor.spec_to_records(spec)
    rows[3]["kernel_size"] = 20
    shown = [editor.display_row(r) for r in editor.report(spec.input_shape, rows).rows]
    assert shown[0] == {"layer": "conv1", "type": "conv", "output shape": "16×24×24", "parameters": "416",
                        "MACs": "230,400", "activation memory": "36.0 KiB", "receptive field": "5×5", "status": "✅"}
    assert shown[3]["status"].startswith("❌ ") and "kernel 20 > input 12" in shown[3]["status"]
    assert shown[4]["status"].startswith("— ") and shown[4]["parameters"] == shown[4]["MACs"] == ""


def test_unparseable_row_is_marked():
    rows = [{"order": 1, "type": "conv", "size": 4, "kernel_size": 2.5}, {"order": 2, "type": "relu"}]
    rep = editor.report((1, 8, 8), rows)
    assert rep.rows[0].status == "error" and "kernel_size must be a whole number" in rep.rows[0].reason
    assert rep.rows[1].status == "skipped"
    rep = editor.report((1, 8, 8), [{"order": 1, "type": "conv", "kernel_size": 3}])
    assert "needs out_channels" in rep.error


def test_layers_round_trip_through_link_text():
    from cnnviz.arch import PRESETS

    start = PRESETS["tutorial_a"]
    assert editor.layers_text(start, start) == "" and editor.layers_spec("", start) is start
    other = PRESETS["keras_small"]
    text = editor.layers_text(other, start)
    back = editor.layers_spec(text, start)
    assert back.to_json()["layers"] == other.to_json()["layers"] and back.input_shape == start.input_shape
    for bad, why in (("[{", "not valid JSON"), ('{"a": 1}', "not a list"),
                     ('[{"type": "warp"}]', "unknown layer type 'warp'")):
        with pytest.raises(ValueError, match=why):
            editor.layers_spec(bad, start)


@pytest.mark.parametrize("text, why", [
    ("[" * 1_000 + "]" * 1_000, "the link's layers are nested 1,000 levels deep, more than 4"),
    ('[{"type": "conv", "out_channels": 1' + "0" * 300 + ', "kernel_size": 3}]',
     "layer 1: conv: out_channels must be at most 10,000,000"),
], ids=["nested 1,000 deep", "out_channels 10**300"])
def test_hostile_link_layers_are_a_value_error_naming_them(text, why):
    with pytest.raises(ValueError, match=re.escape(why)):
        editor.layers_spec(text, PRESETS["tutorial_a"])
    with pytest.raises(ValueError, match=re.escape(why)):
        editor.check_layers(text)
    editor.check_layers("")  # the network's own layers
    editor.check_layers(editor.layers_text(PRESETS["keras_small"], PRESETS["tutorial_a"]))


def test_a_cell_beyond_the_bound_marks_its_row():
    rep = editor.report((1, 28, 28), [{"order": 1, "type": "conv", "size": 1e300, "kernel_size": 3}])
    assert rep.spec is None and "out_channels must be at most 10,000,000" in rep.rows[0].reason
