"""Playground figures: the right trace for the size, padding and window drawn, every number written in."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from cnnviz import kernels, ops
from cnnviz.figures import playground as figs


def test_colourize_grey_diverging_rgb_and_nan():
    grey = figs.colourize(np.array([[0.0, 0.5], [1.0, np.nan]]))
    assert grey.dtype == np.uint8 and grey.shape == (2, 2, 3)
    assert grey[0, 0].tolist() == [0, 0, 0] and grey[1, 0].tolist() == [255, 255, 255]
    assert grey[1, 1].tolist() == [255, 255, 255]  # NaN (tile gaps) -> white
    signed = figs.colourize(np.array([[-2.0, 0.0, 2.0]]))
    assert signed[0, 0, 2] > signed[0, 0, 0] and signed[0, 2, 0] > signed[0, 2, 2]  # blue, red
    assert signed[0, 1].tolist() == [247, 247, 247]  # 0 is white
    rgb = figs.colourize(np.array([[[2.0, -1.0, 0.5]]]))
    assert rgb[0, 0].tolist() == [255, 0, 128]


def test_robust_range_keeps_a_few_extremes_from_washing_out_a_big_map():
    a = np.linspace(0, 1, 10_000, dtype=np.float32).reshape(100, 100)
    a[0, :3] = 50.0
    lo, hi, signed = figs.value_range(a, robust=True)
    assert not signed and hi < 1.0
    assert "max 50" in figs.legend(a)
    assert figs.value_range(a)[1:] == (50.0, False)


def test_big_pictures_are_one_jpeg_small_ones_heatmaps_with_numbers():
    big = figs.picture(np.random.default_rng(0).random((100, 120)), "big")
    assert isinstance(big.data[0], go.Image) and big.data[0].source.startswith("data:image/jpeg;base64,")
    small = figs.picture(np.eye(5), "small", padding=1, zoom=2)  # small: zoom ignored
    trace = small.data[0]
    assert isinstance(trace, go.Heatmap) and np.asarray(trace.z).shape == (7, 7)
    assert trace.x0 == -1 and trace.text[0][0] == "0"
    assert small.layout.shapes[0].line.dash == "dash"  # the picture's edge inside the padding
    rgb = figs.picture(np.random.default_rng(0).random((8, 8, 3)), "rgb")
    assert isinstance(rgb.data[0], go.Image)


def test_window_is_outlined_and_dilated_taps_are_marked():
    win = ops.window((9, 9), 1, 2, 3, stride=1, padding=1, dilation=2)
    fig = figs.picture(np.zeros((9, 9)), "x", padding=1, window=win)
    rect = fig.layout.shapes[-1]
    assert (rect.x0, rect.x1, rect.y0, rect.y1) == (0.5, 5.5, -0.5, 4.5)
    assert len(fig.data[1].x) == 9  # one marker per tap when dilation leaves gaps


def test_explain_figure_writes_patch_kernel_products_and_pad():
    img = np.arange(16, dtype=np.float64).reshape(4, 4)
    ex = ops.explain_pixel(img, kernels.KERNELS["sobel_x"], 0, 0, padding=1)
    fig = figs.explain_figure(ex)
    text = np.asarray(fig.data[0].text)
    assert text.shape == (3, 11)  # 3 blocks of 3 columns + 2 gaps
    assert text[0, 0] == "0<br>pad" and text[1, 1] == "0"  # padding, then the pixel (0, 0) = 0
    assert text[1, 10] == "2" and text[1, 8] == "0"  # products: pixel (0, 1) = 1 times weight 2; pad times -2
    assert f"{ex.total:.4g}" in fig.layout.title.text
    rgb = ops.explain_pixel(np.ones((4, 4, 3)), kernels.KERNELS["blur"], 1, 1)
    assert np.asarray(figs.explain_figure(rgb).data[0].text).shape == (11, 11)  # a row of blocks per channel


def test_pool_figure_outlines_the_max():
    img = np.array([[1.0, 5.0], [2.0, 3.0]])
    fig = figs.pool_figure(ops.explain_pool(img, 0, 0, "max", 2))
    assert "= 5" in fig.layout.title.text
    assert (fig.layout.shapes[0].x0, fig.layout.shapes[0].y0) == (0.5, -0.5)
    avg = figs.pool_figure(ops.explain_pool(img, 0, 0, "avg", 2, 1, 1))
    assert "0<br>pad" in np.asarray(avg.data[0].text)


def test_kernel_and_channel_figures():
    k = figs.kernel_figure(kernels.KERNELS["outline"])
    assert np.asarray(k.data[0].text)[1, 1] == "8"
    ch = figs.channels_figure(np.random.default_rng(1).normal(size=(50, 50, 3)))
    assert "R | G | B" in ch.layout.title.text


def test_zoom_shows_a_big_pictures_window_neighbourhood_with_numbers():
    img = np.arange(100 * 100, dtype=np.float32).reshape(100, 100)
    win = ops.window(img.shape, 0, 50, 3, padding=1)  # rows -1..1, cols 49..51
    fig = figs.picture(img, "zoomed", padding=1, window=win, zoom=2)
    trace = fig.data[0]
    assert isinstance(trace, go.Heatmap) and np.asarray(trace.z).shape == (5, 7)  # rows -1..3, cols 47..53
    assert (trace.y0, trace.x0) == (-1, 47)
    assert np.asarray(trace.z)[1, 0] == img[0, 47] and trace.text[1][0] == f"{img[0, 47]:.3g}"
    assert list(fig.layout.xaxis.range) == [46.5, 53.5]
