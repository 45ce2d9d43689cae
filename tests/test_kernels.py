"""Named kernels and the validation of a user's own grid."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cnnviz import kernels


def test_every_named_kernel_is_a_finite_odd_square():
    for name, k in kernels.NAMED.items():
        assert k.ndim == 2 and k.shape[0] == k.shape[1] and k.shape[0] % 2 == 1, name
        assert np.isfinite(k).all(), name
        assert name in kernels.DESCRIPTIONS


def test_aliases_name_the_tutorials_groups():
    for alias in ("edge", "blur", "sharpen", "identity", "emboss"):
        assert alias in kernels.KERNELS
    assert np.array_equal(kernels.KERNELS["edge"], kernels.NAMED["outline"])
    assert np.array_equal(kernels.KERNELS["blur"], kernels.NAMED["box_blur_3x3"])


def test_groups_cover_every_named_kernel_once():
    grouped = [n for names in kernels.GROUPS.values() for n in names]
    assert sorted(grouped) == sorted(kernels.NAMED)
    assert kernels.group_of("sobel_x") == "edge"
    with pytest.raises(ValueError, match="unknown kernel"):
        kernels.group_of("nope")


@pytest.mark.parametrize("name", ["identity", "box_blur_3x3", "box_blur_5x5", "gaussian_3x3", "gaussian_5x5",
                                  "sharpen"])
def test_brightness_keeping_kernels_sum_to_one(name):
    assert math.isclose(float(np.sum(kernels.KERNELS[name])), 1.0, abs_tol=1e-9)  # flat areas keep their brightness


@pytest.mark.parametrize("name", ["sobel_x", "sobel_y", "prewitt_x", "prewitt_y", "laplacian", "outline"])
def test_edge_kernels_sum_to_zero(name):
    assert kernels.KERNELS[name].sum() == 0


def test_shared_kernels_are_read_only_and_get_returns_a_copy():
    with pytest.raises(ValueError):
        kernels.KERNELS["sobel_x"][0, 0] = 5
    k = kernels.get("sobel_x")
    k[0, 0] = 5
    assert kernels.KERNELS["sobel_x"][0, 0] == -1
    with pytest.raises(ValueError, match="unknown kernel 'nope'"):
        kernels.get("nope")


def test_parse_custom_accepts_lists_arrays_and_dataframes():
    grid = [[0, 1, 0], [1, -4, 1], [0, 1, 0]]
    assert np.array_equal(kernels.parse_custom(grid), kernels.NAMED["laplacian"])
    assert kernels.parse_custom(pd.DataFrame(np.ones((5, 5)))).shape == (5, 5)


@pytest.mark.parametrize("grid, message", [
    ([[1, 2], [3, 4]], "3x3 or 5x5"),
    (np.ones((3, 4)), "3x3 or 5x5"),
    ([[0, 0, 0], [0, float("nan"), 0], [0, 0, 0]], "row 2, column 2"),
    ([[0, 0, 0], [0, 0, float("inf")], [0, 0, 0]], "row 2, column 3"),
    ([["a", 0, 0], [0, 0, 0], [0, 0, 0]], "must be a number"),
    (pd.DataFrame([[None, 1, 0], [0, 1, 0], [0, 1, 0]]), "row 1, column 1"),
])
def test_parse_custom_refuses_bad_grids_with_a_plain_message(grid, message):
    with pytest.raises(ValueError, match=message):
        kernels.parse_custom(grid)


def test_label_is_readable():
    assert kernels.label("box_blur_3x3") == "box blur 3x3"
