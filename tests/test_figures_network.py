"""Calculator figures: the sliding-window diagram draws every cell when small and summarises past a size."""
import pytest

from cnnviz import dims
from cnnviz.figures import network as figs


def test_small_rows_are_drawn_whole():
    w = dims.worked(5, 3, 2, 1, 1)  # padded row of 7 cells, windows at 0, 2, 4
    view = figs.window_view(w)
    assert view.cells == tuple(range(7)) and view.windows == (0, 1, 2) and view.hidden is None and view.note is None
    fig = figs.sliding_windows(w)
    assert len(fig.layout.shapes) == 7
    markers = [t for t in fig.data if t.mode == "markers"]
    assert [[round(x - 0.47) for x in t.x] for t in markers] == [[0, 1, 2], [2, 3, 4], [4, 5, 6]]


@pytest.mark.parametrize("size, kernel, stride, padding, dilation", [
    (300, 3, 1, 1, 1), (4096, 3, 1, 512, 1), (4096, 512, 1, 512, 1), (4096, 64, 3, 512, 64), (4096, 1, 1, 0, 1)])
def test_big_rows_are_summarised_with_a_bounded_figure(size, kernel, stride, padding, dilation):
    w = dims.worked(size, kernel, stride, padding, dilation)
    view = figs.window_view(w)
    total = size + 2 * padding
    assert len(view.cells) == figs.HEAD_CELLS + figs.TAIL_CELLS and view.hidden == (40, total - 14)
    assert view.note.startswith(f"Summarised: showing the first 40 and last 14 of the {total:,} cells")
    fig = figs.sliding_windows(w)
    assert len(fig.layout.shapes) == len(view.cells) <= figs.MAX_CELLS
    assert len(fig.data) <= 2 * figs.MAX_WINDOWS
    assert any(a.text == f"… {total - 54:,} …" for a in fig.layout.annotations)
    last = w.out - 1
    assert f"O[{last}]" in [a.text for a in fig.layout.annotations]  # the last window is among those shown


def test_many_windows_on_a_short_row():
    w = dims.worked(28, 3, 1, 1, 1)
    view = figs.window_view(w)
    assert view.hidden is None and view.windows == tuple(range(10)) + (24, 25, 26, 27)
    assert view.note == ("Summarised: showing the first 10 and last 4 of the 28 window positions "
                         "(… marks what is left out).")
