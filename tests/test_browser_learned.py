"""Draw's "what has this channel learned?" in real Chromium: draw a 7, click a conv2 tile, ask."""
from __future__ import annotations

import pytest
from conftest import open_page, wait_idle
from test_browser_draw import _click_tile, draw_seven, read_prediction


@pytest.mark.browser
def test_a_conv2_channel_shows_its_top_images_patches_and_grown_input(app_url, projector, artifacts):
    page = projector
    open_page(page, app_url, "draw")
    draw_seven(page)
    assert read_prediction(page) == "7"
    _click_tile(page, "overview_0_tutorial_a", "conv2", 5)  # conv2's tile 5
    ask = page.get_by_text("🔎 What has conv2 map 5 learned?")
    ask.scroll_into_view_if_needed()
    ask.click()
    wait_idle(page)
    for key in ("learned_top_0", "learned_patches_0", "learned_dream_0"):
        chart = page.locator(f".st-key-{key} .js-plotly-plot")
        assert chart.count() == 1, key
        traces = page.evaluate(f"() => document.querySelector('.st-key-{key} .js-plotly-plot').data.length")
        assert traces == (2 if key == "learned_dream_0" else 9), key
    assert page.get_by_text("excite conv2 map 5 most").count() == 1
    ask.evaluate("e => e.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(500)
    page.screenshot(path=str(artifacts / "draw_learned.png"))
