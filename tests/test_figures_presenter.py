"""Presenter styling: every font of a real page figure grows to the floor, on a copy; the original is untouched."""
import numpy as np
import plotly.graph_objects as go

from cnnviz import kernels, ops
from cnnviz.figures import playground as pg
from cnnviz.figures import training
from cnnviz.figures.common import heatmap
from cnnviz.figures.presenter import FONT, NUMBERS, page_css, present


def _sizes(fig: go.Figure) -> list:
    """Every font size the figure states, and None for fonts left to plotly's 12 px default."""
    lay = fig.layout
    out = [lay.font.size, lay.title.font.size] + [n.font.size for n in lay.annotations]
    out += [lay[k].tickfont.size for k in lay if k.startswith(("xaxis", "yaxis"))]
    return out


def test_heatmap_numbers_and_axis_fonts_reach_the_floor_on_a_copy():
    fig = heatmap(np.arange(9.0).reshape(3, 3), "numbers", text=True)
    before = fig.to_json()
    big = present(fig)
    assert fig.to_json() == before  # the cached figure another session may be drawing is unchanged
    assert big.data[0].textfont.size >= NUMBERS > fig.data[0].textfont.size
    assert all(s is not None and s >= FONT for s in _sizes(big)), _sizes(big)


def test_real_playground_figures_with_subplots_and_annotations():
    ex = ops.explain_pixel(np.random.default_rng(0).random((7, 7)), kernels.KERNELS["sobel_x"], 2, 2)
    for fig in (pg.explain_figure(ex), pg.kernel_figure(kernels.KERNELS["blur"]),
                pg.picture(np.random.default_rng(0).random((7, 7)), "input", 1)):
        big = present(fig)
        assert all(s is not None and s >= FONT for s in _sizes(big)), _sizes(big)
        for trace in big.data:
            if "textfont" in trace and trace.text is not None:
                assert trace.textfont.size >= NUMBERS


def test_bigger_fonts_stay_bigger():
    fig = go.Figure(layout={"font": {"size": 30}, "xaxis": {"tickfont": {"size": 22}}})
    big = present(fig)
    assert big.layout.font.size == 30 and big.layout.xaxis.tickfont.size == 22


def test_training_confusion_matrix():
    fig = training.confusion(np.eye(10, dtype=int) * 5, tuple("0123456789"))
    big = present(fig)
    assert all(s is not None and s >= FONT for s in _sizes(big)), _sizes(big)


def test_numbers_that_cannot_fit_their_cells_are_dropped_not_piled_up():
    small = heatmap(np.random.default_rng(0).random((16, 16)), "16x16 in 235 px", text=True, height=235)
    roomy = heatmap(np.random.default_rng(0).random((3, 3)), "3x3 in 300 px", text=True, height=300)
    assert present(small).data[0].texttemplate is None and small.data[0].texttemplate  # the original keeps them
    assert present(roomy).data[0].texttemplate == "%{text}"


def test_bar_labels_may_not_shrink_below_the_floor():
    fig = go.Figure(go.Bar(x=list(range(10)), y=[0.1] * 10, text=["100%"] * 10, textposition="outside"))
    assert present(fig).layout.uniformtext.minsize == NUMBERS


def test_the_page_stylesheet_is_bigger_and_hides_advanced_controls_only_when_presenting():
    on, off = page_css(True), page_css(False)
    assert on.startswith("<style>") and off.startswith("<style>") and on.endswith("</style>")
    assert "font-size: 20px" in on and "[class*='st-key-adv_'] {display: none}" in on
    assert "20px" not in off and "adv_" not in off
    assert "stMainBlockContainer" in on and "stMainBlockContainer" in off  # dense padding either way
