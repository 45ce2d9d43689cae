"""The draw page in real Chromium: draw a '1' and a '0' with the mouse and read the predictions."""
from __future__ import annotations

import math

import pytest
from conftest import open_page, wait_idle

CANVAS = "canvas.upper-canvas"
PREDICTION = "[data-testid='stMetricValue']"


def _stroke(page, points: list[tuple[float, float]]) -> None:
    """Press, drag through `points` (fractions of the canvas), release: one brush stroke."""
    box = page.locator(CANVAS).first.bounding_box()
    xy = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in points]
    page.mouse.move(*xy[0])
    page.mouse.down()
    for x, y in xy[1:]:
        page.mouse.move(x, y, steps=3)
    page.mouse.up()


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
    assert page.locator("text=conv1 → 16×28×28").count() >= 1
    if digit == "1":  # the toolbar's bin clears the canvas: back to the hint
        page.locator("button[aria-label='Reset canvas & history']").click()
        page.wait_for_selector(PREDICTION, state="detached")
        wait_idle(page)
        assert "draw a digit" in page.inner_text("[data-testid='stAlert']")
