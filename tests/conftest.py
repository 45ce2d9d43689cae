"""Shared fixtures: real MNIST location, a live `streamlit run app.py` server, a Chromium page."""
from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path

import pytest
from hypothesis import settings

from tools.browser import (  # noqa: F401  (stroke, CANVAS: the browser tests take them from here)
    CANVAS,
    CHROMIUM,
    CHROMIUM_ARGS,
    IDLE,
    app_command,
    free_port,
    stop,
    stroke,
    wait_healthy,
)

# Shared, noisy 2-core machines: no per-example deadline (a loaded CPU is not a bug), and derandomized so
# CI runs the same examples every time (a property failure reproduces; no flaky red build).
settings.register_profile("cnnviz", deadline=None, derandomize=True)
settings.load_profile("cnnviz")

try:  # Playwright's expect() waits 5 s by default: a page switch on a loaded 2-core CI machine can take longer.
    from playwright.sync_api import expect as _expect  # a bound on waiting, never a measurement

    _expect.set_options(timeout=30_000)
except ImportError:  # the quick loop runs without Playwright too
    pass

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"

# Tests read the real MNIST from ../shared/datasets unless CNNVIZ_DATA says otherwise.
if "CNNVIZ_DATA" not in os.environ and (ROOT.parent / "shared" / "datasets").is_dir():
    os.environ["CNNVIZ_DATA"] = str(ROOT.parent / "shared" / "datasets")


@pytest.fixture(scope="session", autouse=True)
def _shared_for_the_session(tmp_path_factory):
    """A $CNNVIZ_SHARED of this test session (servers it starts inherit it): never a folder a real server or
    another test session on this machine uses (one training slot, one budget of wrong class codes)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CNNVIZ_SHARED", str(tmp_path_factory.mktemp("shared")))
        yield


@pytest.fixture(autouse=True)
def _shared_for_the_test(tmp_path_factory, monkeypatch):
    """Each test its own $CNNVIZ_SHARED: a class-wide limit (cnnviz.shared) never carries from one test to the next."""
    monkeypatch.setenv("CNNVIZ_SHARED", str(tmp_path_factory.mktemp("shared")))


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The folder holding MNIST/raw (torchvision's layout)."""
    root = Path(os.environ.get("CNNVIZ_DATA", ROOT / "data"))
    if not (root / "MNIST" / "raw").is_dir():
        pytest.fail(f"real MNIST not found under {root}/MNIST/raw; set CNNVIZ_DATA")
    return root


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Folder for screenshots and other test output (git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def user_data(tmp_path_factory) -> Path:
    """The folder where the browser tests' server keeps the datasets its visitors make."""
    return tmp_path_factory.mktemp("user_data")


@contextlib.contextmanager
def serve(logdir: Path, env: dict[str, str], address: str = "127.0.0.1"):
    """`streamlit run app.py` on a free port (listening on `address`) with `env` added to this environment; yields
    its URL on localhost."""
    port = free_port()
    log = (logdir / "streamlit.log").open("w")
    proc = subprocess.Popen(app_command(port, address), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, **env})
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, timeout=90)
        yield url
    finally:
        stop(proc)
        log.close()


@pytest.fixture(scope="session")
def app_url(tmp_path_factory, user_data) -> str:
    """Start the real app under `streamlit run` on a free localhost port; yield its URL."""
    env = {"CNNVIZ_USER_CHECKPOINTS": str(tmp_path_factory.mktemp("user_ckpt")), "CNNVIZ_USER_DATA": str(user_data)}
    with serve(tmp_path_factory.mktemp("server"), env) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (no browser download)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _tab(browser, width: int, height: int):
    """A fresh tab (its own context) of that size, closed after the test."""
    context = browser.new_context(viewport={"width": width, "height": height})
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    context.close()


@pytest.fixture
def page(browser):
    """A fresh browser tab, 1400x1000."""
    yield from _tab(browser, 1400, 1000)


@pytest.fixture
def projector(browser):
    """A fresh tab the size of a classroom projector's screen, 1280x720."""
    yield from _tab(browser, 1280, 720)


@pytest.fixture
def phone(browser):
    """A fresh tab the size of a phone's screen, 390x844 (a mouse: tests/test_browser_class.py touches)."""
    yield from _tab(browser, 390, 844)


# A number as the arithmetic shows it; a negative one inside a sum is in brackets.
SHOWN_NUMBER = r"\(?(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)\)?"


def written_like(value: float, shown: str) -> bool:
    """`value` rounded as `shown` is rounded (its decimals, or 4 significant digits in e-notation) equals it."""
    if "e" in shown:
        return float(f"{value:.4g}") == float(shown)
    decimals = len(shown.split(".")[1]) if "." in shown else 0
    return float(f"{value:.{decimals}f}") == float(shown)


def count_params(model) -> int:
    """Number of parameters of a torch model: torch's own count, the oracle of the calculator's."""
    return sum(p.numel() for p in model.parameters())


def wait_idle(page, timeout: float = 60_000) -> None:
    """Wait until the Streamlit script has finished running and no placeholder skeleton is left."""
    page.wait_for_selector(IDLE, timeout=timeout)
    page.wait_for_timeout(300)  # let the last delta paint
    page.wait_for_selector(IDLE, timeout=timeout)
    page.wait_for_function("() => document.querySelectorAll(\"[data-testid='stSkeleton']\").length === 0",
                           timeout=timeout)


def open_page(page, app_url: str, path: str) -> None:
    """Open one page of the app (path as st.navigation names it: "" for the calculator, "draw", ...) and wait."""
    page.goto(f"{app_url}/{path}")
    wait_idle(page)


# The canvas's toolbar (undo, redo, clear) floats over the canvas's top edge while the mouse is on the canvas
# (streamlit-drawable-canvas 0.13: top -2.65rem). Every element container it meets, except the canvas's own
# and empty space.
_TOOLBAR_HITS = """toolbar => {
    const t = toolbar.getBoundingClientRect(), hits = [];
    for (const el of document.querySelectorAll("[data-testid='stElementContainer']")) {
        const r = el.getBoundingClientRect();
        const own = r.left <= t.left && t.right <= r.right && r.top <= t.bottom && t.bottom <= r.bottom;
        const room = el.querySelector("[data-testid='stSpace']") !== null;  // st.space: left there for the toolbar
        if (r.width && r.height && !own && !room
            && r.left < t.right && t.left < r.right && r.top < t.bottom && t.top < r.bottom)
            hits.push([(el.innerText || el.className).slice(0, 40), r.left, r.top, r.width, r.height]);
    }
    return {box: [t.left, t.top, t.width, t.height], opacity: getComputedStyle(toolbar).opacity, hits};
}"""


def toolbar_hits(page) -> dict:
    """Hover the canvas, let its toolbar rise, and return its box and every other element it covers."""
    page.locator(CANVAS).first.hover()
    page.wait_for_timeout(600)  # the toolbar's transition: 0.15 s after 0.1 s
    return page.locator(".dc-toolbar").first.evaluate(_TOOLBAR_HITS)
