"""cnnviz.checkpoints: atomic save, safe load, clear refusals; shipped models match their cards."""
from __future__ import annotations

import json
import os
import time

import pytest
import torch

from cnnviz import checkpoints as ck
from cnnviz import data, text
from cnnviz.arch import PRESETS, build
from cnnviz.evaluate import evaluate

SHIPPED = ("tutorial_a", "tutorial_b", "tutorial_c", "keras_small", "conv32_64", "lenet5")


@pytest.fixture(autouse=True)
def user_dir(tmp_path, monkeypatch):
    """Every test saves into a tmp folder, never into the repository."""
    folder = tmp_path / "user"
    monkeypatch.setenv("CNNVIZ_USER_CHECKPOINTS", str(folder))
    return folder


def _card(name="tiny", preset="tutorial_a"):
    return {"name": name, "spec": PRESETS[preset].to_json(), "dataset": "mnist",
            "normalize": [0.1307, 0.3081], "test_accuracy": 12.5}


def _model(seed=0, preset="tutorial_a"):
    torch.manual_seed(seed)
    return build(PRESETS[preset])


def test_save_then_load_round_trips(user_dir):
    model = _model()
    folder = ck.save(model, _card())
    assert folder == user_dir / "tiny" and "tiny" in ck.available()
    loaded, card = ck.load("tiny")
    assert not loaded.training and card.test_accuracy == 12.5
    x = torch.randn(3, 1, 28, 28)
    with torch.no_grad():
        assert torch.equal(loaded(x), model.eval()(x))
    assert ck.load(folder)[1] == card and ck.load(folder / ck.CARD)[1] == card
    assert not [p for p in folder.iterdir() if p.suffix == ".tmp"]


def test_half_weights_load_as_float32(user_dir):
    model = _model()
    folder = ck.save(model, _card(), half=True)
    loaded, _ = ck.load(folder)
    assert all(p.dtype == torch.float32 for p in loaded.parameters())
    assert torch.equal(loaded.conv1.weight, model.conv1.weight.half().float())


def test_a_second_save_gets_a_new_name_unless_overwriting(user_dir):
    ck.save(_model(), _card())
    assert ck.save(_model(), _card()).name == "tiny-2"
    assert ck.load("tiny-2")[1].name == "tiny-2"
    assert ck.save(_model(), _card(), overwrite=True).name == "tiny"


def test_a_crash_mid_save_leaves_nothing_listed(user_dir, monkeypatch):
    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(ck, "save_bytes", crash)
    with pytest.raises(ck.CheckpointError, match="could not save the model 'crashed'"):
        ck.save(_model(), _card("crashed"))
    assert "crashed" not in ck.available()
    assert not list(user_dir.iterdir())  # the temporary folder was removed too


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_gives_a_message_without_server_paths(user_dir):
    user_dir.mkdir()
    user_dir.chmod(0o555)
    try:
        with pytest.raises(ck.CheckpointError, match="Permission denied") as err:
            ck.save(_model(), _card())
    finally:
        user_dir.chmod(0o755)
    assert str(user_dir) not in str(err.value) and "/" not in str(err.value)


def test_a_failing_disk_gives_a_message_without_server_paths(user_dir, monkeypatch):
    def full(path, tensors):
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(ck, "_write_tensors", full)
    with pytest.raises(ck.CheckpointError, match="No space left on device") as err:
        ck.save(_model(), _card())
    assert "/" not in str(err.value) and not list(user_dir.iterdir())


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_a_damaged_weights_file_is_refused(user_dir, damage):
    folder = ck.save(_model(), _card())
    path = folder / ck.WEIGHTS
    raw = path.read_bytes()
    path.write_bytes({"garbage": b"\x00not a safetensors file" * 50, "truncated": raw[: len(raw) // 2],
                      "empty": b""}[damage])
    with pytest.raises(ck.CheckpointError, match="damaged"):
        ck.load("tiny")


def test_a_foreign_file_is_refused(user_dir):
    folder = ck.save(_model(preset="tutorial_a"), _card())
    card = json.loads((folder / ck.CARD).read_text())
    card["spec"] = PRESETS["keras_small"].to_json()  # weights of another network
    (folder / ck.CARD).write_text(json.dumps(card))
    with pytest.raises(ck.CheckpointError, match="do not match the spec"):
        ck.load(folder)


@pytest.mark.parametrize("text, match", [("{not json", "not a readable model card"), ("[1, 2]", "JSON object"),
                                         ('{"name": "x"}', "lacks spec")])
def test_a_bad_card_is_refused(user_dir, text, match):
    folder = ck.save(_model(), _card())
    (folder / ck.CARD).write_text(text)
    with pytest.raises(ck.CheckpointError, match=match):
        ck.load(folder)


class Payload:
    """Unpickling this would run code: exactly what weights_only=True must refuse."""

    def __reduce__(self):
        return (os.system, ("touch PWNED_BY_PICKLE",))


def test_a_pickle_holding_an_arbitrary_object_is_refused(user_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = user_dir / "evil"
    folder.mkdir(parents=True)
    (folder / ck.CARD).write_text(json.dumps(_card("evil")))
    torch.save({"conv1.weight": Payload()}, folder / ck.WEIGHTS_PT)
    with pytest.raises(ck.CheckpointError, match="holds only"):  # too small for its spec: never even opened
        ck.load("evil")
    with pytest.raises(ck.CheckpointError, match="never unpickles"):
        ck._read_weights(folder)
    assert not (tmp_path / "PWNED_BY_PICKLE").exists()


def test_a_plain_pt_state_dict_loads(user_dir):
    model = _model()
    folder = user_dir / "plain"
    folder.mkdir(parents=True)
    (folder / ck.CARD).write_text(json.dumps(_card("plain")))
    torch.save(model.state_dict(), folder / ck.WEIGHTS_PT)
    loaded, _ = ck.load("plain")
    assert torch.equal(loaded.fc1.weight, model.fc1.weight)


def test_unknown_name_lists_what_exists():
    with pytest.raises(ck.CheckpointError, match="no checkpoint named 'nope'"):
        ck.load("nope")


def test_bad_name_or_card_is_a_value_error():
    with pytest.raises(ValueError, match="checkpoint name '../x'"):
        ck.save(_model(), _card("../x"))
    with pytest.raises(ValueError, match="lacks test_accuracy"):
        ck.save(_model(), {k: v for k, v in _card().items() if k != "test_accuracy"})


def test_user_dir_defaults_inside_the_repo(monkeypatch):
    monkeypatch.delenv("CNNVIZ_USER_CHECKPOINTS")
    assert ck.user_dir() == ck.SHIPPED / "user"


# --- the shipped models -------------------------------------------------------------------------

def test_every_preset_model_ships():
    assert set(SHIPPED) <= set(ck.available())


@pytest.fixture(scope="module")
def mnist_test(data_root):
    return data.load("mnist", "test", root=data_root, download=False)


@pytest.mark.slow
@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_checkpoint_matches_its_card(name, mnist_test):
    model, card = ck.load(name)
    assert card.spec == PRESETS[name].to_json()
    raw = json.loads((ck.resolve(name) / ck.CARD).read_text())  # the file as shipped: written before the config
    for key in ("name", "dataset", "normalize", "test_accuracy", "per_class_accuracy", "epochs", "seed",
                "date", "device", "optimizer", "lr", "batch_size", "train_seconds", "how", "cnnviz_version"):
        assert key in raw, key
    assert (card.config.epochs, card.config.seed, card.config.optimizer, card.config.lr, card.config.batch_size) == (
        raw["epochs"], raw["seed"], raw["optimizer"], raw["lr"], raw["batch_size"])  # read through the Card
    assert card.date and card.device and card.train_seconds and card.how and card.cnnviz_version
    assert card.name == name and len(card.per_class_accuracy) == 10
    assert card.dataset == "mnist" and card.normalize == (0.1307, 0.3081)
    accuracy = evaluate(model, mnist_test).accuracy
    assert accuracy == pytest.approx(card.test_accuracy, abs=0.1)
    assert accuracy > {"tutorial_a": 99.0, "tutorial_b": 98.5, "tutorial_c": 98.5}.get(name, 98.0)


def test_shipped_folder_is_small():
    size = sum(p.stat().st_size for p in ck.SHIPPED.rglob("*") if p.is_file() and "user" not in p.parts)
    assert size < 6_000_000


# --- extras, names, validation -------------------------------------------------------------------

def test_extras_are_saved_with_the_model_and_loaded_safely(user_dir):
    snaps = {"snapshots": {"b10.conv1.weight": torch.randn(16, 1, 5, 5), "batches": torch.tensor([10, 20])}}
    folder = ck.save(_model(), _card(), extras=snaps)
    assert ck.extras("tiny") == ["snapshots"]
    back = ck.load_extra(folder, "snapshots")
    assert torch.equal(back["b10.conv1.weight"], snaps["snapshots"]["b10.conv1.weight"])
    assert torch.equal(back["batches"], snaps["snapshots"]["batches"])
    with pytest.raises(ck.CheckpointError, match="has no 'other'"):
        ck.load_extra("tiny", "other")
    for bad in ("weights", "../x", ""):
        with pytest.raises(ValueError, match="extra name"):
            ck.save(_model(), _card(), extras={bad: {}})
    with pytest.raises(ValueError, match="dict of tensors"):
        ck.save(_model(), _card(), extras={"x": {"a": [1, 2]}})


def test_overwriting_replaces_weights_card_and_extras_together(user_dir):
    ck.save(_model(seed=1), {**_card(), "test_accuracy": 11.0}, extras={"snapshots": {"a": torch.zeros(1)}})
    ck.save(_model(seed=2), {**_card(), "test_accuracy": 22.0}, overwrite=True)
    model, card = ck.load("tiny")
    assert card.test_accuracy == 22.0 and torch.equal(model.conv1.weight, _model(seed=2).conv1.weight)
    assert ck.extras("tiny") == []  # the old model's extras went with it
    assert [p.name for p in user_dir.iterdir()] == ["tiny"]


def test_a_user_model_never_takes_a_shipped_name(user_dir):
    assert ck.save(_model(), _card("tutorial_a")).name == "tutorial_a-2"


def _damage(folder, **changes):
    card = json.loads((folder / ck.CARD).read_text())
    for key, value in changes.items():
        if "." in key:
            outer, inner = key.split(".")
            card[outer][inner] = value
        else:
            card[key] = value
    (folder / ck.CARD).write_text(json.dumps(card))


@pytest.mark.parametrize("key, value, match", [
    ("normalize", [0.1307], "normalize"), ("normalize", 5, "normalize"), ("normalize", [0.1, 0.0], "std > 0"),
    ("normalize", [0.1, float("nan")], "normalize"), ("normalize", [0.1, "x"], "normalize"),
    ("test_accuracy", "very high", "test_accuracy"), ("test_accuracy", None, "test_accuracy"),
    ("test_accuracy", float("inf"), "test_accuracy"), ("test_accuracy", True, "test_accuracy"),
    ("spec.layers", 5, "spec.layers must be a list"), ("spec.input_shape", 5, "input_shape"),
    ("spec.input_shape", [1, 28], "input_shape"), ("spec.input_shape", [1, 28.0, 28], "input_shape"),
    ("spec", "conv", "spec must be an object"), ("name", 7, "name must be text"),
    ("dataset", ["mnist"], "dataset must be text"), ("classes", [1, 2], "classes"),
    ("spec.layers", [{"type": "conv", "out_channels": -1, "kernel_size": 5}], "cannot be built"),
])
def test_a_damaged_card_is_refused_with_a_plain_message(user_dir, key, value, match):
    folder = ck.save(_model(), _card())
    _damage(folder, **{key: value})
    with pytest.raises(ck.CheckpointError, match=match) as err:
        ck.load("tiny")
    assert str(user_dir) not in str(err.value)  # visitors read it: no server paths
    with pytest.raises(ck.CheckpointError, match=match):
        ck.read_card("tiny")  # the calculator reads cards without loading: the same refusal


def test_a_card_nested_200000_deep_is_refused_without_recursion_error(user_dir):
    folder = ck.save(_model(), _card())
    (folder / ck.CARD).write_text('{"name": "tiny", "x": ' + "[" * 200_000 + "]" * 200_000 + "}")
    with pytest.raises(ck.CheckpointError, match="larger than|nested"):
        ck.load("tiny")
    (folder / ck.CARD).write_text(json.dumps({**_card(), "x": json.loads("[" * 100 + "]" * 100)}))
    with pytest.raises(ck.CheckpointError, match="nested more than"):
        ck.load("tiny")


@pytest.mark.parametrize("width", [300_000, 6_000])  # 795 G and 397 M parameters' worth of fc layers
def test_a_huge_spec_is_refused_before_anything_is_built(user_dir, monkeypatch, width):
    folder = ck.save(_model(), _card())
    layers = [{"type": "flatten"}, {"type": "linear", "out_features": width},
              {"type": "linear", "out_features": width}, {"type": "linear", "out_features": 10}]
    if width == 6_000:  # 397 M: within the size cap's reach only by its weights file
        monkeypatch.setattr(ck, "MAX_PARAMS", 10**12)
        layers.insert(2, {"type": "linear", "out_features": 60_000})
    _damage(folder, spec={"input_shape": [1, 28, 28], "layers": layers})
    monkeypatch.setattr(ck, "build", lambda spec: pytest.fail("built a model for a refused spec"))
    with pytest.raises(ck.CheckpointError, match="parameters"):
        ck.load("tiny")


def test_a_refusal_is_remembered_until_the_files_change(user_dir, monkeypatch):
    folder = ck.save(_model(), _card())
    _damage(folder, normalize=[0.1])
    with pytest.raises(ck.CheckpointError):
        ck.load("tiny")
    monkeypatch.setattr(ck, "_load", lambda folder: pytest.fail("judged the same broken files twice"))
    with pytest.raises(ck.CheckpointError, match="normalize"):
        ck.load("tiny")
    monkeypatch.undo()
    monkeypatch.setenv("CNNVIZ_USER_CHECKPOINTS", str(user_dir))
    time.sleep(0.01)
    _damage(folder, normalize=[0.1307, 0.3081])  # fixed: judged afresh
    assert ck.load("tiny")[1].normalize == (0.1307, 0.3081)


@pytest.mark.parametrize("poison", [float("nan"), float("inf")])
def test_nan_weights_are_refused(user_dir, poison):
    model = _model()
    with torch.no_grad():
        model.fc1.weight.fill_(poison)
    ck.save(model, _card())
    with pytest.raises(ck.CheckpointError, match="NaN or infinite"):
        ck.load("tiny")


def test_odd_folder_names_are_listed_as_text_and_load(user_dir):
    folder = ck.save(_model(), _card("plainname"))
    hostile = {b"caf\xff": "caf\ufffd", b"a\x1bb": "a?b", b"two\nlines": "two lines",
               "Zoé **b** $x$".encode(): "Zoé **b** $x$"}
    for raw, listed in hostile.items():
        target = os.fsdecode(bytes(user_dir) + b"/" + raw)
        os.rename(folder, target)
        folder = target
        assert ck.available()[-1] == listed
        listed.encode("utf-8")  # what Streamlit does with every string: must not raise UnicodeEncodeError
        model, card = ck.load(listed)  # loads by the listed name, whatever the folder's bytes
        assert card.test_accuracy == 12.5
    assert text.plain("**b** :red[r] $x^2$ [a](j:x) <b>") == (
        "\\*\\*b\\*\\* \\:red\\[r\\] \\$x\\^2\\$ \\[a\\]\\(j\\:x\\) \\<b\\>")
    assert text.plain("tutorial_a-2") == "tutorial_a-2" and text.plain("_x_") == "\\_x\\_"


def test_a_huge_weights_file_is_refused_before_it_is_read(user_dir, monkeypatch):
    folder = ck.save(_model(), _card())
    with open(folder / ck.WEIGHTS, "r+b") as f:  # sparse: 300 MB on paper, nothing on disk
        f.truncate(300 * 2**20)
    monkeypatch.setattr(ck.Path, "read_bytes", lambda self: pytest.fail("read a 300 MB file into memory"))
    with pytest.raises(ck.CheckpointError, match="more than the"):
        ck.load("tiny")
