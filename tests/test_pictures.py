"""Picture sources: bundled photos load offline, exact patterns, crops, MNIST digits."""
from __future__ import annotations

import numpy as np
import pytest

from cnnviz import pictures


@pytest.mark.parametrize("name", pictures.PHOTOS)
def test_every_listed_photo_loads_offline_as_floats_in_0_1(name):
    img = pictures.photo(name)
    assert img.dtype == np.float32 and img.ndim in (2, 3)
    assert img.ndim == 2 or img.shape[2] == 3
    assert 0.0 <= img.min() and img.max() <= 1.0 and img.max() > img.min()
    assert max(img.shape[:2]) <= 640  # small enough to stay live


def test_unknown_photo_is_refused():
    with pytest.raises(ValueError, match="unknown photo 'eagle'"):
        pictures.photo("eagle")  # needs a download: deliberately not listed


@pytest.mark.parametrize("name", pictures.PATTERNS)
def test_patterns_are_exact_and_sized(name):
    img = pictures.pattern(name, 9)
    assert img.shape == (9, 9) and img.dtype == np.float32
    assert set(np.unique(img)) <= set(np.linspace(0, 1, 9).astype(np.float32))


def test_pattern_shapes():
    step = pictures.pattern("vertical edge", 6)
    assert step[:, :3].max() == 0 and step[:, 3:].min() == 1
    dot = pictures.pattern("dot", 7)
    assert dot.sum() == 1 and dot[3, 3] == 1
    np.testing.assert_array_equal(pictures.pattern("horizontal edge", 6), step.T)


@pytest.mark.parametrize("name, size, message", [("spiral", 9, "unknown pattern"), ("dot", 2, "from 3 to 64"),
                                                 ("dot", 9.5, "whole number")])
def test_bad_patterns_are_refused(name, size, message):
    with pytest.raises(ValueError, match=message):
        pictures.pattern(name, size)


def test_crop_and_crop_at():
    img = np.arange(100, dtype=np.float32).reshape(10, 10)
    np.testing.assert_array_equal(pictures.crop(img, 2, 3, 4), img[2:6, 3:7])
    with pytest.raises(ValueError, match="does not fit inside the 10x10 picture"):
        pictures.crop(img, 8, 0, 4)
    assert pictures.crop_at(img, 7, 0.5, 0.5).shape == (7, 7)
    np.testing.assert_array_equal(pictures.crop_at(img, 3, 1.0, 0.0), img[7:10, 0:3])  # kept inside
    assert pictures.crop_at(img, 50).shape == (10, 10)  # bigger than the picture: the whole picture


def test_mnist_digit_from_the_real_test_split(data_root):
    from cnnviz import data

    split = data.load("mnist", "test", root=data_root, download=False)
    pixels, label = pictures.digit(split, 0)
    assert pixels.shape == (28, 28) and pixels.dtype == np.float32
    assert label == 7  # the first MNIST test digit is a 7
    assert 0.0 <= pixels.min() and pixels.max() <= 1.0 and pixels.max() > 0.9
    with pytest.raises(ValueError, match="outside 0..9999"):
        pictures.digit(split, 10_000)


def test_describe():
    assert pictures.describe(np.zeros((28, 28))) == "28x28 grey"
    assert pictures.describe(np.zeros((4, 5, 3))) == "4x5 RGB"
