"""cnnviz.card: the typed model card carries the whole TrainConfig, round-trips through a checkpoint, reads
older cards (the shipped ones and a card missing the new fields), and names every problem of a bad one."""
from __future__ import annotations

import json
from dataclasses import asdict, fields, replace

import pytest
import torch

from cnnviz import checkpoints as ck
from cnnviz.arch import PRESETS, build
from cnnviz.card import LEGACY_CONFIG, Card, CardError
from cnnviz.trainconfig import TrainConfig

SHIPPED = ("tutorial_a", "tutorial_b", "tutorial_c", "keras_small", "conv32_64", "lenet5")


@pytest.fixture(autouse=True)
def user_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNVIZ_USER_CHECKPOINTS", str(tmp_path / "user"))
    return tmp_path / "user"


def _raw(**changes):
    return {"name": "tiny", "spec": PRESETS["logistic"].to_json(), "dataset": "mnist",
            "normalize": [0.1307, 0.3081], "test_accuracy": 12.5} | changes


def _odd_config() -> TrainConfig:
    """A TrainConfig with every field away from its default: a field the card drops cannot go unnoticed."""
    return TrainConfig(dataset="fashion", optimizer="adam", lr=0.0123, batch_size=77, epochs=2.25, seed=7,
                       schedule="constant", momentum=0.5, nesterov=False, max_batches=321, report_every=3,
                       val_every=5, val_size=444, precision="fp32", device="cpu", normalize=False,
                       label_smoothing=0.05, live_every_s=0.5, snapshots_per_epoch=2)


def test_every_field_of_the_odd_config_differs_from_the_default():
    odd, default = asdict(_odd_config()), asdict(TrainConfig())
    assert [f.name for f in fields(TrainConfig) if odd[f.name] == default[f.name]] == []


def test_a_train_config_round_trips_through_a_saved_checkpoint():
    card = replace(Card.from_json(_raw()), config=_odd_config())
    torch.manual_seed(0)
    folder = ck.save(build(PRESETS["logistic"]), card)
    _, loaded = ck.load(folder)
    assert loaded.config == _odd_config() and loaded == card
    assert json.loads((folder / ck.CARD).read_text())["config"]["batch_size"] == 77  # plain JSON on disk


def test_a_card_round_trips_through_json_keeping_keys_it_does_not_know():
    card = Card.from_json(_raw(classes=["a", "b"], fingerprint=1.5, held_out_images=40, test_correct=5,
                               test_total=8, config=asdict(_odd_config())))
    assert card.extra == {"fingerprint": 1.5} and card.classes == ("a", "b") and card.config == _odd_config()
    assert Card.from_json(card.to_json()) == card


@pytest.mark.parametrize("name", SHIPPED)
def test_the_shipped_cards_load_with_their_config_rebuilt(name):
    raw = json.loads((ck.resolve(name) / ck.CARD).read_text())
    assert "config" not in raw, "the shipped cards were written before the card kept the whole config"
    card = ck.read_card(name)
    for key in LEGACY_CONFIG:
        if key in raw:
            assert getattr(card.config, key) == raw[key], key
    assert card.config.label_smoothing == 0.0  # written before label smoothing: they were trained without
    assert card.config.normalize and card.config.dataset == "mnist" and card.classes == ()
    assert card.test_text().endswith("test images (" + f"{raw['test_accuracy']:.2f}%)")


def test_a_card_missing_the_new_fields_still_loads(user_dir):
    """An older user checkpoint: no config, classes, counts, held-out size, class shapes or versions."""
    torch.manual_seed(0)
    folder = ck.save(build(PRESETS["logistic"]), _raw())
    (folder / ck.CARD).write_text(json.dumps(_raw(epochs=3, lr=0.2, momentum=0.0, optimizer="sgd",
                                                  normalize=[0.0, 1.0])))
    _, card = ck.load(folder)
    assert (card.config.epochs, card.config.lr, card.config.momentum) == (3, 0.2, 0.0)
    assert card.config.normalize is False and card.config.label_smoothing == 0.0
    assert card.held_out() is None and card.test_text() == "12.5%" and card.class_shapes is None
    assert (card.test_correct, card.batches, card.how) == (None, None, "")


def test_an_older_card_whose_settings_do_not_make_a_config_keeps_its_model():
    card = Card.from_json(_raw(lr=-1, optimizer="rmsprop"))
    assert card.config == TrainConfig(label_smoothing=0.0) and card.test_accuracy == 12.5


@pytest.mark.parametrize("config, match", [
    ("fast", "config must be an object"), ({"learning_rate": 1}, "unknown settings: 'learning_rate'"),
    ({"batch_size": "128"}, "batch_size: int"), ({"lr": float("nan")}, "lr: float"),
    ({"seed": True}, "seed: int"), ({"label_smoothing": 2.0}, "label smoothing 2.0"),
    ({"optimizer": "rmsprop"}, "optimizer 'rmsprop'")])
def test_a_bad_config_is_refused_with_a_plain_message(user_dir, config, match):
    with pytest.raises(CardError, match=match):
        Card.from_json(_raw(config=config))
    torch.manual_seed(0)
    folder = ck.save(build(PRESETS["logistic"]), _raw())
    (folder / ck.CARD).write_text(json.dumps(_raw(config=config)))
    with pytest.raises(ck.CheckpointError, match="damaged"):
        ck.load(folder)


def test_a_cards_test_accuracy_is_shown_with_its_real_count():
    """What Draw shows for a model: its count, and the decimals the count justifies."""
    shipped = ck.read_card("tutorial_a")
    correct, percent = shipped.test_correct, shipped.test_accuracy
    assert shipped.test_text() == f"{correct:,} of 10,000 test images ({percent:.2f}%)"
    own = Card.from_json(_raw(test_accuracy=91.67, test_correct=11, test_total=12, dataset="own:shapes",
                              held_out_images=12))
    assert own.test_text() == "11 of 12 held-out drawings (92%)"
    assert own.held_out() == (12, "held-out drawings") and shipped.held_out() is None
    assert Card.from_json(_raw(test_accuracy=98.5)).test_text() == "98.5%"  # an older card: no count kept
    assert Card.from_json(_raw(test_correct=True, test_total=-3)).test_text() == "12.5%"  # damaged counts: dropped
