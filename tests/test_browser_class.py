"""The class in the loop, in real Chromium: the teacher's Class page shows a QR code that decodes (zbarimg) to
this server's link; a phone (390x844, touch) opens that link, draws a '1' with a finger (CDP touch events) and
the teacher's wall counts it; a click on it opens it on the teacher's Draw page. A tablet (768x1024) draws too,
with the heavy parts folded. The server listens on every interface, as a classroom server does: the teacher's
tab comes over loopback (the teacher), the phone over the LAN address (a student)."""
from __future__ import annotations

import contextlib
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import serve, wait_idle
from test_browser_draw import PREDICTION, read_prediction

from cnnviz import classwall, joining, probe
from cnnviz.figures import classwall as wallfigs
from tools.wall_feed import feed

ZBARIMG = shutil.which("zbarimg")
LAN = joining.pick_address(joining.interface_addresses())
CANVAS = "canvas.upper-canvas"
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(LAN is None, reason="this machine has no LAN address for a phone to reach")]


@pytest.fixture(scope="module")
def classroom(tmp_path_factory):
    """A server on 0.0.0.0 with its own shared folder; yields (its loopback URL, its port, its wall folder)."""
    tmp = tmp_path_factory.mktemp("classroom")
    env = {"CNNVIZ_SHARED": str(tmp / "shared"), "CNNVIZ_USER_CHECKPOINTS": str(tmp / "ckpt"),
           "CNNVIZ_USER_DATA": str(tmp / "datasets")}
    with serve(tmp, env, address="0.0.0.0") as url:
        yield url, int(url.rsplit(":", 1)[1]), classwall.folder(tmp / "shared")


@pytest.fixture
def fresh_wall(classroom):
    _, _, wall = classroom
    classwall.stop(wall)
    classwall.clear(wall)
    return classroom


def _context(browser, width: int, height: int, touch: bool):
    context = browser.new_context(viewport={"width": width, "height": height}, is_mobile=touch, has_touch=touch)
    context.set_default_timeout(60_000)
    return context


@contextlib.contextmanager
def _student(browser, url: str, path: str, width: int = 390, height: int = 844):
    """A student's touch tab on `path`, reached over the LAN address (not loopback) and idle; closed after."""
    context = _context(browser, width, height, touch=True)
    try:
        page = context.new_page()
        page.goto(f"{url.replace('127.0.0.1', LAN)}/{path}")
        wait_idle(page)
        yield page
    finally:
        context.close()


def finger(page, points: list[tuple[float, float]], box: dict | None = None) -> None:
    """One stroke with a finger over the canvas (or `box`), points as fractions of it: CDP touchStart, touchMoves,
    touchEnd."""
    box = box or page.locator(CANVAS).first.bounding_box()
    cdp = page.context.new_cdp_session(page)
    xy = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in points]
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": xy[0][0], "y": xy[0][1]}]})
    for x, y in xy[1:]:
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


ONE = [(0.5, 0.15 + 0.7 * i / 20) for i in range(21)]
# How far the page is scrolled: the window, and every element that scrolls (Streamlit scrolls its main area).
SCROLLED = "() => window.scrollY + [...document.querySelectorAll('*')].reduce((s, e) => s + e.scrollTop, 0)"


def _decode_qr(page, tmp_path: Path) -> str:
    shot = tmp_path / "qr.png"
    page.locator(".st-key-class_qr img").screenshot(path=str(shot))
    decoded = subprocess.run([ZBARIMG, "--raw", "-q", str(shot)], capture_output=True, text=True, check=True)
    return decoded.stdout.strip()


def _wait_text(page, selector: str, text: str, timeout_ms: int = 15_000) -> None:
    page.wait_for_function("([s, t]) => (document.querySelector(s)?.innerText || '').includes(t)", arg=[selector, text],
                           timeout=timeout_ms)


def _narrow_layout(page) -> None:
    """Wait for the width report's rerun: the picker folded into its expander."""
    page.wait_for_selector("[data-testid='stExpander'] summary:has-text('Model, compare, input')")
    wait_idle(page)


def _phone_draws_a_one(page, height: int) -> None:
    box = page.locator(CANVAS).first.bounding_box()
    width = page.viewport_size["width"]
    assert 0 <= box["x"] and box["x"] + box["width"] <= width, f"the canvas overflows the screen: {box}"
    before = page.evaluate(SCROLLED)
    finger(page, ONE)
    assert read_prediction(page) == "1"
    assert page.evaluate(SCROLLED) == before, "drawing scrolled the page"
    answer = page.locator(PREDICTION).first.bounding_box()
    assert answer["y"] + answer["height"] <= height, f"the answer is below the first screen: {answer}"
    inside = page.locator("[data-testid='stExpander'] details:has(summary:has-text('Inside the network'))")
    assert inside.count() == 1 and inside.get_attribute("open") is None, "Inside the network is not folded"
    screen = {"x": 0, "y": 0, "width": width, "height": height}  # the same swipe beside the canvas does scroll
    finger(page, [(0.97, 0.8 - 0.5 * k / 10) for k in range(11)], screen)
    page.wait_for_function(f"y => ({SCROLLED})() > y", arg=before, timeout=10_000)


@pytest.mark.skipif(ZBARIMG is None, reason="zbarimg is not installed (apt-get install zbar-tools; .ci/run does)")
def test_a_phone_joins_by_the_qr_code_draws_with_a_finger_and_the_wall_counts_it(fresh_wall, browser, artifacts,
                                                                                 tmp_path):
    url, port, wall = fresh_wall
    teacher = _context(browser, 1280, 720, touch=False).new_page()
    phone_context = _context(browser, 390, 844, touch=True)
    try:
        teacher.goto(f"{url}/class")
        wait_idle(teacher)
        link = _decode_qr(teacher, tmp_path)
        assert link == f"http://{LAN}:{port}/draw"
        teacher.get_by_text("📺 Collect drawings").click()
        wait_idle(teacher)
        assert classwall.collecting(wall) == (True, None)
        phone = phone_context.new_page()
        phone.goto(link)  # the address the QR code gave: a student's connection, not loopback
        wait_idle(phone)
        _narrow_layout(phone)
        phone.get_by_label("Your name on the class wall (optional)").fill("<b>Ada</b>")
        phone.keyboard.press("Enter")
        wait_idle(phone)
        _phone_draws_a_one(phone, 844)
        phone.screenshot(path=str(artifacts / "class_phone.png"))
        _wait_text(teacher, "[data-testid='stMain']", "1 drawing from 1 student")
        tile = teacher.locator(".tile").first
        assert tile.inner_text().split("\n")[1:] == ["<b>Ada</b>"] and tile.inner_text().startswith("1 · ")
        assert tile.locator("b").count() == 0  # the nickname is text, not markup
        teacher.screenshot(path=str(artifacts / "class_wall_one.png"))
        tile.click()  # the projector opens it on Draw for the class
        teacher.wait_for_url("**/draw**")
        assert read_prediction(teacher) == "1"
        _wait_text(teacher, "[data-testid='stMain']", "From the class wall: <b>Ada</b>")
    finally:
        phone_context.close()
        teacher.context.close()


def test_a_tablet_draws_with_a_finger_the_answer_in_view_the_heavy_parts_folded(fresh_wall, browser, artifacts):
    url, _, _ = fresh_wall
    with _student(browser, url, "draw", 768, 1024) as page:
        _narrow_layout(page)
        _phone_draws_a_one(page, 1024)
        page.screenshot(path=str(artifacts / "class_tablet.png"))


def test_a_student_cannot_open_the_class_page(fresh_wall, browser):
    url, _, _ = fresh_wall
    with _student(browser, url, "class") as page:
        assert "only on the computer running cnnviz" in page.inner_text("[data-testid='stMain']")
        assert page.locator(".st-key-class_qr").count() == 0 and page.locator(".tile").count() == 0


def test_twenty_mnist_digits_on_the_wall_in_its_order(fresh_wall, browser, artifacts):
    url, _, wall = fresh_wall
    classwall.start(wall, None)
    drawings = feed(wall, 20, names={i: f"pupil {i}" for i in range(0, 20, 3)})
    page = _context(browser, 1280, 720, touch=False).new_page()
    try:
        page.goto(f"{url}/class")
        wait_idle(page)
        _wait_text(page, "[data-testid='stMain']", "20 drawings from 20 students")
        page.locator(".tile").nth(19).wait_for()  # (in the grid's shadow root: locators reach it, querySelector not)
        assert page.locator(".tile").count() == 20
        shown = page.locator(".tile").evaluate_all("ts => ts.map(t => t.dataset.id)")
        assert shown == [t["id"] for t in wallfigs.tiles(drawings, None)]
        counts = classwall.summary(drawings, None, probe.DIGITS).per_class
        assert " · ".join(f"{k}: {n}" for k, n in counts.items()) in page.inner_text("[data-testid='stMain']")
        page.locator(".tile").first.scroll_into_view_if_needed()
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(artifacts / "class_wall.png"))
    finally:
        page.context.close()


@pytest.mark.parametrize("width, height", [(390, 844), (768, 1024)])
def test_make_a_dataset_with_a_finger_on_a_phone_and_a_tablet(fresh_wall, browser, artifacts, width, height):
    from test_browser_dataset import SHOWS, _new_dataset

    url, _, _ = fresh_wall
    context = _context(browser, width, height, touch=True)
    try:
        page = context.new_page()
        _new_dataset(page, url.replace("127.0.0.1", LAN), f"touch {width}", "bar, ring")
        page.locator(CANVAS).first.scroll_into_view_if_needed()
        box = page.locator(CANVAS).first.bounding_box()
        assert 0 <= box["x"] and box["x"] + box["width"] <= width, f"the canvas overflows the screen: {box}"
        before = page.evaluate(SCROLLED)
        finger(page, [(0.45, 0.15 + 0.7 * k / 20) for k in range(21)])
        assert page.evaluate(SCROLLED) == before, "drawing scrolled the page"
        wait_idle(page)
        page.get_by_role("button", name="Add this drawing").first.click()
        page.wait_for_function(SHOWS, arg="Added to bar (1 example)", timeout=60_000)
        page.screenshot(path=str(artifacts / f"class_dataset_{width}.png"))
    finally:
        context.close()
