"""cnnviz.ops equals PyTorch; known kernel answers; the worked pixel sums to the output; bad input is refused."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnviz import kernels, ops


def _torch(img: np.ndarray) -> torch.Tensor:
    t = torch.from_numpy(img)
    return t[None, None] if t.ndim == 2 else t.permute(2, 0, 1)[None]


@st.composite
def conv_case(draw):
    """A float64 picture (grey or RGB), a kernel and settings that fit it."""
    k = draw(st.integers(1, 5))
    dilation = draw(st.integers(1, 3))
    padding = draw(st.integers(0, 3))
    stride = draw(st.integers(1, 3))
    span = dilation * (k - 1) + 1
    low = max(1, span - 2 * padding)
    h, w = draw(st.integers(low, low + 10)), draw(st.integers(low, low + 10))
    channels = draw(st.sampled_from([0, 1, 3]))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    img = rng.normal(size=(h, w) if channels == 0 else (h, w, channels))
    return img, rng.normal(size=(k, k)), stride, padding, dilation


@settings(max_examples=40, deadline=None, derandomize=True)
@given(conv_case())
def test_convolve_equals_torch_conv2d(case):
    img, kernel, stride, padding, dilation = case
    c = 1 if img.ndim == 2 else img.shape[2]
    weight = torch.from_numpy(np.repeat(kernel[None, None], c, axis=1))  # (1, C, k, k)
    want = F.conv2d(_torch(img), weight, stride=stride, padding=padding, dilation=dilation)[0, 0].numpy()
    got = ops.convolve(img, kernel, stride, padding, dilation)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    if img.ndim == 3:  # the per-channel responses add up to the filter's output
        per = ops.convolve_channels(img, kernel, stride, padding, dilation)
        assert per.shape == (*want.shape, c)
        np.testing.assert_allclose(per.sum(axis=2), want, rtol=1e-10, atol=1e-10)


@st.composite
def pool_case(draw):
    k = draw(st.integers(1, 4))
    stride = draw(st.one_of(st.none(), st.integers(1, 3)))
    padding = draw(st.integers(0, k // 2))
    h = draw(st.integers(max(1, k - 2 * padding), 12))
    w = draw(st.integers(max(1, k - 2 * padding), 12))
    channels = draw(st.sampled_from([0, 3]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    img = rng.normal(size=(h, w) if channels == 0 else (h, w, channels))
    return img, draw(st.sampled_from(ops.POOL_KINDS)), k, stride, padding


@settings(max_examples=40, deadline=None, derandomize=True)
@given(pool_case())
def test_pool_equals_torch_pooling(case):
    img, kind, k, stride, padding = case
    fn = F.max_pool2d if kind == "max" else F.avg_pool2d
    want = fn(_torch(img), k, stride=stride, padding=padding)[0]  # (C, Ho, Wo)
    want = want[0].numpy() if img.ndim == 2 else want.permute(1, 2, 0).numpy()
    got = ops.pool(img, kind, k, stride, padding)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@settings(max_examples=20, deadline=None, derandomize=True)
@given(conv_case(), st.data())
def test_worked_pixel_products_sum_to_the_output_pixel(case, data):
    img, kernel, stride, padding, dilation = case
    out = ops.convolve(img, kernel, stride, padding, dilation)
    r = data.draw(st.integers(0, out.shape[0] - 1))
    c = data.draw(st.integers(0, out.shape[1] - 1))
    ex = ops.explain_pixel(img, kernel, r, c, stride, padding, dilation)
    assert ex.total == pytest.approx(out[r, c], rel=1e-12, abs=1e-12)
    assert ex.total == pytest.approx(float(ex.products.sum()), rel=1e-12, abs=1e-12)
    assert np.array_equal(ex.products, ex.patch * (ex.kernel if img.ndim == 2 else ex.kernel[..., None]))
    assert np.all(ex.patch[~ex.window.inside] == 0)  # zero padding


def test_float32_picture_computes_in_float32_and_the_worked_pixel_agrees():
    img = np.random.default_rng(0).random((64, 64, 3), dtype=np.float32)
    out = ops.convolve(img, kernels.KERNELS["gaussian_5x5"], padding=2)
    assert out.dtype == np.float32
    ex = ops.explain_pixel(img, kernels.KERNELS["gaussian_5x5"], 0, 31, padding=2)
    assert ex.total == pytest.approx(float(out[0, 31]), rel=1e-5)


def test_pool_window_max_and_mean_equal_the_pooled_value():
    img = np.random.default_rng(1).normal(size=(7, 9, 3))
    for kind in ops.POOL_KINDS:
        pooled = ops.pool(img, kind, 3, 2, 1)
        for r in range(pooled.shape[0]):
            for c in range(pooled.shape[1]):
                ex = ops.explain_pool(img, r, c, kind, 3, 2, 1)
                np.testing.assert_allclose(ex.result, pooled[r, c], rtol=1e-12)
                if kind == "max":
                    for ch, (i, j) in enumerate(ex.argmax):
                        assert ex.values[i, j, ch] == ex.result[ch]


def test_max_pool_padding_never_wins_and_avg_counts_it_as_zero():
    img = -np.ones((2, 2))
    ex_max = ops.explain_pool(img, 0, 0, "max", 2, 1, 1)
    assert ex_max.result == (-1.0,)
    ex_avg = ops.explain_pool(img, 0, 0, "avg", 2, 1, 1)
    assert ex_avg.result == (-0.25,)  # 1 real pixel of 4 cells, as torch's count_include_pad=True


# -- known answers ---------------------------------------------------------------------------------------------

def _step(h: int = 8, w: int = 8, at: int = 4) -> np.ndarray:
    img = np.zeros((h, w))
    img[:, at:] = 1.0
    return img


@pytest.mark.parametrize("name", ["sobel_x", "prewitt_x"])
def test_vertical_edge_kernels_respond_only_at_a_vertical_step(name):
    out = ops.convolve(_step(), kernels.KERNELS[name])  # valid: 6x6; window at col j covers cols j..j+2
    hit = np.nonzero(np.abs(out).sum(axis=0))[0]
    assert list(hit) == [2, 3]  # windows straddling the step between columns 3 and 4
    assert np.all(out[:, [2, 3]] > 0)  # dark -> bright left to right: positive (no flip: cross-correlation)
    assert np.all(ops.convolve(_step(), kernels.KERNELS["sobel_y"]) == 0)  # a horizontal-edge kernel sees nothing


def test_box_blur_preserves_a_constant_image_away_from_the_zero_padding():
    img = np.full((10, 10), 0.7)
    np.testing.assert_allclose(ops.convolve(img, kernels.KERNELS["box_blur_5x5"]), 0.7, rtol=1e-12)
    padded = ops.convolve(img, kernels.KERNELS["blur"], padding=1)
    np.testing.assert_allclose(padded[1:-1, 1:-1], 0.7, rtol=1e-12)
    assert padded[0, 0] == pytest.approx(0.7 * 4 / 9)  # the corner window sees 5 zeros of padding


@pytest.mark.parametrize("name", ["sharpen", "gaussian_3x3", "gaussian_5x5", "identity"])
def test_normalised_kernels_keep_a_constant_image(name):
    out = ops.convolve(np.full((9, 9), 0.3), kernels.KERNELS[name])
    np.testing.assert_allclose(out, 0.3, rtol=1e-12)


def test_identity_is_identity_with_same_padding():
    img = np.random.default_rng(2).random((6, 7, 3))
    per = ops.convolve_channels(img, kernels.KERNELS["identity"], padding=1)
    np.testing.assert_array_equal(per, img)
    np.testing.assert_allclose(ops.convolve(img, kernels.KERNELS["identity"], padding=1), img.sum(axis=2))


def test_dilation_spreads_the_taps():
    ex = ops.explain_pixel(np.zeros((9, 9)), np.ones((3, 3)), 0, 0, dilation=3)
    assert ex.window.rows == (0, 3, 6) and ex.window.cols == (0, 3, 6)
    ex = ops.explain_pixel(np.zeros((5, 5)), np.ones((3, 3)), 1, 0, stride=2, padding=1)
    assert ex.window.rows == (1, 2, 3) and ex.window.cols == (-1, 0, 1)
    assert ex.window.inside[:, 0].tolist() == [False] * 3


# -- bad input -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, message", [
    (dict(image=np.zeros((1, 1)), kernel=np.ones((3, 3))), "1x1 picture and a 3x3 kernel"),
    (dict(image=np.zeros((4, 4)), kernel=np.ones((5, 5)), padding=0), "output size would be 0"),
    (dict(image=np.zeros((4, 4)), kernel=np.ones((3, 3)), stride=0), "stride must be a whole number >= 1, got 0"),
    (dict(image=np.zeros((4, 4)), kernel=np.ones((3, 3)), stride=-2), "got -2"),
    (dict(image=np.zeros((4, 4)), kernel=np.ones((3, 3)), stride=1.5), "stride must be a whole number"),
    (dict(image=np.zeros((4, 4)), kernel=np.ones((3, 3)), padding=-1), "padding"),
    (dict(image=np.zeros((4, 4)), kernel=np.full((3, 3), np.nan)), "NaN"),
    (dict(image=np.zeros((4, 4)), kernel=np.ones((3, 2))), "kernel must be"),
    (dict(image=np.zeros((4, 4, 3)), kernel=np.ones((3, 3, 2))), r"\(k, k, 3\)"),
    (dict(image=np.zeros((0, 4)), kernel=np.ones((1, 1))), "no empty side"),
    (dict(image=np.zeros(4), kernel=np.ones((1, 1))), "must be"),
    (dict(image=np.full((4, 4), np.inf), kernel=np.ones((1, 1))), "infinite"),
])
def test_convolve_refuses_bad_input_with_a_plain_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ops.convolve(**kwargs)


@pytest.mark.parametrize("args, message", [
    (("max", 3, None, 0), "output size would be"),     # 2x2 picture, 3x3 window
    (("max", 2, 0, 0), "stride must be"),
    (("median", 2, None, 0), "pooling kind"),
    (("avg", 2, None, 2), "half the kernel"),
])
def test_pool_refuses_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        ops.pool(np.zeros((2, 2)), *args)


def test_explain_refuses_a_position_outside_the_output():
    with pytest.raises(ValueError, match=r"\(3, 0\) is outside the 3x3 output"):
        ops.explain_pixel(np.zeros((5, 5)), np.ones((3, 3)), 3, 0)
    with pytest.raises(ValueError, match="outside"):
        ops.explain_pool(np.zeros((4, 4)), 0, -1)


def test_resolve_padding():
    assert ops.resolve_padding("valid", 5) == 0
    assert ops.resolve_padding("same", 5) == 2
    assert ops.resolve_padding("same", 3, dilation=2) == 2
    assert ops.resolve_padding(3, 3) == 3
    with pytest.raises(ValueError, match="no symmetric 'same'"):
        ops.resolve_padding("same", 4)
    with pytest.raises(ValueError, match="0 or more"):
        ops.resolve_padding(-1, 3)


def test_next_position_walks_row_by_row_and_wraps():
    assert ops.next_position(0, 0, 2, 3) == (0, 1)
    assert ops.next_position(0, 2, 2, 3) == (1, 0)
    assert ops.next_position(1, 2, 2, 3) == (0, 0)


# -- the CONV -> RELU -> POOL block ----------------------------------------------------------------------------

def test_run_grey_conv_relu_pool_matches_the_pieces_and_dims():
    img = np.random.default_rng(3).random((20, 30, 3), dtype=np.float32)
    s = ops.Settings(kernel=ops.settings_kernel(kernels.KERNELS["outline"]), stride=2, padding=1, relu=True,
                     pool="max", pool_size=2)
    res = ops.run(img, s)
    assert res.image.shape == (20, 30)  # turned grey
    assert res.channels is None
    assert res.conv.shape == (res.conv_sizes[0].out, res.conv_sizes[1].out) == (10, 15)
    assert res.activated.min() >= 0
    np.testing.assert_array_equal(res.pooled, ops.pool(res.activated, "max", 2))
    assert res.pooled.shape == (res.pool_sizes[0].out, res.pool_sizes[1].out) == (5, 7)


def test_run_per_channel_keeps_channels_and_pooling_alone_pools_the_picture():
    img = np.random.default_rng(4).random((8, 8, 3), dtype=np.float32)
    res = ops.run(img, ops.Settings(per_channel=True))
    assert res.channels.shape == (6, 6, 3)
    np.testing.assert_allclose(res.conv, ops.convolve(img, np.asarray(ops.Settings().kernel)), rtol=1e-6, atol=1e-6)
    alone = ops.run(img, ops.Settings(per_channel=True, convolve=False, pool="avg", pool_size=4))
    assert alone.conv is None and alone.pooled.shape == (2, 2, 3)
    assert math.isclose(float(alone.pooled[0, 0, 0]), float(img[:4, :4, 0].mean()), rel_tol=1e-6)


def test_run_refuses_a_kernel_bigger_than_the_picture():
    with pytest.raises(ValueError, match="do not fit"):
        ops.run(np.zeros((1, 1)), ops.Settings(kernel=ops.settings_kernel(np.ones((5, 5)))))


# -- where the step-through starts ------------------------------------------------------------------

def _shipped_pictures(data_root) -> dict[str, np.ndarray]:
    """Every picture the playground offers by default: each photo, each pattern at its default size, digit 0."""
    from cnnviz import data, pagestate, pictures

    defaults = pagestate.playground()
    found = {f"photo {name}": pictures.photo(name) for name in pictures.PHOTOS}
    found.update({f"pattern {name}": pictures.pattern(name, defaults["psize"].default) for name in pictures.PATTERNS})
    split = data.load("mnist", "test", root=data_root, download=False)
    found["MNIST digit"] = pictures.digit(split, defaults["digit"].default)[0]
    return found


def test_the_first_stepped_pixel_is_a_real_sum_for_every_shipped_picture_and_kernel(data_root):
    """A class's first look at the worked pixel: never a window of zeros (the corner of an MNIST digit was)."""
    for label, picture in _shipped_pictures(data_root).items():
        for name in kernels.NAMED:
            s = ops.Settings(kernel=ops.settings_kernel(kernels.KERNELS[name]))
            res = ops.run(picture, s)
            at = ops.stepped_position(None, None, res.conv)
            ex = ops.explain_pixel(res.image, s.kernel_array, at.row, at.col)
            assert np.any(ex.products != 0), (label, name, at)
            assert abs(res.conv[at.row, at.col]) == np.abs(res.conv).max(), (label, name)


def test_start_position_is_the_strongest_pixel_first_on_ties_centre_when_all_zero():
    out = np.zeros((4, 5))
    assert ops.start_position(out) == (2, 2)
    out[1, 3], out[2, 0], out[3, 4] = -2.0, 2.0, 1.0
    assert ops.start_position(out) == (1, 3)  # |-2| == |2|: the first, row by row
    rgb = np.zeros((3, 3, 3))
    rgb[2, 1, 2] = 5.0
    assert ops.start_position(rgb) == (2, 1)  # a pooled RGB picture: its strongest channel


def _at(stepped: ops.Stepped) -> tuple[int, int]:
    return stepped.row, stepped.col


def test_stepped_position_follows_the_output_until_someone_chooses_a_pixel():
    a, b = np.zeros((6, 6)), np.zeros((6, 6))
    a[4, 1], b[0, 5] = 1.0, 1.0
    first = ops.stepped_position(None, None, a)
    assert (first.row, first.col, first.auto) == (4, 1, True)
    assert _at(ops.stepped_position(4, 1, b, first)) == (0, 5)  # untouched: it follows the new output's start
    link = ops.stepped_position(2, 3, a, None)  # a link's position, on its first run: it wins
    assert (link.row, link.col, link.auto) == (2, 3, False)
    slid = ops.stepped_position(5, 5, a, first)  # the slider moved: kept, and kept when the kernel changes
    assert (slid.row, slid.col, slid.auto) == (5, 5, False)
    assert _at(ops.stepped_position(5, 5, b, slid)) == (5, 5)
    small = np.zeros((3, 3))
    small[1, 1] = 1.0
    assert _at(ops.stepped_position(5, 5, small, slid)) == (1, 1)  # another picture's size: not its corner
    assert _at(ops.stepped_position(9, 9, small, None)) == (2, 2)  # a link beyond the output: kept inside
    played = first.next()
    assert (played.row, played.col, played.auto) == (4, 2, False)
    assert _at(ops.stepped_position(4, 2, b, played)) == (4, 2)  # Play goes on from where it is


@pytest.mark.parametrize("index, k, s, p, d", [(0, 3, 1, 0, 1), (2, 5, 2, 2, 1), (1, 3, 2, 1, 2), (3, 2, 2, 0, 1)])
def test_taps_are_the_positions_torch_unfold_reads(index, k, s, p, d):
    """ops.taps (the calculator's window, explain's worked units) against F.unfold on a 1-D ramp."""
    n = 12
    ramp = torch.arange(n, dtype=torch.float64).reshape(1, 1, 1, n) + 1  # 1..n; 0 marks the padding
    cols = F.unfold(ramp, (1, k), padding=(0, p), stride=(1, s), dilation=(1, d))[0]  # (k, L)
    expected = [int(v) - 1 if v else None for v in cols[:, index].tolist()]
    got = [t if 0 <= t < n else None for t in ops.taps(index, k, s, p, d)]
    assert got == expected
