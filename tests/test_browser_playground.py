"""Browser: the playground in Chromium; changing the kernel changes the output, Play slides the window;
a corrupt upload is a message."""
import io
import re

import numpy as np
import pytest
from conftest import open_page, wait_idle
from PIL import Image
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def _sidebar(page):
    return page.locator("[data-testid='stSidebar']")


def _png(width: int, height: int) -> bytes:
    rgb = np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()


def _output_value(page) -> str:
    line = page.locator("p", has_text="Sum of the products").inner_text()
    return re.search(r"output\[\d+, \d+\] = (\S+)", line).group(1)


def test_changing_the_kernel_changes_the_output(page, app_url, artifacts):
    open_page(page, app_url, "playground")
    assert page.get_by_text("Convolution & pooling playground").first.is_visible()
    _sidebar(page).get_by_text("Pattern", exact=True).click()  # 7x7 vertical step edge: exact numbers
    wait_idle(page)
    output = page.locator("[data-testid='stPlotlyChart']").nth(2)  # input, kernel, output
    before_value, before_shot = _output_value(page), output.screenshot()
    kernel = page.get_by_role("combobox", name="Kernel")
    kernel.scroll_into_view_if_needed()  # at the sidebar's foot: a click half below the window opens no list
    kernel.click()
    page.get_by_role("option", name="blur: box blur 3x3").click()
    wait_idle(page)
    after_value, after_shot = _output_value(page), output.screenshot()
    assert before_value != after_value, before_value
    assert before_shot != after_shot
    # autoplay: the step-through fragment moves the window by itself
    sum_line = page.locator("p", has_text="Sum of the products")
    page.get_by_text("Play: slide the window").click()
    expect(sum_line).not_to_have_text(sum_line.inner_text(), timeout=15_000)
    page.get_by_text("Play: slide the window").click()
    wait_idle(page)
    assert page.locator("[data-testid='stException']").count() == 0
    page.get_by_role("tab", name="Step through one pixel").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "playground_box_blur.png"), full_page=True)


def test_a_corrupt_upload_is_a_plain_message(page, app_url, artifacts):
    open_page(page, app_url, "playground")
    _sidebar(page).get_by_text("Upload", exact=True).click()
    wait_idle(page)
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(
        files=[{"name": "broken.png", "mimeType": "image/png", "buffer": b"this is not a picture"}])
    wait_idle(page)
    alert = page.locator("[data-testid='stAlert']").filter(has_text="not a picture")
    assert alert.count() >= 1
    assert page.locator("[data-testid='stException']").count() == 0
    page.screenshot(path=str(artifacts / "playground_corrupt_upload.png"))
    # a real, big photo: downscaled with a notice, then convolved
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(
        files=[{"name": "big.png", "mimeType": "image/png", "buffer": _png(1200, 800)}])
    wait_idle(page)
    expect(_sidebar(page).get_by_text("Downscaled from 1200x800 to 512x341")).to_be_visible()
    page.get_by_role("tab", name="Output sizes").click()  # the worked sizes have their own tab
    wait_idle(page)
    expect(page.get_by_text("Convolution output: 339 x 510")).to_be_visible()  # 341x512 after downscaling
    assert page.locator("[data-testid='stAlert']").filter(has_text="not a picture").count() == 0


CHART_FIT = """() => Array.from(document.querySelectorAll("[data-testid='stPlotlyChart']")).map(el => {
    const plot = el.querySelector('.js-plotly-plot');
    return {title: plot._fullLayout.title.text, drawn: plot._fullLayout.width,
            shown: el.getBoundingClientRect().width, x: plot._fullLayout.xaxis.range};
})"""


@pytest.mark.parametrize("query", ["pool=max", ""])
def test_every_chart_of_the_top_row_fits_its_place_at_1280x720(browser, app_url, artifacts, query):
    """Streamlit draws a plotly chart at least 150 px wide and cuts off what its place cannot hold:
    with pooling on, the kernel's column was 121 px and its right column of weights was lost."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        open_page(page, app_url, f"playground?{query}")
        charts = page.evaluate(CHART_FIT)
        page.screenshot(path=str(artifacts / f"playground_top_row_{query or 'plain'}.png"))
        kernel = next(c for c in charts if "Kernel 3x3" in c["title"])
        assert kernel["x"][0] <= -0.5 and kernel["x"][1] >= 2.5, kernel  # all three columns in the axis range
        for chart in charts:
            assert chart["drawn"] <= chart["shown"] + 1, chart  # the whole figure on screen, nothing cut off
    finally:
        context.close()
