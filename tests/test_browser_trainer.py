"""Browser: start a training run in Chromium, watch the live curve appear, press Stop."""
import pytest
from conftest import open_page, wait_idle

pytestmark = pytest.mark.browser


CURVES = ("() => { const img = document.querySelector('img.cnnviz-curves'); return img ? new DOMParser()"
          ".parseFromString(atob(img.src.split(',')[1]), 'image/svg+xml') : null; }")  # the SVG behind the picture


def test_start_watch_the_curve_then_stop(page, app_url, artifacts):
    open_page(page, app_url, "trainer")
    assert page.get_by_text("Train a CNN, live").first.is_visible()
    assert page.locator("[data-testid='stException']").count() == 0
    page.get_by_role("button", name="Start training").click()
    # the polling fragment draws the progress bar and the loss/accuracy curves while the thread trains
    page.wait_for_selector("[data-testid='stProgress']", timeout=60_000)
    # while it runs, the curves are an SVG picture (cheap to redraw every second): a line of >= 2 points in each
    # panel, read from the picture the page shows
    page.wait_for_function(f"() => {{ const d = ({CURVES})(); return d && "
                           "[...d.querySelectorAll('path.cnnviz-train')]"
                           ".filter(p => (p.getAttribute('d') || '').includes('L')).length == 2; }", timeout=60_000)
    assert page.locator(".cnnviz-title").filter(has_text="loss:").first.is_visible()
    assert page.locator("img.cnnviz-curves").first.bounding_box()["height"] >= 200  # the picture is drawn
    assert "img/s" in page.locator("[data-testid='stProgress']").first.inner_text()
    # the log loss axis is labelled at plain round values like 0.5, 1, 2 (no "2, 3, 0.1, 2" jumble)
    ticks, acc = page.evaluate(f"() => {{ const panels = ({CURVES})().querySelectorAll(':root > svg'); return "
                               "[...panels].map(p => [...p.querySelectorAll('.cnnviz-ytick')].map(t => t.textContent)); }")  # noqa: E501 - JavaScript in a string
    assert len(ticks) >= 2 and all(len(t.replace(".", "").strip("0")) <= 2 for t in ticks), ticks
    assert acc and all(t.endswith("%") for t in acc), acc
    page.screenshot(path=str(artifacts / "trainer_live.png"), full_page=True)
    page.get_by_role("button", name="Stop").click()
    page.get_by_text("Stopped by you").wait_for(timeout=30_000)
    wait_idle(page)
    assert page.get_by_role("button", name="Start training").is_enabled()
    # once it has ended: the same curves in plotly, with hover
    assert page.locator("[data-testid='stPlotlyChart']").filter(has_text="loss").count() == 1
    assert page.locator("[data-testid='stException']").count() == 0
    page.screenshot(path=str(artifacts / "trainer_stopped.png"), full_page=True)


GRID = ("() => { const cells = [...document.querySelectorAll('.cnnviz-grid .cnnviz-cell span')]; "
        "return cells.length ? cells.map(c => c.innerText + '|' + c.className).join(';') : null; }")


BOXES = ("() => [...document.querySelectorAll(\"[data-testid='stProgress'], img.cnnviz-curves, .cnnviz-legend, "
         ".cnnviz-grid, img[alt='first-layer filters'], button\")].filter(e => e.tagName !== 'BUTTON' || e.innerText.includes('Stop')).map(e => { "  # noqa: E501 - JavaScript in a string
         "const r = e.getBoundingClientRect(); return [e.dataset.testid || e.getAttribute('class') || e.alt || e.innerText, r.top, r.bottom]; })")  # noqa: E501 - JavaScript in a string


def test_the_running_trainer_fits_1280x720_and_the_digit_grid_changes(browser, app_url, artifacts):
    """Once a run starts, bar, Stop, curves, the digit grid and the filters are on the
    first screen of a 1280x720 projector, the settings fold into one line, and the 16 guesses change as it learns."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        open_page(page, app_url, "trainer")
        page.get_by_role("button", name="Start training").click()
        page.wait_for_function(GRID)  # the first live frame
        first = page.evaluate(GRID)
        assert first.count(";") == 15 and ("cnnviz-right" in first or "cnnviz-wrong" in first)  # 16 captions
        page.wait_for_function(f"() => ({GRID})() !== {first!r}", timeout=120_000)  # it learns: guesses change
        page.wait_for_function("() => document.querySelectorAll('img.cnnviz-curves').length >= 1 && "
                               "document.querySelector(\"img[alt='first-layer filters']\")")
        assert page.get_by_text("settings locked while it runs").is_visible()
        assert not page.get_by_label("Network", exact=True).is_visible()  # folded away
        boxes = page.evaluate(BOXES)  # read in one go: the polling fragment redraws while we look
        assert len(boxes) >= 6, boxes  # progress, Stop, curves and their legend, digit grid, filters
        for name, top, bottom in boxes:
            assert 0 <= top and bottom <= 720, (name, top, bottom)
        page.screenshot(path=str(artifacts / "trainer_live_1280x720.png"))
        page.get_by_role("button", name="Stop").click()
        page.get_by_text("Stopped by you").wait_for()
        wait_idle(page)
        assert page.get_by_text("⚙️ Settings").is_visible()
        page.get_by_text("⚙️ Settings").click()  # folded under the stopped run's result until asked for
        assert page.get_by_label("Network", exact=True).first.is_visible()
        assert page.locator("[data-testid='stException']").count() == 0
    finally:
        context.close()


TO_TOP = "() => { window.scrollTo(0, 0); document.querySelectorAll('*').forEach(e => { if (e.scrollTop) e.scrollTop = 0; }); }"  # noqa: E501 - JavaScript in a string


def test_after_a_run_the_result_and_save_are_on_the_first_screen(browser, app_url, artifacts):
    """When a run ends, its test accuracy and Save are on the first screen of a 1280x720
    projector (they were at y~2,800 of a 2,900 px page), the settings folded until asked for."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        open_page(page, app_url, "trainer?cap=30")  # a link: stop after 30 batches
        page.get_by_role("button", name="Start training").click()
        save = page.get_by_role("button", name="Save checkpoint")
        save.wait_for(timeout=180_000)
        wait_idle(page)
        page.evaluate(TO_TOP)
        page.wait_for_timeout(300)
        box, metric = save.bounding_box(), page.locator("[data-testid='stMetric']").first.bounding_box()
        assert 0 <= metric["y"] and metric["y"] + metric["height"] <= 720, metric  # "Test accuracy"
        assert 0 <= box["y"] < 720 and box["y"] + box["height"] <= 720, box
        assert not page.get_by_label("Network", exact=True).first.is_visible()  # settings folded
        page.screenshot(path=str(artifacts / "trainer_result_1280x720.png"))
        save.click()
        page.get_by_text("it is now the active model").wait_for()
        assert page.locator("[data-testid='stException']").count() == 0
    finally:
        context.close()


def test_one_run_at_a_time_and_a_closed_tab_ends_its_run(browser, app_url, artifacts):
    """Tab A trains; tab B queues ("2nd in line"); closing A ends A's run, and B's starts by itself."""
    a_ctx, b_ctx = (browser.new_context(viewport={"width": 1280, "height": 900}) for _ in range(2))
    a, b = a_ctx.new_page(), b_ctx.new_page()
    try:
        for pg in (a, b):
            pg.set_default_timeout(60_000)
            open_page(pg, app_url, "trainer")
        a.get_by_role("button", name="Start training").click()
        a.wait_for_selector("[data-testid='stProgress']")
        b.get_by_role("button", name="Start training").click()
        b.get_by_text("you are 2nd in line").wait_for()
        assert b.get_by_role("button", name="Start training").is_disabled(), "no second start while queued"
        b.screenshot(path=str(artifacts / "trainer_queued.png"))
        a_ctx.close()  # the tab closes mid-run: its session ends, so must its run
        b.wait_for_selector("[data-testid='stProgress']", timeout=60_000)  # B's turn came without a click
        assert b.get_by_text("in line").count() == 0
        b.get_by_role("button", name="Stop").click()
        b.get_by_text("Stopped by you").wait_for(timeout=30_000)
        assert b.locator("[data-testid='stException']").count() == 0
    finally:
        for ctx in (a_ctx, b_ctx):
            try:
                ctx.close()
            except Exception:
                pass
