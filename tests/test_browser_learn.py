"""How it learns in real Chromium: draw a digit, take one step, click a conv2 weight, and read a gradient whose
shown terms add up to it."""
from __future__ import annotations

import re

import pytest
from conftest import CANVAS, SHOWN_NUMBER, open_page, stroke, wait_idle, written_like

N = SHOWN_NUMBER


def _click_cell(page, n: int) -> None:
    """Click the (invisible) clickable marker of cell n of the filter's gradient."""
    marker = page.locator(".st-key-learn_filter g.trace.scatter path.point").nth(n)
    marker.scroll_into_view_if_needed()
    box = marker.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)  # plotly picks the point on hover first
    page.wait_for_timeout(200)
    page.mouse.click(x, y)
    wait_idle(page)


@pytest.mark.browser
def test_draw_step_click_a_conv2_weight_and_its_terms_add_up(app_url, projector, artifacts):
    page = projector
    page.set_default_timeout(60_000)
    open_page(page, app_url, "learn")
    page.wait_for_selector(CANVAS)
    stroke(page, [(0.3, 0.2), (0.7, 0.2), (0.45, 0.85)])     # a 7
    page.wait_for_selector("[data-testid='stMetricValue']")
    wait_idle(page)
    assert "loss = −log p(0)" in page.inner_text("[data-testid='stCode']")  # a drawing's label starts at 0
    page.get_by_role("button", name="▶ Take one step").click()
    page.wait_for_selector(".st-key-learn_terms")
    wait_idle(page)
    page.screenshot(path=str(artifacts / "learn_step.png"))
    assert page.get_by_role("button", name="▶ Take one step").count() == 0
    assert "Probabilities, before → after" in page.inner_text(".st-key-learn_probs")

    before = page.inner_text(".st-key-learn_terms")
    channels = 16                                           # tutorial_a's conv2 reads pool1's 16 maps
    n = 5 * 25 + 2 * 5 + 3                                  # channel 5, kernel row 2, col 3
    _click_cell(page, n)
    text = page.inner_text(".st-key-learn_terms")
    assert text != before
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    head = re.match(r"∂L/∂conv2\.weight\[(\d+), (\d+), (\d+), (\d+)\] = Σ over the 196 positions", lines[0])
    assert head, lines[0]
    assert tuple(int(v) for v in head.groups()[1:]) == (5, 2, 3) and channels == 16
    total = re.fullmatch(rf"g = (.+) ([=≈]) {N}(?: \(≈: terms rounded to 4 significant digits\))?", lines[-1])
    assert total, lines[-1]
    terms = [float(re.fullmatch(N, t).group(1)) for t in total.group(1).split(" + ")]
    assert len(terms) >= 2, lines
    shown_sum = sum(terms)
    assert (total.group(2) == "=") == written_like(shown_sum, total.group(3)), lines[-1]
    assert abs(shown_sum - float(total.group(3))) <= abs(float(total.group(3))) * 0.01 + 1e-12
    for line in lines[1:-1]:                                 # each term: input × gradient = product
        if m := re.fullmatch(rf"at \(\d+, \d+\), pool1\[5, \d+, \d+\]: {N} × {N} ([=≈]) {N}.*", line):
            assert (m.group(3) == "=") == written_like(float(m.group(1)) * float(m.group(2)), m.group(4))
    update = page.inner_text(".st-key-learn_update")
    assert re.search(rf"w − lr × g = {N} − 0\.01 × {N}", update), update
    page.locator(".st-key-learn_terms").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "learn_terms.png"))
