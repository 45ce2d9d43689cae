"""Every click a class waits for, timed in real Chromium at 1280x720 against `streamlit run app.py`:

    cold       `streamlit run app.py` started -> the first page (the calculator) rendered and idle
    calculator Kernel K stepped with its + button -> re-rendered
    playground the stride slider moved (arrow key) -> re-rendered
    trainer    *Start* -> the first "batch N/M" on screen (the run is stopped again at once)
    lesson     *Next* -> the next step rendered
    tile       Draw: an overview tile clicked -> its enlarged map on screen
    pixel      Draw: a pixel of the enlarged map clicked -> its arithmetic on screen
    navigate   a page switch in the sidebar -> the new page rendered and idle
    stroke     Draw: a stroke -> the answer painted (the page's own clock), and the browser's CPU per stroke

"Re-rendered" is the page's own clock: from the input event (pointerup / keydown) to the first animation frame
after the script went back to idle with the expected element present. Prints medians and p95s (ms) and the load
before and after (`uptime`): the 2 cores are shared, so note the load with the numbers; never a pass/fail.

    python bench/interactions.py [--n 10] [--cold 3] [--only tile,pixel] [--root ../wt-speed-before]

--root runs another checkout's app.py (an older commit checked out with `git worktree add`) under this script,
so a before/after pair is measured the same way, minutes apart.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from browser_latency import ARGS, STROKES, _stroke, draw_latency  # noqa: E402
from sessions import browser_cpu_seconds, free_port, wait_healthy  # noqa: E402

from tools.browser import settle  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

# In the page: the time of the last input event, and of the first frame after the script is idle again with the
# awaited element present (window.__want: a CSS selector, or text:<substring of the main area>).
PROBE = """
window.__ix = {start: 0, ran: false, done: 0};
window.__want = null;
const mark = () => { window.__ix = {start: performance.now(), ran: false, done: 0}; };
document.addEventListener('pointerup', mark, true);
document.addEventListener('keydown', mark, true);
const present = () => {
  const w = window.__want;
  if (!w) return true;
  if (w.startsWith('text:')) {
    const main = document.querySelector("[data-testid='stMain']");
    return !!main && main.innerText.includes(w.slice(5));
  }
  return !!document.querySelector(w);
};
const check = () => {
  const t = window.__ix, app = document.querySelector("[data-testid='stApp']");
  if (!t.start || t.done || !app) return;
  const state = app.getAttribute('data-test-script-state');
  if (state === 'running') t.ran = true;
  if ((t.ran || window.__noRun) && state === 'notRunning' && present()
      && !document.querySelector("[data-testid='stSkeleton']")) {
    requestAnimationFrame(() => { if (!t.done) t.done = performance.now(); });
  }
};
new MutationObserver(check).observe(document, {subtree: true, childList: true, attributes: true,
                                               attributeFilter: ['data-test-script-state']});
"""


def _commit(root: Path) -> str:
    out = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return out.stdout.strip() or "?"


def _uptime() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


APP = [ROOT]  # the checkout whose app.py is served (--root)


def _server(port: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                             "--server.address", "127.0.0.1", "--server.headless", "true",
                             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
                            cwd=APP[0], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


def _timed(page, act, want: str | None, no_run: bool = False, timeout_ms: int = 120_000) -> float:
    """Seconds from the input event `act` makes to the frame after the rerun that shows `want`."""
    page.evaluate("([want, noRun]) => { window.__want = want; window.__noRun = noRun; "
                  "window.__ix = {start: 0, ran: false, done: 0}; }", [want, no_run])
    act()
    page.wait_for_function("() => window.__ix.done > 0", timeout=timeout_ms)
    seconds = page.evaluate("() => (window.__ix.done - window.__ix.start) / 1000")
    settle(page)
    return seconds


def cold(browser, runs: int) -> list[float]:
    """Server start -> the calculator rendered and idle, each time a fresh server on a fresh port."""
    out = []
    for _ in range(runs):
        port = free_port()
        start = time.perf_counter()
        proc = _server(port)
        try:
            wait_healthy(f"http://127.0.0.1:{port}", proc, timeout=180)
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_selector("h1", timeout=120_000)
            settle(page)
            out.append(time.perf_counter() - start - 0.3)  # settle's pause is not the app's
            page.close()
        finally:
            _stop(proc)
    return out


def _open(page, url: str) -> None:
    page.goto(url)
    settle(page)


def calculator(page, url: str, n: int) -> list[float]:
    _open(page, f"{url}/")
    kernel = page.locator("[data-testid='stNumberInput']", has_text="Kernel").first
    times = []
    for i in range(n):  # up, down, up...: the step buttons by their test ids (the label's "?" is a button too)
        button = kernel.locator("[data-testid='stNumberInputStepUp']" if i % 2 == 0
                                else "[data-testid='stNumberInputStepDown']")
        times.append(_timed(page, button.click, None))
    return times


def playground(page, url: str, n: int) -> list[float]:
    _open(page, f"{url}/playground")
    slider = page.get_by_role("slider", name="Stride S")
    times = []
    for i in range(n):
        slider.focus()
        times.append(_timed(page, lambda k=("ArrowRight" if i % 2 == 0 else "ArrowLeft"): page.keyboard.press(k),
                            None))
    return times


# The trainer's buttons by their text (an enabled one), found in the page itself: Playwright's role lookup missed
# Stop while the live view redrew every second (the locator resolved against a button being replaced).
BUTTON = """(text) => { const b = Array.from(document.querySelectorAll('button'))
    .find(b => b.innerText.includes(text) && !b.disabled); if (b) { b.click(); return true; } return false; }"""
ENABLED = """(text) => Array.from(document.querySelectorAll('button'))
    .some(b => b.innerText.includes(text) && !b.disabled)"""


def trainer(page, url: str, n: int) -> list[float]:
    _open(page, f"{url}/trainer")
    times = []
    for _ in range(n):
        start = page.get_by_role("button", name="▶ Start training")
        times.append(_timed(page, start.click, "text: · ETA ", no_run=True))  # "batch 3/938 · ... · ETA 9 s": running
        page.wait_for_function(f"() => ({ENABLED})('Stop') || ({ENABLED})('Start training')", timeout=120_000)
        page.evaluate(BUTTON, "■ Stop")  # none when the run already ended
        page.wait_for_function(f"() => ({ENABLED})('Start training')", timeout=120_000)
        settle(page)
        page.wait_for_timeout(5000)  # a teacher's next Start; the next spare process starts once a run has ended
    return times


def lesson(page, url: str, n: int) -> list[float]:
    sys.path.insert(0, str(ROOT))
    from cnnviz import lessons  # the shipped lesson's name, as the picker lists it
    first = lessons.available()[0]
    _open(page, f"{url}/?lesson={first}&step=1" if first else f"{url}/")
    times = []
    for _ in range(n):
        nxt = page.get_by_role("button", name="Next", exact=False)
        if not nxt.count() or not nxt.first.is_enabled():
            _open(page, f"{url}/?lesson={first}&step=1")
            nxt = page.get_by_role("button", name="Next", exact=False)
        times.append(_timed(page, nxt.first.click, None))
    return times


def _click_point(page, chart: str, trace: int, point: int, act_only: bool = False):
    marker = page.locator(f".st-key-{chart} g.trace.scatter").nth(trace).locator("path.point").nth(point)
    page.locator(f".st-key-{chart}").scroll_into_view_if_needed()
    box = marker.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.wait_for_timeout(200)  # plotly picks on hover first
    return lambda: page.mouse.click(x, y)


def _click_tile(page, chart: str, layer: str, i: int):
    """Tile i of a layer's picture in Draw's overview (its geometry in the picture's data-*): the click to time."""
    x, y = page.evaluate("""([chart, layer, i]) => {
        const img = document.querySelector(`.st-key-${chart} img.ov-pic[data-layer='${layer}']`);
        img.scrollIntoView({block: 'center'});
        const r = img.getBoundingClientRect(), d = img.dataset, cols = +d.cols;
        return [r.left + ((i % cols) * (+d.tw + +d.gap) + +d.tw / 2) * r.width / +d.width,
                r.top + (Math.floor(i / cols) * (+d.th + +d.gap) + +d.th / 2) * r.height / +d.height];
    }""", [chart, layer, i])
    return lambda: page.mouse.click(x, y)


def draw_clicks(page, url: str, n: int) -> tuple[list[float], list[float]]:
    _open(page, f"{url}/draw")
    page.wait_for_selector("canvas.upper-canvas")
    _stroke(page, STROKES[0])
    page.mouse.up()
    page.wait_for_selector("[data-testid='stMetricValue']", timeout=60_000)
    settle(page)
    tiles, pixels, missed = [], [], 0
    for i in range(n):
        tile = 5 + i % 3
        try:  # a click plotly did not turn into a selection (no rerun) is counted as missed, not waited for
            tiles.append(_timed(page, _click_tile(page, "overview_0_tutorial_a", "conv2", tile),
                                f".st-key-pick_0_tutorial_a_conv2_{tile}", timeout_ms=30_000))
            pixels.append(_timed(page, _click_point(page, f"pick_0_tutorial_a_conv2_{tile}", 0, 14 * 7 + i % 5),
                                 ".st-key-arith_0", timeout_ms=30_000))
        except Exception:  # noqa: BLE001 - Playwright's TimeoutError
            missed += 1
            settle(page)
    if missed:
        print(f"Draw clicks missed (no rerun within 30 s): {missed} of {n}", flush=True)
    return tiles, pixels


def navigate(page, url: str, n: int) -> list[float]:
    _open(page, f"{url}/draw")
    times = []
    for i in range(n):
        name, title = (("Dimension calculator", "Dimension") if i % 2 == 0 else ("Draw a digit", "Draw a digit"))
        link = page.locator("[data-testid='stSidebarNav'] a", has_text=name).first
        times.append(_timed(page, link.click, f"text:{title}"))
    return times


def stroke_cpu(browser, url: str, n: int, size: tuple[int, int]) -> tuple[list[float], float]:
    """n strokes on Draw at `size`: (stroke -> answer painted, s) and the browser's CPU-s per stroke."""
    page = browser.new_page(viewport={"width": size[0], "height": size[1]})
    try:
        before = browser_cpu_seconds()
        _, _, painted = draw_latency(page, url, n)
        return painted, (browser_cpu_seconds() - before) / (n + 1)
    finally:
        page.close()


def _row(name: str, seconds: list[float]) -> None:
    ms = sorted(v * 1000 for v in seconds)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    print(f"{name:34} n={len(ms):3}  median {statistics.median(ms):8.0f} ms   p95 {p95:8.0f} ms", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10)
    ap.add_argument("--cold", type=int, default=3)
    ap.add_argument("--root", default=str(ROOT), help="the checkout to serve (default: this one)")
    ap.add_argument("--only", default="", help="comma-separated rows (cold,calculator,playground,trainer,lesson,"
                                               "tile,pixel,navigate,stroke)")
    args = ap.parse_args()
    only = set(filter(None, args.only.split(",")))
    APP[0] = Path(args.root).resolve()

    def want(row: str) -> bool:
        return not only or row in only

    from playwright.sync_api import sync_playwright

    print(f"serving {APP[0]} at commit {_commit(APP[0])}; uptime before: {_uptime()}", flush=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        if want("cold"):
            _row("cold start -> calculator idle", cold(browser, args.cold))
        port = free_port()
        proc = _server(port)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(url, proc, timeout=180)
            context = browser.new_context(viewport={"width": 1280, "height": 720})
            page = context.new_page()
            page.set_default_timeout(120_000)
            page.add_init_script(PROBE)
            _open(page, f"{url}/")  # warm: the first visit loads what every page needs
            rows = [("calculator", "calculator K + -> re-rendered", calculator),
                    ("playground", "playground stride -> re-rendered", playground),
                    ("lesson", "lesson Next -> next step", lesson),
                    ("navigate", "page switch -> rendered", navigate),
                    ("trainer", "trainer Start -> first batch", trainer)]
            for key, title, fn in rows:
                if want(key):
                    _row(title, fn(page, url, args.n if key != "trainer" else max(3, args.n // 3)))
            if want("tile") or want("pixel"):
                tiles, pixels = draw_clicks(page, url, args.n)
                _row("Draw tile -> enlarged map", tiles)
                _row("Draw pixel -> arithmetic", pixels)
            context.close()
            if want("stroke"):
                for size in ((1280, 720), (390, 844)):
                    painted, cpu = stroke_cpu(browser, url, args.n, size)
                    _row(f"Draw stroke -> answer painted {size[0]}x{size[1]}", painted)
                    print(f"{'':34} browser CPU per stroke {cpu:.2f} s", flush=True)
        finally:
            _stop(proc)
            browser.close()
    print(f"uptime after: {_uptime()}", flush=True)


if __name__ == "__main__":
    main()
