"""AppTest: the playground page runs with every kernel, pooling, RGB channels, MNIST digits; errors are messages."""
from __future__ import annotations

import re

import pytest
from conftest import ROOT
from streamlit.testing.v1 import AppTest

from cnnviz import kernels


def _page(source: str = "Pattern") -> AppTest:
    at = AppTest.from_file(str(ROOT / "app_pages" / "playground.py"), default_timeout=60)
    at.session_state["pg_source"] = source
    return at.run()


def _tab(at: AppTest, name: str) -> AppTest:
    at.session_state["pg_step_tab"] = name  # the tab a visitor (or a link) opened: only its content is computed
    return at.run()


def _sum_line(at: AppTest) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("Sum of the products"))


def _assert_sum_equals_output(at: AppTest) -> None:
    line = _sum_line(at)
    total, out = re.search(r"\*\*(\S+)\*\* = output\[\d+, \d+\] = \*\*(\S+)\*\*", line).groups()
    assert total == out, line


def test_default_photo_page_runs_with_the_worked_formula():
    at = _page("Photo")
    assert not at.exception and not at.error
    _assert_sum_equals_output(at)
    _tab(at, "Output sizes")
    assert any("Convolution output: 510 x 510" in m.value for m in at.markdown)
    assert any("(512 - 3 + 2·0)/1 + 1" in c.value for c in at.code)


def test_every_named_kernel_runs_and_its_worked_pixel_sums_to_the_output():
    at = _page()
    seen = set()
    for name in kernels.NAMED:
        at.selectbox(key="pg_kernel").set_value(name).run()
        assert not at.exception, name
        assert not at.error, (name, [e.value for e in at.error])
        _assert_sum_equals_output(at)
        seen.add(_sum_line(at))
    assert len(seen) > 3  # different kernels give different numbers


@pytest.mark.parametrize("pool", ["max", "avg"])
def test_conv_relu_pool_block_and_pooling_alone(pool):
    at = _page()
    at.radio(key="pg_pad_mode").set_value("same")
    at.toggle(key="pg_relu").set_value(True)
    at.selectbox(key="pg_pool").set_value(pool)
    _tab(at, "Pooling step")
    assert not at.exception and not at.error
    assert any(m.value.startswith(f"{pool} of the window") for m in at.markdown)
    _tab(at, "Output sizes")
    assert any(f"{pool.capitalize()} pooling output: 3 x 3" in m.value for m in at.markdown)  # 7x7 -> 3x3
    at.toggle(key="pg_conv").set_value(False).run()  # pooling alone, on the picture
    assert not at.exception and not at.error
    assert any("pooling alone" in i.value for i in at.info)


def test_rgb_photo_per_channel_shows_filter_depth_and_three_sums():
    at = _page("Photo")
    at.selectbox(key="pg_photo").set_value("astronaut")
    at.select_slider(key="pg_crop").set_value(16).run()  # an RGB picture: the channel toggle appears
    at.toggle(key="pg_rgb").set_value(True).run()
    assert not at.exception and not at.error
    assert _sum_line(at).count(" + ") == 2  # R + G + B channel sums
    _assert_sum_equals_output(at)
    _tab(at, "Output sizes")
    assert any("filter has depth 3" in i.value for i in at.info)


def test_custom_kernel_grids_start_as_identity_and_an_emptied_cell_is_a_message():
    at = _page()
    for name in ("custom 5x5", "custom 3x3"):
        at.selectbox(key="pg_kernel").set_value(name).run()
        assert not at.exception and not at.error
    # st.data_editor's own edit record: the user cleared the centre cell
    at.session_state["pg_grid_3"] = {"edited_rows": {1: {"1": None}}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception
    said = "kernel cells must be finite numbers; empty or not a number at: row 2, column 2"
    assert [e.value for e in at.error] == [said]


@pytest.mark.parametrize("widget, value", [("pg_dilation", 4), ("pg_stride", 4)])
def test_impossible_settings_are_an_error_message(widget, value):
    at = _page()
    at.slider(key="pg_pattern_size").set_value(3)
    at.selectbox(key="pg_kernel").set_value("gaussian_5x5")
    at.slider(key=widget).set_value(value).run()
    assert not at.exception
    assert any("do not fit" in e.value and "3x3 picture" in e.value for e in at.error), [e.value for e in at.error]


def test_play_moves_the_window_one_cell():
    at = _page()
    row, col = at.slider(key="pg_pos_r").value, at.slider(key="pg_pos_c").value
    at.toggle(key="pg_play").set_value(True).run()
    assert not at.exception
    assert (at.slider(key="pg_pos_r").value, at.slider(key="pg_pos_c").value) == (row, col + 1)


def test_mnist_digit_source(data_root):
    at = _page("MNIST digit")
    assert not at.exception and not at.error
    assert any("This digit is a **7**" in c.value for c in at.caption)


def test_mnist_missing_says_where_to_put_the_files(monkeypatch, tmp_path):
    monkeypatch.setenv("CNNVIZ_DATA", str(tmp_path))
    at = _page("MNIST digit")
    assert not at.exception
    assert any("put its four files" in w.value for w in at.warning)


def test_a_link_opens_its_view_and_the_page_writes_its_state_back():
    at = AppTest.from_file(str(ROOT / "app_pages" / "playground.py"), default_timeout=60)
    at.query_params.update(src="Pattern", kernel="sobel_x", stride="2", pool="max", r="1", col="0")
    at.run()
    assert not at.exception and not at.warning
    assert at.radio(key="pg_source").value == "Pattern" and at.selectbox(key="pg_kernel").value == "sobel_x"
    assert at.slider(key="pg_stride").value == 2 and at.selectbox(key="pg_pool").value == "max"
    assert "output[1, 0]" in _sum_line(at)
    at.slider(key="pg_stride").set_value(1).run()  # the default: it leaves the link
    assert "stride" not in at.query_params and at.query_params["kernel"] == "sobel_x"


def test_a_hostile_link_is_a_note_and_the_page_works():
    at = AppTest.from_file(str(ROOT / "app_pages" / "playground.py"), default_timeout=60)
    at.query_params.update(src="Pattern", stride="99", kernel="__import__('os').system('x')", evil="x" * 10_000,
                           dil="nan", grid="1,2;3")
    at.run()
    assert not at.exception and not at.error
    note = " ".join(w.value for w in at.warning)
    for name in ("stride='99' ignored", "kernel=", "'evil' ignored", "dil='nan' ignored", "grid='1,2;3' ignored"):
        assert name in note, note
    assert at.slider(key="pg_stride").value == 1 and at.selectbox(key="pg_kernel").value == "outline"
    _assert_sum_equals_output(at)


def test_a_custom_kernel_from_a_link():
    at = AppTest.from_file(str(ROOT / "app_pages" / "playground.py"), default_timeout=60)
    at.query_params.update(src="Pattern", kernel="custom 3x3", grid="0,1,0;1,-4,1;0,1,0")
    at.run()
    assert not at.exception and not at.error and not at.warning
    assert at.session_state["pg_custom"] == ((0, 1, 0), (1, -4, 1), (0, 1, 0))
    _assert_sum_equals_output(at)


def test_the_copy_link_shows_the_values_the_page_ended_on():
    """The stepped pixel is kept inside the output during the run: the popover's link (built before) said r=3
    while the page showed row 0 of a 1x1 output."""
    at = _page()
    at.slider(key="pg_pos_r").set_value(3).run()
    col = at.slider(key="pg_pos_c").value  # the column the window starts on (the strongest response)
    assert [c.value for c in at.code if c.value.startswith("?")] == [f"?src=Pattern&r=3&col={col}"]
    at.slider(key="pg_pattern_size").set_value(3).run()  # a 3x3 pattern: the 3x3 kernel's output is 1x1
    assert not at.exception and "output[0, 0]" in _sum_line(at)
    assert [c.value for c in at.code if c.value.startswith("?")] == ["?src=Pattern&psize=3&r=0&col=0"]
    assert at.query_params["r"] == "0"


def _stepped(at: AppTest) -> tuple[int, int]:
    return at.slider(key="pg_pos_r").value, at.slider(key="pg_pos_c").value


def test_the_stepped_pixel_starts_on_a_real_sum_and_play_walks_on_from_there(data_root):
    """From the photo to an MNIST digit, the window starts on the digit's strongest response, not
    in a corner of zeros (the photo's centre clamped into the 26x26 output); Play moves on from that pixel."""
    at = _page("Photo")
    at.radio(key="pg_source").set_value("MNIST digit").run()
    assert not at.exception and not at.error
    line = _sum_line(at)
    assert not line.startswith("Sum of the products: **0** "), line
    start = _stepped(at)
    assert start not in ((0, 0), (25, 25)), start
    at.toggle(key="pg_play").set_value(True).run()
    assert _stepped(at) == (start[0], start[1] + 1)
    at.toggle(key="pg_play").set_value(False).run()
    at.slider(key="pg_pos_r").set_value(3).run()  # a chosen pixel stays when the kernel changes
    at.selectbox(key="pg_kernel").set_value("sobel_x").run()
    assert _stepped(at) == (3, start[1] + 1)


def test_the_pooling_step_starts_on_the_strongest_pooled_value():
    at = _page()  # 7x7 vertical edge, outline, valid: its 5x5 output's strongest values lie by the edge
    at.selectbox(key="pg_pool").set_value("max")
    _tab(at, "Pooling step")
    assert not at.exception and not at.error
    line = next(m.value for m in at.markdown if m.value.startswith("max of the window"))
    assert "= **3** = pooled[0, 1]" in line, line
