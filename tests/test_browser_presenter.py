"""Presenter mode read from the back of the room, in real Chromium at 1280x720: on every page every text drawn
in a figure is at least 16 px (or left out: hover keeps it), the sidebar starts collapsed, and Draw's overview
uses the full width with big tiles and every class label."""
from __future__ import annotations

import pytest
from conftest import CANVAS, open_page, stroke, wait_idle
from test_browser_draw import _click_tile, draw_seven, read_prediction

PLOTS = ".js-plotly-plot"
# Every text plotly drew (ticks, titles, annotations, legend, cell numbers) with its size, its text, and whether
# it is visible (a hidden axis' ticks are in the SVG but not drawn).
SMALL_TEXTS = """floor => Array.from(document.querySelectorAll('.js-plotly-plot svg text'))
    .filter(e => !e.closest('.hoverlayer'))
    .filter(e => e.textContent.trim() && e.getBoundingClientRect().width > 0
                 && getComputedStyle(e).display !== 'none' && getComputedStyle(e).visibility !== 'hidden'
                 && parseFloat(getComputedStyle(e).opacity || '1') > 0)
    .map(e => [parseFloat(getComputedStyle(e).fontSize), e.textContent.slice(0, 30),
               e.closest('[class*="st-key-"]') ? [...e.closest('[class*="st-key-"]').classList]
                   .find(c => c.startsWith('st-key-')) : ''])
    .filter(([size]) => size < floor)"""

PAGES = {
    "dimensions": "?present=1",
    "playground": "?src=Pattern&kernel=sobel_x&present=1",
}


def small_texts(page) -> list:
    return page.evaluate(SMALL_TEXTS, 16)


@pytest.mark.browser
@pytest.mark.parametrize("path", list(PAGES))
def test_every_figure_text_is_16px_in_presenter_mode(projector, app_url, artifacts, path):
    open_page(projector, app_url, path + PAGES[path])
    assert projector.locator(PLOTS).count() > 0
    small = small_texts(projector)
    assert small == [], sorted(set(map(tuple, small)))[:60]
    projector.screenshot(path=str(artifacts / f"presenter_{path}.png"))


# Draw's overview: the px of one tile of each map column (the picture's width over its tiles per row), and the
# smallest text it draws (headings, class names, percentages: HTML, beside plotly's SVG texts above).
TILE_PX = """() => Object.fromEntries(Array.from(document.querySelectorAll(
    '.st-key-overview_0_tutorial_a img.ov-pic')).filter(e => +e.dataset.k >= 0 && +e.dataset.cols > 0).map(e =>
    [e.dataset.layer, e.getBoundingClientRect().width * +e.dataset.tw / +e.dataset.width]))"""
OVERVIEW_TEXT_PX = """() => Math.min(...Array.from(document.querySelectorAll('.st-key-overview_0_tutorial_a span'))
    .filter(e => e.textContent.trim()).map(e => parseFloat(getComputedStyle(e).fontSize)))"""


def _sidebar_width(page) -> float:
    return page.evaluate("document.querySelector('[data-testid=stSidebar]').getBoundingClientRect().right")


@pytest.mark.browser
def test_draw_in_presenter_mode_reads_from_the_back(projector, app_url, artifacts):
    open_page(projector, app_url, "draw?present=1")
    assert _sidebar_width(projector) < 50  # folded: the 1280 px are the page's
    draw_seven(projector)
    assert read_prediction(projector) == "7"
    ticks = projector.evaluate("Array.from(document.querySelectorAll("
                               "'.st-key-probs_0 g.xtick text')).map(e => e.textContent)")
    assert ticks == [str(d) for d in range(10)]
    tiles = projector.evaluate(TILE_PX)
    assert {"conv1", "pool1", "conv2", "pool2"} <= set(tiles) and min(tiles[k] for k in
                                                                  ("conv1", "pool1", "conv2", "pool2")) >= 48, tiles
    assert projector.evaluate(OVERVIEW_TEXT_PX) >= 16
    projector.screenshot(path=str(artifacts / "presenter_draw.png"))
    small = small_texts(projector)
    projector.locator(".st-key-overview_0_tutorial_a").evaluate("e => e.scrollIntoView({block: 'center'})")
    projector.wait_for_timeout(300)
    projector.screenshot(path=str(artifacts / "presenter_overview.jpg"), type="jpeg", quality=80)  # in docs/
    _click_tile(projector, "overview_0_tutorial_a", "conv2", 5)
    wait_idle(projector)
    small += small_texts(projector)
    assert small == [], sorted(set(map(tuple, small)))[:60]


@pytest.mark.browser
def test_how_it_learns_in_presenter_mode(projector, app_url, artifacts):
    open_page(projector, app_url, "learn?present=1")
    projector.wait_for_selector(CANVAS)
    stroke(projector, [(0.3, 0.2), (0.7, 0.2), (0.45, 0.85)])  # a 7
    projector.wait_for_selector("[data-testid='stMetricValue']")
    wait_idle(projector)
    projector.get_by_role("button", name="▶ Take one step").click()
    projector.wait_for_selector(".st-key-learn_terms")
    wait_idle(projector)
    assert projector.locator(PLOTS).count() >= 3
    small = small_texts(projector)
    assert small == [], sorted(set(map(tuple, small)))[:60]
    projector.screenshot(path=str(artifacts / "presenter_learn.png"))


@pytest.mark.browser
def test_the_trainer_in_presenter_mode(projector, app_url, artifacts):
    """A short run's result (curves, confusion matrix, misclassified digits): every figure text >= 16 px."""
    open_page(projector, app_url, "trainer?cap=30&present=1")
    projector.get_by_role("button", name="Start training").click()
    projector.get_by_role("button", name="Save checkpoint").wait_for(timeout=180_000)
    wait_idle(projector)
    assert projector.locator(PLOTS).count() >= 2  # the confusion matrix and the misclassified digits
    small = small_texts(projector)
    assert small == [], sorted(set(map(tuple, small)))[:60]
    projector.screenshot(path=str(artifacts / "presenter_trainer.png"))
