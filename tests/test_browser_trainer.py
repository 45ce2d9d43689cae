"""Browser: start a training run in Chromium, watch the live curve appear, press Stop."""
import pytest
from conftest import open_page, wait_idle

pytestmark = pytest.mark.browser


def test_start_watch_the_curve_then_stop(page, app_url, artifacts):
    open_page(page, app_url, "trainer")
    assert page.get_by_text("Train a CNN, live").first.is_visible()
    assert page.locator("[data-testid='stException']").count() == 0
    page.get_by_role("button", name="Start training").click()
    # the polling fragment draws the progress bar and the loss/accuracy curves while the thread trains
    page.wait_for_selector("[data-testid='stProgress']", timeout=60_000)
    curve = page.locator("[data-testid='stPlotlyChart']").filter(has_text="loss").first
    curve.wait_for(timeout=60_000)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.js-plotly-plot')].some(p => p.data && p.data[0].x.length >= 2)",
        timeout=60_000)
    assert "img/s" in page.locator("[data-testid='stProgress']").first.inner_text()
    # the log loss axis is labelled at plain round values like 0.5, 1, 2 (no "2, 3, 0.1, 2" jumble)
    ticks = page.evaluate("() => [...document.querySelectorAll('.js-plotly-plot')].find(p => p.data && "
                          "p.data[0].x.length >= 2).layout.yaxis.tickvals")
    assert ticks and all(len(f"{t:g}".replace(".", "").strip("0")) <= 2 for t in ticks), ticks
    page.screenshot(path=str(artifacts / "trainer_live.png"), full_page=True)
    page.get_by_role("button", name="Stop").click()
    page.get_by_text("Stopped by you").wait_for(timeout=30_000)
    wait_idle(page)
    assert page.get_by_role("button", name="Start training").is_enabled()
    assert page.locator("[data-testid='stException']").count() == 0
    page.screenshot(path=str(artifacts / "trainer_stopped.png"), full_page=True)
