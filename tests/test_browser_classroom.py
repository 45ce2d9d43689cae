"""Browser, 1280x720 (a projector): the playground fits one screen, presenter mode's real font sizes, state kept
across pages, a copied link reproduces the view in a fresh browser, the shipped lesson walks to its end."""
import pytest
from conftest import open_page, wait_idle
from playwright.sync_api import expect

pytestmark = pytest.mark.browser
W, H = 1280, 720
PLOTS = ".js-plotly-plot"


def _inside(box: dict | None) -> bool:
    return box is not None and box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= W + 1 \
        and box["y"] + box["height"] <= H + 1


def _stride(pg) -> str:
    return pg.locator("input[type=range][aria-label='Stride S']").input_value()


def _figures(pg) -> list:
    """The data of every plotly figure on the page, as the browser holds it."""
    return pg.evaluate(f"Array.from(document.querySelectorAll('{PLOTS}')).map(e => JSON.stringify(e.data))")


def test_playground_fits_1280x720_and_presenter_fonts_are_projector_sized(projector, app_url, artifacts):
    open_page(projector, app_url, "playground?src=Pattern&kernel=sobel_x")
    plots = projector.locator(PLOTS)
    expect(plots).to_have_count(5)  # input, kernel, output; step-through: window, products
    for i in range(5):
        assert _inside(plots.nth(i).bounding_box()), (i, plots.nth(i).bounding_box())
    sums = projector.locator("p", has_text="Sum of the products")
    assert _inside(sums.bounding_box()) and _inside(projector.get_by_text("Play: slide the window").bounding_box())
    normal = projector.evaluate("getComputedStyle(document.querySelector('[data-testid=stCaptionContainer]')).fontSize")
    assert float(normal[:-2]) < 20  # normal mode stays dense

    open_page(projector, app_url, "playground?src=Pattern&kernel=sobel_x&present=1")
    sizes = projector.evaluate("""() => {
        const px = s => parseFloat(s);
        const body = ['[data-testid=stCaptionContainer]', '[data-testid=stMarkdownContainer] p', 'label p']
            .map(q => px(getComputedStyle(document.querySelector(q)).fontSize));
        const ticks = Array.from(document.querySelectorAll(
            '.js-plotly-plot g.xtick text, .js-plotly-plot g.ytick text'))
            .map(e => px(getComputedStyle(e).fontSize));
        const cells = Array.from(document.querySelectorAll('.js-plotly-plot g.heatmap-label text'))
            .map(e => px(getComputedStyle(e).fontSize));
        const titles = Array.from(document.querySelectorAll('.js-plotly-plot text.gtitle'))
            .map(e => px(getComputedStyle(e).fontSize));
        return {body, ticks, cells, titles};
    }""")
    assert min(sizes["body"]) >= 20, sizes["body"]
    assert sizes["ticks"] and min(sizes["ticks"]) >= 16, sizes["ticks"]
    assert sizes["cells"] and min(sizes["cells"]) >= 14, sizes["cells"]
    assert sizes["titles"] and min(sizes["titles"]) >= 16, sizes["titles"]
    assert projector.locator("h1").first.bounding_box()["y"] < 40  # no empty band above the title
    assert not projector.get_by_text("Dilation D").is_visible()  # advanced controls hidden
    assert projector.locator("[data-testid='stException']").count() == 0
    projector.screenshot(path=str(artifacts / "playground_presenter_1280x720.png"))


def test_state_survives_navigation_and_a_copied_link_opens_the_same_view(projector, browser, app_url):
    open_page(projector, app_url, "playground")
    projector.locator("[data-testid='stSidebar']").get_by_text("Pattern", exact=True).click()
    wait_idle(projector)
    projector.get_by_role("combobox", name="Kernel").click()
    projector.keyboard.type("box blur 3x3")
    projector.keyboard.press("Enter")
    wait_idle(projector)
    projector.locator("input[type=range][aria-label='Stride S']").focus()
    projector.keyboard.press("ArrowRight")
    wait_idle(projector)
    assert _stride(projector) == "2"
    before = _figures(projector)
    line = projector.locator("p", has_text="Sum of the products").inner_text()

    projector.get_by_role("link", name="Dimension calculator").click()  # away...
    wait_idle(projector)
    projector.get_by_role("link", name="Convolution playground").click()  # ...and back
    wait_idle(projector)
    assert _stride(projector) == "2" and "box_blur_3x3" in projector.url
    assert projector.locator("p", has_text="Sum of the products").inner_text() == line
    assert _figures(projector) == before

    projector.get_by_role("button", name="Copy link").click()
    link = projector.locator("[data-testid='stPopoverBody'] code").inner_text().strip()
    assert "kernel=box_blur_3x3" in link and "stride=2" in link
    fresh = browser.new_context(viewport={"width": W, "height": H})  # another student's browser
    try:
        other = fresh.new_page()
        other.goto(link)
        wait_idle(other)
        assert _stride(other) == "2"
        assert other.locator("p", has_text="Sum of the products").inner_text() == line
        assert _figures(other) == before  # the same numbers in every figure
    finally:
        fresh.close()


def test_the_drawing_survives_a_visit_to_another_page(projector, app_url):
    open_page(projector, app_url, "draw")
    box = projector.locator("canvas.upper-canvas").bounding_box()
    projector.mouse.move(box["x"] + 140, box["y"] + 50)
    projector.mouse.down()
    projector.mouse.move(box["x"] + 140, box["y"] + 230, steps=12)
    projector.mouse.up()
    wait_idle(projector)
    answer = projector.locator("[data-testid='stMetricValue']").first.inner_text()
    projector.get_by_role("link", name="Convolution playground").click()
    wait_idle(projector)
    projector.get_by_role("link", name="Draw a digit").click()
    wait_idle(projector)
    expect(projector.locator("[data-testid='stMetricValue']").first).to_have_text(answer)
    # drawn again on the canvas, not only remembered
    ink = projector.locator("canvas.dc-canvas.lower-canvas").evaluate("""c => {
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 0; i < d.length; i += 4) n += d[i] > 128; return n; }""")
    assert ink > 500, ink


def test_walk_the_shipped_lesson_to_the_end(projector, app_url, artifacts):
    open_page(projector, app_url, "?lesson=cnn_tutorial&step=1")
    side = projector.locator("[data-testid='stMain']")  # the step stands at the top of the page
    pages = ["", "", "playground", "playground", "playground", "trainer", "trainer", "trainer", "draw"]
    for n, path in enumerate(pages, 1):
        expect(side.get_by_text(f"Step {n} of {len(pages)}")).to_be_visible()
        assert projector.url.split("?")[0].rstrip("/").endswith(f"/{path}".rstrip("/")) or not path
        side.get_by_role("button", name="Reveal the answer").click()
        wait_idle(projector)
        expect(side.locator(".st-key-lesson_bar [data-testid='stAlertContentSuccess']")).to_be_visible()
        assert projector.locator("[data-testid='stException']").count() == 0, n
        if n < len(pages):
            side.get_by_role("button", name="Next ▶").click()
            wait_idle(projector)
    assert side.get_by_role("button", name="Next ▶").is_disabled()
    assert "lesson=cnn_tutorial" in projector.url and f"step={len(pages)}" in projector.url
    projector.screenshot(path=str(artifacts / "lesson_last_step.png"))


def _copied_link(pg) -> str:
    pg.get_by_role("button", name="Copy link").click()
    text = pg.locator("[data-testid='stPopoverBody'] code").inner_text().strip()
    pg.keyboard.press("Escape")
    return text


def test_copy_link_follows_a_value_moved_inside_a_fragment(projector, app_url):
    """Moving the stepped pixel reruns only the step-through (a fragment): the popover's link still follows it
    (it showed the value the page started with: r=2 while the page showed row 0)."""
    open_page(projector, app_url, "playground?src=Pattern&r=2&col=1")
    assert "r=2" in _copied_link(projector)
    row = projector.locator("[data-testid='stSlider']", has_text="Output row").get_by_role("slider")
    row.focus()
    projector.keyboard.press("Home")  # row 0
    wait_idle(projector)
    expect(projector.locator("p", has_text="Sum of the products")).to_contain_text("output[0, 1]")
    link = _copied_link(projector)
    assert "r=0" in link and "col=1" in link, link
    assert "r=0" in projector.url
    assert projector.locator("[data-testid='stException']").count() == 0
