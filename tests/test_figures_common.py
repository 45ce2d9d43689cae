"""figures.common: tiling many maps into one array, and the one-trace heatmap."""
import numpy as np
import pytest

from cnnviz.figures.common import heatmap, tile


def test_tile_lays_maps_out_with_nan_gaps():
    maps = np.stack([np.full((3, 4), i, dtype=np.float32) for i in range(5)])
    out = tile(maps, cols=3, normalize=False)
    assert out.shape == (2 * 3 + 1, 3 * 4 + 2)
    assert np.all(out[0:3, 0:4] == 0) and np.all(out[0:3, 5:9] == 1) and np.all(out[4:7, 5:9] == 4)
    assert np.isnan(out[3]).all() and np.isnan(out[:, 4]).all()
    assert np.isnan(out[4:7, 10:14]).all()  # the sixth slot is empty


def test_tile_normalises_each_map_on_its_own():
    maps = np.stack([np.arange(4.0).reshape(2, 2), 100 * np.arange(4.0).reshape(2, 2), np.ones((2, 2))])
    out = tile(maps, cols=3)
    assert np.nanmax(out[:, 0:2]) == 1 and np.nanmax(out[:, 3:5]) == 1
    assert np.all(out[:, 6:8] == 0)  # a constant map does not divide by zero


def test_tile_refuses_a_single_image():
    with pytest.raises(ValueError, match=r"\(N, H, W\)"):
        tile(np.zeros((4, 4)))


def test_heatmap_is_an_image_with_optional_numbers():
    fig = heatmap(np.eye(3), title="kernel", text=True)
    assert fig.layout.yaxis.autorange == "reversed" and fig.layout.title.text == "kernel"
    assert list(fig.data[0].text[0]) == ["1", "0", "0"]
