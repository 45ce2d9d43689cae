"""cnnviz.registry: one place answers "your own dataset, or the MNIST family?" for every dataset key."""
from __future__ import annotations

import pytest

from cnnviz import arch, data, owndata, preprocess, registry


@pytest.fixture(autouse=True)
def user_data(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNVIZ_USER_DATA", str(tmp_path / "own"))


def test_the_keys_are_the_mnist_family_then_your_own():
    keys = registry.keys()
    assert keys[:3] == list(data.DATASETS) and "own:shapes" in keys  # the shipped example dataset
    owndata.create("toy", ["bar", "ring"])
    assert registry.keys()[-1] == "own:toy" and [k for k in registry.keys() if registry.is_own(k)] == \
        [owndata.PREFIX + n for n in owndata.available()]


@pytest.mark.parametrize("key, classes, items", [
    ("mnist", tuple("0123456789"), "test images"), ("fashion-mnist", data.DATASETS["fashion-mnist"].classes,
                                                   "test images"),
    ("own:shapes", ("circle", "square", "triangle"), "held-out drawings")])
def test_each_kind_answers_the_same_questions(key, classes, items):
    assert registry.class_names(key) == classes and registry.num_classes(key) == len(classes)
    assert registry.test_items(key) == items
    spec = registry.fit_spec(arch.PRESETS["tutorial_a"], key)
    assert spec.to_json()["layers"][-1]["out_features"] == len(classes)


def test_mnists_mean_and_std_are_kept_once():
    assert data.info("mnist").norm == preprocess.MNIST_NORMALIZE == registry.normalization("mnist")
    assert registry.normalization("own:shapes") == preprocess.MNIST_NORMALIZE == owndata.NORMALIZE  # drawn like it
    assert registry.normalization("kmnist") == data.DATASETS["kmnist"].norm


def test_an_unknown_dataset_is_named():
    with pytest.raises(ValueError, match="unknown dataset 'cifar'"):
        registry.num_classes("cifar")
    with pytest.raises(ValueError, match="no dataset called 'nope'"):
        registry.num_classes("own:nope")


def test_model_name_says_what_was_learned_in_ascii():
    assert registry.model_name("mnist", "tutorial_a", 0) == "tutorial_a-seed0"
    assert registry.model_name("own:shapes", "keras_small", 3) == "shapes-keras_small-seed3"
    assert registry.model_name("own:my shapes", None, 0) == "my_shapes-custom-seed0"
    assert registry.model_name("own:三角", "lenet5", 1) == "own-lenet5-seed1"
