"""What a channel has learned (cnnviz.units): the strongest test images against F.conv2d itself, the
receptive-field patches, the grown input, and the cache kept with the checkpoint."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnviz import checkpoints, data, explain, units


@pytest.fixture(scope="module")
def model_and_card():
    return checkpoints.load("tutorial_a")


@pytest.fixture(scope="module")
def test_split(data_root):
    return data.load("mnist", "test")


def _by_hand(model, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """conv1/conv2 of tutorial_a after their ReLUs, computed with F.conv2d and F.max_pool2d, not the model."""
    c1, c2 = model.conv1, model.conv2
    a1 = F.relu(F.conv2d(x, c1.weight, c1.bias, padding=2))
    a2 = F.relu(F.conv2d(F.max_pool2d(a1, 2), c2.weight, c2.bias, padding=2))
    return {"conv1": a1, "conv2": a2}


def test_the_strongest_images_are_those_f_conv2d_ranks_first(model_and_card, test_split):
    model, _ = model_and_card
    x = test_split.images[:700]
    found = units.strongest(model, x, k=9, batch=256)  # three batches: the running top-9 is merged twice
    with torch.no_grad():
        truth = _by_hand(model, x)
    for layer, acts in truth.items():
        s = found[layer]
        peaks = acts.flatten(2).amax(dim=2)  # (N, C)
        assert s.values.shape == (acts.shape[1], 9) and s.shown == f"relu{layer[-1]}"
        for c in range(acts.shape[1]):
            expected = peaks[:, c].sort(descending=True).values[:9].numpy()
            np.testing.assert_allclose(s.values[c], expected, rtol=1e-5, atol=1e-6)
            for j in range(9):  # each image's recorded place holds the recorded value
                i, r, col = int(s.index[c, j]), int(s.row[c, j]), int(s.col[c, j])
                assert acts[i, c, r, col].item() == pytest.approx(float(s.values[c, j]), rel=1e-5, abs=1e-6)


def test_a_set_smaller_than_nine_and_bad_sets(model_and_card, test_split):
    model, _ = model_and_card
    assert units.strongest(model, test_split.images[:4])["conv2"].values.shape == (32, 4)
    with pytest.raises(ValueError, match="non-empty"):
        units.strongest(model, test_split.images[:0])
    with pytest.raises(ValueError, match="non-empty"):
        units.strongest(model, test_split.images[0])


def test_a_patch_is_the_units_receptive_field_clipped_to_the_image(model_and_card):
    model, _ = model_and_card
    pixels = np.arange(28 * 28, dtype=np.float32).reshape(28, 28)
    crop, box = units.patch(pixels, model.spec, "conv2", 7, 7)
    field = explain.receptive_field(model.spec, "conv2", 7, 7)
    assert box == (field.top, field.bottom, field.left, field.right)
    np.testing.assert_array_equal(crop, pixels[field.top:field.bottom, field.left:field.right])
    corner, (top, bottom, left, right) = units.patch(pixels, model.spec, "conv1", 0, 0)  # padding 2: clipped
    assert (top, left) == (0, 0) and corner.shape == (bottom, right) == (3, 3)


@pytest.mark.parametrize("layer", ["conv1", "conv2"])
def test_the_grown_input_excites_its_unit_more_than_any_test_image(model_and_card, test_split, layer):
    model, card = model_and_card
    before = {k: v.clone() for k, v in model.state_dict().items()}
    grown = units.dream(model, layer, 3, card.normalize, steps=150)
    assert grown.end > grown.start and 0 <= grown.pixels.min() and grown.pixels.max() <= 1
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # the shared model is untouched
    assert all(p.grad is None for p in model.parameters())
    conv = getattr(model, layer)
    front = model[: list(model._modules).index(layer) + 1]
    with torch.no_grad():
        centre = front(test_split.images[:2000])[:, 3, conv_h := front(test_split.images[:1]).shape[2] // 2, conv_h]
        mine = front(((torch.from_numpy(grown.pixels) - card.normalize[0]) / card.normalize[1])[None, None])
    assert mine[0, 3, conv_h, conv_h].item() == pytest.approx(grown.end, rel=1e-4)
    assert grown.end > centre.max().item()  # the point of growing it: more than any of 2,000 real digits
    top, bottom, left, right = grown.box
    assert (bottom - top, right - left) == ((5, 5) if layer == "conv1" else (14, 14)) and conv.out_channels > 3


def test_growing_refuses_what_is_not_a_conv_channel(model_and_card):
    model, card = model_and_card
    norm = card.normalize
    with pytest.raises(ValueError, match="not a conv layer.*conv1, conv2"):
        units.dream(model, "pool1", 0, norm)
    with pytest.raises(ValueError, match="channels 0..31, not 32"):
        units.dream(model, "conv2", 32, norm)
    with pytest.raises(ValueError, match="at least 1"):
        units.dream(model, "conv1", 0, norm, steps=0)


def _own_copy(tmp_path, monkeypatch, name="tutorial_a"):
    monkeypatch.setenv("CNNVIZ_USER_CHECKPOINTS", str(tmp_path))
    model, card = checkpoints.load(name)
    checkpoints.save(model, card.renamed("mine"))
    return checkpoints.load("mine")[0]


def test_the_cache_is_written_beside_the_checkpoint_and_read_back(tmp_path, monkeypatch, test_split):
    model = _own_copy(tmp_path, monkeypatch)
    images = test_split.images[:300]
    first = units.cached_strongest("mine", model, images)
    assert "units" in checkpoints.extras("mine") and not list(tmp_path.rglob("*.tmp"))

    def no_compute(*args, **kwargs):
        raise AssertionError("recomputed although the cache fits")
    monkeypatch.setattr(units, "strongest", no_compute)
    again = units.cached_strongest("mine", model, images)
    for layer in first:
        np.testing.assert_array_equal(again[layer].index, first[layer].index)
        np.testing.assert_array_equal(again[layer].values, first[layer].values)


def test_other_weights_other_images_or_a_damaged_file_are_computed_again(tmp_path, monkeypatch, test_split):
    model = _own_copy(tmp_path, monkeypatch)
    images = test_split.images[:300]
    units.cached_strongest("mine", model, images)
    calls = []
    real = units.strongest
    monkeypatch.setattr(units, "strongest", lambda *a, **k: calls.append(1) or real(*a, **k))
    units.cached_strongest("mine", model, test_split.images[:200])  # an own dataset that changed
    with torch.no_grad():
        model.conv1.weight[0, 0, 0, 0] += 1.0  # a retrained model under the same name
    units.cached_strongest("mine", model, test_split.images[:200])
    (checkpoints.resolve("mine") / "units.safetensors").write_bytes(b"\x00garbage")
    found = units.cached_strongest("mine", model, test_split.images[:200])
    assert len(calls) == 3 and found["conv1"].index.max() < 200


def test_a_folder_that_refuses_the_file_is_not_cached_and_nothing_breaks(tmp_path, monkeypatch, test_split):
    model = _own_copy(tmp_path, monkeypatch)

    def full_disk(tensors, path):
        with open(path, "wb") as f:
            f.write(b"half")
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(units, "save_file", full_disk)
    found = units.cached_strongest("mine", model, test_split.images[:100])
    folder = checkpoints.resolve("mine")
    assert found["conv2"].values.shape == (32, 9)
    assert not list(folder.glob(".*.tmp")) and "units" not in checkpoints.extras("mine")


def test_a_cache_that_does_not_fit_the_model_is_not_used(model_and_card, test_split):
    model, _ = model_and_card
    images = test_split.images[:50]
    stamp = units.fingerprint(model, images)
    tensors = units.to_tensors(units.strongest(model, images), stamp)
    assert units.from_tensors(tensors, model, stamp, len(images)) is not None
    assert units.from_tensors(tensors, model, stamp, 10) is None  # indices past the set
    broken = {**tensors, "conv2.row": tensors["conv2.row"][:5]}
    assert units.from_tensors(broken, model, stamp, len(images)) is None
    assert units.from_tensors({k: v for k, v in tensors.items() if k != "conv1.col"}, model, stamp, 50) is None


@pytest.mark.parametrize("name", checkpoints.available()[:6])
def test_the_shipped_models_carry_an_up_to_date_cache(name, data_root):
    """The shipped checkpoints' units.safetensors fit their weights and MNIST's test set (tools/units_cache.py
    writes them), so no page writes into the repository's checkpoint folders."""
    model, card = checkpoints.load(name)
    test = data.load(card.dataset, "test")
    stamp = units.fingerprint(model, test.images)
    found = units.from_tensors(checkpoints.load_extra(name, units.EXTRA), model, stamp, len(test))
    assert found is not None and set(found) >= {"conv1", "conv2"}


@pytest.mark.parametrize("name", ["conv32_64", "keras_small", "lenet5", "tutorial_a", "tutorial_b", "tutorial_c"])
def test_every_shipped_model_grows_an_input_for_conv1_and_conv2(name):
    model, card = checkpoints.load(name)
    for layer in ("conv1", "conv2"):
        grown = units.dream(model, layer, 0, card.normalize, steps=60)
        assert grown.end > grown.start, (name, layer)
