"""cnnviz.snapshots: the live view's data and the replay snapshots, round trip through a real checkpoint."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnviz import checkpoints, data
from cnnviz import snapshots as sn
from cnnviz import train as tr
from cnnviz.arch import PRESETS, build
from cnnviz.card import Card
from cnnviz.trainconfig import TrainConfig


@pytest.fixture(scope="module")
def mnist(data_root):
    test = data.load("mnist", "test", root=data_root, download=False)
    train = data.Split("mnist", "train", test.images[2000:2512], test.labels[2000:2512], test.mean, test.std)
    return train, test.subset(500)


@pytest.fixture(scope="module")
def run(mnist):
    """A real 16-batch run with a snapshot every 4 batches and a live frame at every report."""
    config = TrainConfig(batch_size=32, epochs=1, report_every=2, val_every=0, val_size=200,
                            live_every_s=1e-9, snapshots_per_epoch=4)
    events = []
    return tr.train(PRESETS["tutorial_a"], config, mnist[0], mnist[1], events.append), events


def test_grid_takes_every_class_first_then_the_next_digits(mnist):
    labels = mnist[1].labels
    idx = sn.grid_indices(labels)
    assert len(idx) == 16 and len(set(idx.tolist())) == 16 and list(idx) == sorted(idx)
    assert set(labels[idx].tolist()) == set(range(10))  # every digit is in the grid
    assert list(sn.grid_indices(labels)) == list(idx)  # fixed: the same digits every run
    with pytest.raises(ValueError, match="at least 16"):
        sn.grid_indices(labels[:5])


def test_frames_follow_the_run(run, mnist):
    result, events = run
    frames = [e.frame for e in events if e.frame is not None]
    assert len(frames) == len(events) == 8  # live_every_s ~0: every report carries one
    first, last = frames[0], frames[-1]
    assert first.filters.shape == (16, 5, 5) and first.predicted.shape == first.confidence.shape == (16,)
    assert ((0 < last.confidence) & (last.confidence <= 1)).all()
    assert list(last.labels) == mnist[1].labels[sn.grid_indices(mnist[1].labels)].tolist()
    assert not np.allclose(first.filters, last.filters)  # the filters change as it learns
    assert last.batch == 16 and last.right >= first.right


def test_live_frames_come_about_once_a_second_not_every_report(mnist):
    config = TrainConfig(batch_size=16, max_batches=12, report_every=1, val_every=0)  # live_every_s 1.0
    result = tr.train(PRESETS["logistic"], config, mnist[0], mnist[1])
    with_frame = [e.batch for e in result.history if e.frame is not None]
    assert with_frame[0] == 1 and with_frame[-1] == 12 and len(with_frame) < 12
    assert result.history[0].frame.filters is None  # a network with no convolution has no filters to show


def test_snapshots_every_quarter_epoch_from_the_untrained_network(run):
    result, _ = run
    assert [s.batch for s in result.snapshots] == [0, 4, 8, 12, 16]
    assert [s.epoch for s in result.snapshots] == [0, 0.25, 0.5, 0.75, 1.0]
    x = torch.randn(2, 1, 28, 28)
    final = sn.model_at(PRESETS["tutorial_a"], result.snapshots[-1])
    assert torch.allclose(final(x), result.model(x), atol=1e-5)  # the last snapshot is the trained model
    before = sn.model_at(PRESETS["tutorial_a"], result.snapshots[0])
    assert not torch.allclose(before(x), result.model(x), atol=1e-3)
    assert sn.label(result.snapshots[0]) == "before training"
    assert sn.label(result.snapshots[2]) == "after 8 batches (epoch 0.50)"


def test_snapshot_spacing():
    assert sn.snapshot_every(469, 938) == 117  # a quarter epoch of MNIST at batch 128
    assert sn.snapshot_every(469, 469 * 50) == 978  # a long run: at most MAX_SNAPSHOTS of them
    with pytest.raises(ValueError, match="must be > 0"):
        sn.snapshot_every(469, 938, 0)


def test_snapshots_round_trip_through_a_checkpoint(run, tmp_path):
    result, _ = run
    card = Card.from_result(result, "replay", how="test")
    folder = checkpoints.save(result.model, card, tmp_path, extras={sn.EXTRA: sn.to_tensors(result.snapshots)})
    back = sn.of_checkpoint(folder)
    assert [s.batch for s in back] == [0, 4, 8, 12, 16] and [s.epoch for s in back] == [0, 0.25, 0.5, 0.75, 1.0]
    assert [s.val_accuracy for s in back] == [None] * 5  # val_every=0: no held-out numbers to keep
    for mine, loaded in zip(result.snapshots, back):
        assert loaded.state.keys() == mine.state.keys()
        for k in mine.state:  # stored float16: "small, weights only"
            assert loaded.state[k].dtype == torch.float32
            assert torch.allclose(loaded.state[k], mine.state[k], atol=2e-3, rtol=2e-3)
    weights = sum(v.numel() for v in result.snapshots[0].state.values())
    assert (folder / "snapshots.safetensors").stat().st_size < 5 * 2 * weights + 20_000  # 2 bytes a weight
    model, _ = checkpoints.load(folder)  # the checkpoint itself still loads as before
    assert sn.of_checkpoint(checkpoints.resolve("tutorial_a")) == []  # shipped models have no snapshots


def test_held_out_accuracy_survives_the_round_trip():
    w = {"w": torch.ones(2)}
    snaps = [sn.WeightSnapshot(0, 0.0, w, None), sn.WeightSnapshot(7, 0.5, w, 93.5)]
    back = sn.from_tensors(sn.to_tensors(snaps))
    assert [(s.batch, s.epoch, s.val_accuracy) for s in back] == [(0, 0.0, None), (7, 0.5, 93.5)]


def test_a_foreign_file_is_refused_plainly():
    with pytest.raises(ValueError, match="not a snapshots file"):
        sn.from_tensors({"conv1.weight": torch.zeros(3)})
    with pytest.raises(ValueError, match="no snapshots"):
        sn.to_tensors([])


def test_a_small_own_dataset_shows_all_its_test_examples():
    labels = torch.tensor([0, 1, 2, 0, 1])
    assert list(sn.grid_indices(labels, 5)) == [0, 1, 2, 3, 4]


def test_frame_leaves_the_model_in_training_mode(mnist):
    model = build(PRESETS["keras_small"]).train()
    f = sn.frame(model, mnist[1].images[:16], mnist[1].labels[:16], 0, 0.0)
    assert model.training and f.filters.shape == (8, 5, 5)


def test_a_snapshots_held_out_label_names_its_real_count():
    """The replay slider says how many held-out images, with only the decimals they justify."""
    snap = sn.WeightSnapshot(117, 0.25, {}, 75.0)
    assert sn.label(snap) == "after 117 batches (epoch 0.25) · held-out 75.0%"  # the count unknown: as before
    assert sn.label(snap, (4, "held-out drawings")) == \
        "after 117 batches (epoch 0.25) · held-out: 3 of 4 held-out drawings (75%)"
    assert sn.label(sn.WeightSnapshot(5, 0.5, {}, 94.1), (1000, "test images")).endswith(
        "941 of 1,000 test images (94.1%)")
