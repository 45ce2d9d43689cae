"""Overfitting you can cause, and its cures (cnnviz.overfit), on the real MNIST and real training runs."""
from __future__ import annotations

import collections

import pytest
import torch
import torch.nn.functional as F

from cnnviz import arch, data, overfit
from cnnviz import train as tr
from cnnviz.trainconfig import TrainConfig


@pytest.fixture(scope="module")
def mnist(data_root):
    return data.load("mnist", "train"), data.load("mnist", "test")


def test_n_images_are_chosen_class_by_class_and_reproducibly(mnist):
    train, _ = mnist
    few = overfit.sample(train, 205, seed=3)
    counts = collections.Counter(few.labels.tolist())
    assert len(few) == 205 and sorted(counts.values()) == [20] * 5 + [21] * 5
    again = overfit.sample(train, 205, seed=3)
    assert torch.equal(few.images, again.images) and not torch.equal(few.labels, overfit.sample(train, 205, 4).labels)
    assert overfit.sample(train, None) is train and overfit.sample(train, len(train)) is train
    originals = {bytes(train.images[i].numpy()) for i in range(len(train))
                 if train.labels[i] == few.labels[0]}  # every chosen image is one of the split's, unchanged
    assert bytes(few.images[0].numpy()) in originals


@pytest.mark.parametrize("n, said", [(0, "at least 1 image"), (-5, "at least 1 image"),
                                     (60_001, "mnist has 60,000 training images: choose N up to 60,000")])
def test_impossible_image_counts_are_refused(mnist, n, said):
    with pytest.raises(ValueError, match=said):
        overfit.sample(mnist[0], n)


def test_dropout_goes_before_the_last_dense_layer():
    spec = overfit.with_dropout(arch.PRESETS["tutorial_a"], 0.5)
    assert [layer.type for layer in spec.layers][-3:] == ["flatten", "dropout", "linear"]
    assert spec.layers[-2].p == 0.5 and isinstance(arch.build(spec)[-2], torch.nn.Dropout)
    twice = overfit.with_dropout(arch.PRESETS["conv32_64"], 0.2)  # its own dropout there takes the new p
    assert [layer.type for layer in twice.layers].count("dropout") == 2 and twice.layers[-2].p == 0.2
    assert overfit.with_dropout(arch.PRESETS["tutorial_a"], 0) is arch.PRESETS["tutorial_a"]


@pytest.mark.parametrize("p", [1, 1.5, -0.1, float("nan")])
def test_dropout_of_one_or_more_is_refused(p):
    with pytest.raises(ValueError, match="below 1"):
        overfit.with_dropout(arch.PRESETS["tutorial_a"], p)


@pytest.mark.parametrize("settings, said", [({"train_images": 0}, "train on at least 1 image"),
                                            ({"dropout": 1.0}, "dropout 1.0"),
                                            ({"weight_decay": 1e6}, "weight decay 1000000.0"),
                                            ({"weight_decay": -1.0}, "weight decay -1.0")])
def test_bad_cures_are_refused_with_a_message(settings, said):
    with pytest.raises(ValueError, match=said):
        TrainConfig(**settings)


def test_jitter_with_nothing_to_do_is_the_identity_and_otherwise_moves_each_image_its_own_way(mnist):
    x = mnist[0].raw(slice(0, 8))
    same = overfit.jitter(x, torch.Generator().manual_seed(0), shift=0, degrees=0, scale=0)
    torch.testing.assert_close(same, x, atol=1e-5, rtol=0)
    moved = overfit.jitter(x[:1].repeat(2, 1, 1, 1), torch.Generator().manual_seed(0))
    assert not torch.allclose(moved[0], moved[1])  # the same image, two different moves
    # moved by 2 px, turned by 12 degrees, resized by 10% at most: most of the ink is still there
    assert abs(float(moved[0].sum() - x[0].sum())) / float(x[0].sum()) < 0.25


def test_the_preview_starts_with_the_image_as_it_is(mnist):
    image = mnist[0].raw(0)[0]
    strip = overfit.preview(image, 8, seed=1)
    assert strip.shape == (8, 28, 28) and torch.equal(strip[0], image)
    assert all(not torch.equal(strip[0], strip[i]) for i in range(1, 8))


def test_weight_decay_reaches_the_optimizer_and_shrinks_the_weights(mnist):
    train, _ = mnist
    norms = {}
    for decay in (0.0, 0.05):
        config = TrainConfig(train_images=512, epochs=2, batch_size=64, weight_decay=decay, live_every_s=0,
                             snapshots_per_epoch=0, val_every=0, precision="fp32")
        result = tr.train(arch.PRESETS["tutorial_a"], config, train)
        norms[decay] = float(sum(p.detach().pow(2).sum() for p in result.model.parameters()))
    assert norms[0.05] < 0.8 * norms[0.0]


def test_augmentation_changes_what_the_mnist_run_sees(mnist):
    train, _ = mnist
    weights = {}
    for augment in (False, True):
        config = TrainConfig(train_images=256, epochs=1, batch_size=64, augment=augment, live_every_s=0,
                             snapshots_per_epoch=0, val_every=0, precision="fp32")
        weights[augment] = tr.train(arch.PRESETS["tutorial_a"], config, train).model.conv1.weight.detach()
    assert not torch.allclose(weights[False], weights[True])
    assert overfit.batch_augmenter(TrainConfig(dataset="own:x", augment=True), train, torch.device("cpu")) is None


@pytest.mark.slow
def test_200_images_overfit_and_the_verdict_says_so(mnist):
    """The lesson's claim, for real: on 200 images tutorial_a learns them all and does clearly worse on the test."""
    train, test = mnist
    config = TrainConfig(train_images=200, epochs=30, batch_size=32, live_every_s=0, snapshots_per_epoch=0,
                         val_every=0, precision="fp32")
    result = tr.train(arch.PRESETS["tutorial_a"], config, train, test)
    seen, held = result.train_evaluation.accuracy, result.evaluation.accuracy
    assert result.train_evaluation.total == 200 and seen > 99 and seen - held > overfit.GAP_POINTS
    said = overfit.verdict(seen, held, 200)
    assert "It overfitted" in said and f"{seen - held:.1f} points" in said


def test_verdicts_in_plain_words():
    assert "No sign of overfitting" in overfit.verdict(99.2, 98.9, 10_000)
    assert "It overfitted" in overfit.verdict(100, 80, 200) and "a gap of 20.0 points" in overfit.verdict(100, 80, 200)
    assert "better on new images" in overfit.verdict(80, 90, 500)
    assert "A little overfitting" in overfit.verdict(100, 95.1, 200)
    assert overfit.overfitted(100, 90) and not overfit.overfitted(99, 97)


def test_a_pure_jitter_keeps_the_background_value():
    x = torch.full((2, 1, 28, 28), -0.42)
    x[:, :, 10:18, 10:18] = 2.8
    moved = overfit.jitter(x, torch.Generator().manual_seed(0), fill=-0.42)
    assert torch.allclose(moved[:, :, :3, :], torch.tensor(-0.42))  # the edges: background, not black
    assert F.mse_loss(moved, x) > 0
