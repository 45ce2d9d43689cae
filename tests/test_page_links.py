"""AppTest: a link opens the trainer and draw pages as they were shared; bad values are a note, not a traceback."""
from conftest import ROOT
from streamlit.testing.v1 import AppTest


def _open(page: str, **query) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app_pages" / f"{page}.py"), default_timeout=60)
    at.query_params.update(query)
    return at.run()


def test_a_link_sets_the_training_settings_and_a_bad_value_is_a_note():
    at = _open("trainer", net="lenet5", opt="adam", lr="0.002", batch="64", epochs="1.5", seed="7", data="kmnist9")
    assert not at.exception
    assert (at.selectbox(key="net").value, at.radio(key="opt").value, at.number_input(key="lr").value,
            at.select_slider(key="batch").value, at.number_input(key="epochs").value,
            at.number_input(key="seed").value) == ("lenet5", "adam", 0.002, 64, 1.5, 7)
    assert any("data='kmnist9' ignored" in w.value for w in at.warning)
    at.radio(key="opt").set_value("sgd").run()  # the learning rate follows the optimizer
    assert at.number_input(key="lr").value == 0.075  # TrainConfig.lr, the shipped recipe
    assert at.query_params["net"] == "lenet5" and at.query_params["lr"] == "0.075"


def test_a_link_opens_a_test_digit_with_two_models(data_root):
    at = _open("draw", src="Random MNIST test digit", digit="123", model="lenet5", compare="1", model2="tutorial_b")
    assert not at.exception and not at.warning
    assert any("Test digit #123" in c.value for c in at.caption)
    assert [m.label for m in at.metric][:2] == ["lenet5 says", "tutorial_b says"]


def test_a_link_naming_a_model_that_is_not_there_falls_back_with_a_note():
    at = _open("draw", model="no_such_model", brush="400")
    assert not at.exception
    note = " ".join(w.value for w in at.warning)
    assert "model='no_such_model' ignored" in note and "brush='400' ignored" in note
    assert at.selectbox(key="draw_model").value == "tutorial_a"


def test_hostile_layers_in_a_calculator_link_lose_only_themselves_with_a_note():
    """Nested 1,000 deep (RecursionError before) and out_channels 10**300 (the table's Arrow conversion broke)."""
    for layers, why in (("[" * 1_000 + "]" * 1_000, "nested 1,000 levels deep"),
                        ('[{"type":"conv","out_channels":1' + "0" * 300 + ',"kernel_size":3},{"type":"relu"}]',
                         "out_channels must be at most 10,000,000")):
        at = _open("dimensions", tab="A whole network", net="lenet5", layers=layers)
        assert not at.exception, [e.value for e in at.exception]
        note = " ".join(w.value for w in at.warning)
        assert "layers='[" in note and why in note, note
        assert at.selectbox(key="calc_net").value == "lenet5"  # the rest of the link still applies
        assert next(m for m in at.metric if m.label == "Parameters").value == "61,706"  # lenet5's own layers
        assert "layers" not in at.query_params


def test_a_link_with_markup_in_its_keys_and_values_gets_a_note_of_plain_text():
    """The note repeats what was ignored; a link's key or value is text there, never a live link."""
    at = _open("dimensions", **{"[click](http://host/x)": "1", "w": "![x](http://host/x.png)"})
    assert not at.exception
    note = " ".join(w.value for w in at.warning)
    assert "\\[click\\]\\(http" in note and "\\!\\[x\\]\\(http" in note, note
    assert "](" not in note and "![" not in note
