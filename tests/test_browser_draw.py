"""The draw page in real Chromium: draw a '1' and a '0' with the mouse and read the predictions."""
from __future__ import annotations

import math
import re

import pytest
from conftest import open_page, toolbar_hits, wait_idle
from conftest import stroke as _stroke

CANVAS = "canvas.upper-canvas"
PREDICTION = "[data-testid='stMetricValue']"


def draw_one(page) -> None:
    """A vertical stroke down the middle."""
    _stroke(page, [(0.5, 0.15 + 0.7 * i / 20) for i in range(21)])


def draw_zero(page) -> None:
    """An upright ellipse, closed."""
    _stroke(page, [(0.5 + 0.22 * math.sin(2 * math.pi * i / 40), 0.5 - 0.33 * math.cos(2 * math.pi * i / 40))
                   for i in range(43)])


def read_prediction(page) -> str:
    """Wait for the answer to appear after drawing and return the predicted digit's text."""
    page.wait_for_selector(PREDICTION, timeout=60_000)
    wait_idle(page)
    return page.locator(PREDICTION).first.inner_text().strip()


@pytest.mark.browser
@pytest.mark.parametrize("digit, draw", [("1", draw_one), ("0", draw_zero)])
def test_draw_digit_in_chromium(app_url, page, artifacts, digit, draw):
    open_page(page, app_url, "draw")
    page.wait_for_selector(CANVAS)
    assert page.locator(PREDICTION).count() == 0  # empty canvas: a hint, no prediction
    assert "Draw a digit" in page.inner_text("[data-testid='stAlert']")
    draw(page)
    predicted = read_prediction(page)
    page.screenshot(path=str(artifacts / f"draw_{digit}.png"), full_page=False)
    assert predicted == digit
    assert page.locator("text=Inside the network").count() >= 1
    headings = page.locator(".st-key-overview_0_tutorial_a").inner_text()
    assert "conv1" in headings and "16×28×28" in headings and "probabilities" in headings
    if digit == "1":  # the toolbar's bin clears the canvas: back to the hint
        page.locator("button[aria-label='Reset canvas & history']").click()
        page.wait_for_selector(PREDICTION, state="detached")
        wait_idle(page)
        assert "draw a digit" in page.inner_text("[data-testid='stAlert']")


def draw_seven(page) -> None:
    _stroke(page, [(0.3, 0.2), (0.7, 0.2), (0.45, 0.85)])


def seven(page, app_url: str, path: str = "draw") -> str:
    """Open `path`, draw a 7 and return the answer once it is on screen."""
    open_page(page, app_url, path)
    draw_seven(page)
    return read_prediction(page)


def _click_point(page, chart: str, trace: int, point: int) -> None:
    """Click the (invisible) selectable marker `point` of scatter trace `trace` in the chart with key `chart`."""
    marker = page.locator(f".st-key-{chart} g.trace.scatter").nth(trace).locator("path.point").nth(point)
    page.locator(f".st-key-{chart}").scroll_into_view_if_needed()
    box = marker.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)  # plotly picks on hover first
    page.wait_for_timeout(200)
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    wait_idle(page)


# The centre of tile `i` of a layer's picture in Draw's overview, from the picture's own geometry (its data-*).
_TILE_CENTRE = """([chart, layer, i]) => {
    const img = document.querySelector(`.st-key-${chart} img.ov-pic[data-layer='${layer}']`);
    img.scrollIntoView({block: 'center'});
    const r = img.getBoundingClientRect(), d = img.dataset, cols = +d.cols;
    const px = r.width / +d.width, py = r.height / +d.height;
    return [r.left + ((i % cols) * (+d.tw + +d.gap) + +d.tw / 2) * px,
            r.top + (Math.floor(i / cols) * (+d.th + +d.gap) + +d.th / 2) * py];
}"""


def _click_tile(page, chart: str, layer: str, i: int) -> None:
    """Click tile `i` (map or unit) of `layer`'s column in the overview with key `chart`, and wait for the rerun."""
    x, y = page.evaluate(_TILE_CENTRE, [chart, layer, i])
    page.mouse.click(x, y)
    wait_idle(page)


def _fits(page, selector: str, width: int = 1280, height: int = 720) -> None:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    assert box["x"] >= 0 and box["y"] >= 0, (selector, box)
    assert box["x"] + box["width"] <= width and box["y"] + box["height"] <= height, (selector, box)


@pytest.mark.browser
def test_first_screen_then_click_a_conv2_tile_and_a_pixel(app_url, projector, artifacts):
    """At 1280x720 the canvas, the answer, its confidence and the bars are in the first screen; a click on a
    conv2 tile and on a pixel of it shows the arithmetic, ending on the very value the map holds."""
    page = projector
    assert seven(page, app_url) == "7"
    for selector in (CANVAS, PREDICTION, "text=% sure", ".st-key-probs_0"):
        _fits(page, selector)
    page.screenshot(path=str(artifacts / "draw_1280x720.png"))
    _click_tile(page, "overview_0_tutorial_a", "conv2", 5)
    page.locator(".st-key-overview_0_tutorial_a").evaluate("e => e.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(300)
    page.screenshot(path=str(artifacts / "inside.jpg"), type="jpeg", quality=80)  # docs/inside.jpg
    assert page.locator(".st-key-pick_0_tutorial_a_conv2_5").count() == 1
    values = page.evaluate("() => Array.from(document.querySelector("
                           "'.st-key-pick_0_tutorial_a_conv2_5 .js-plotly-plot').data[1].customdata)")
    assert len(values) == 14 * 14
    brightest = max(range(len(values)), key=values.__getitem__)  # a unit the ReLU lets through
    _click_point(page, "pick_0_tutorial_a_conv2_5", 0, brightest)
    panel = page.locator(".st-key-arith_0").inner_text()
    assert f"relu2, map 5, row {brightest // 14}, col {brightest % 14}" in panel, panel
    held = re.search(r"holds\s+(-?\d+\.\d+)", panel).group(1)
    assert float(held) == pytest.approx(values[brightest], abs=1e-4) and float(held) > 0
    final = panel.strip().splitlines()[-1].split("=")[-1].strip()
    assert "bias" in panel and "relu(" in panel and final == held, panel
    page.locator(".st-key-rf_conv2").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "draw_explain.png"))


@pytest.mark.browser
def test_comparing_two_models_fits_the_first_screen(app_url, projector):
    page = projector
    seven(page, app_url, "draw?compare=1&model2=keras_small")
    page.wait_for_selector(".st-key-probs_1")
    assert [m.inner_text().strip() for m in page.locator(PREDICTION).all()] == ["7", "7"]
    for selector in (CANVAS, f"{PREDICTION} >> nth=0", f"{PREDICTION} >> nth=1", ".st-key-probs_0",
                     ".st-key-probs_1"):
        _fits(page, selector)


@pytest.mark.browser
def test_the_canvas_toolbar_covers_no_other_widget(app_url, projector, artifacts):
    """The toolbar rising over the canvas's top edge sat on the Model dropdown (1280x720, /draw)."""
    page = projector
    open_page(page, app_url, "draw")
    for drawn in (False, True):
        if drawn:
            draw_seven(page)
            read_prediction(page)
        found = toolbar_hits(page)
        page.screenshot(path=str(artifacts / f"draw_toolbar_{'drawn' if drawn else 'empty'}.png"))
        assert found["opacity"] == "1" and found["box"][3] > 20, found  # shown, where the hover put it
        assert found["hits"] == [], found


@pytest.mark.browser
def test_on_a_phone_the_folded_overview_is_not_drawn_and_opens_to_clickable_bars(app_url, phone):
    """390x844: "Inside the network" folded costs the stroke nothing (not in the page at all); opened, a click on
    the 7's bar explains its logit and a tile of the second row of conv1 opens that map."""
    page = phone
    assert seven(page, app_url) == "7"
    assert page.locator(".st-key-draw_fold").count() == 1
    assert page.locator(".st-key-overview_0_tutorial_a").count() == 0  # folded: not even hidden
    page.locator(".st-key-draw_fold summary").click()
    wait_idle(page)
    bar = page.locator(".st-key-overview_0_tutorial_a .ov-bar").nth(7)
    bar.scroll_into_view_if_needed()
    bar.click()
    wait_idle(page)
    assert "fc1, unit 7" in page.locator(".st-key-arith_0").inner_text()
    _click_tile(page, "overview_0_tutorial_a", "conv1", 4)  # 3 tiles a row: the second row's middle
    assert page.locator(".st-key-pick_0_tutorial_a_conv1_4").count() == 1
