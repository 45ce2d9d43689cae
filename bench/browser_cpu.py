"""The browser's CPU per stroke on Draw a digit, in real Chromium: what a school Chromebook or an old phone pays.

    python bench/browser_cpu.py [--n 8] [--before /path/to/an/older/checkout] [--only 1280-open,390-folded]

For each layout (1280x720, where "Inside the network" is always open; 390x844, a phone, with it folded as the
page starts and opened by hand) it draws strokes on the canvas and measures, per stroke, from just before the
pen goes down to the page idle again plus a settling pause:

    cpu      CPU seconds of this bench's own Chromium (every process under this Python process: browser,
             renderer, GPU/compositor; /proc utime+stime, ended children included), not other browsers on
             the machine; split into "pen moving" (pen down -> up: the canvas draws the stroke, 60
             mouse moves) and "pen up -> idle" (the answer and all that the page redraws)
    script, layout, style   the renderer main thread's ScriptDuration, LayoutDuration, RecalcStyleDuration
             (CDP Performance.getMetrics): where that CPU goes
    nodes    DOM nodes on the page after the stroke
    painted  pointer-up -> the animation frame that paints the answer (the page's own clock, as
             bench/browser_latency.py)

    floor    the same strokes on a bare 280x280 HTML canvas with a ten-line pointer handler and nothing else
             (no Streamlit, no fabric.js): what this Chromium spends on 60 pointer moves that draw, the least any
             drawing page could cost per stroke on this machine

A stroke is added to the drawing (no clear in between): every few strokes the canvas is cleared and one stroke
drawn outside the measurement (then, for "open" on the phone, the fold is opened again). With --before, the same
rounds run first against a server started from that checkout (a `git worktree add <dir> <commit>`), so the
two versions are compared in the same run on the same load. Prints medians and the load (`uptime`); never a
pass/fail.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tools.browser import CANVAS, CHROMIUM, CHROMIUM_ARGS, app_command, free_port, settle, stop, wait_healthy  # noqa: E402,E501

ANSWER = "[data-testid='stMetricValue']"
RESET = "button[aria-label='Reset canvas & history']"
FOLD = "[data-testid='stExpander'] summary"  # "Inside the network", folded on a narrow screen
LAYOUTS = {"1280-open": (1280, 720, True), "390-folded": (390, 844, False), "390-open": (390, 844, True)}
_SEVEN = [(0.3, 0.2), (0.7, 0.2), (0.45, 0.85)]
STROKES = ([(0.3 + 0.4 * t / 10, 0.2) for t in range(11)]                     # a 7's bar,
           + [(0.7 - 0.25 * t / 10, 0.2 + 0.65 * t / 10) for t in range(1, 11)],  # its leg: 21 points
           [(0.5, 0.15 + 0.035 * i) for i in range(21)])                         # a 1: 21 points as well
PER_CLEAR = 3      # measured strokes between two clears
SETTLE_MS = 600    # after idle: late paints (plotly's, images decoding) still count
METRICS = ("ScriptDuration", "LayoutDuration", "RecalcStyleDuration", "TaskDuration")

PAINT_PROBE = """
window.__lat = {up: 0, dom: 0, paint: 0};
document.addEventListener('pointerup', () => { window.__lat = {up: performance.now(), dom: 0, paint: 0}; }, true);
new MutationObserver(() => {
  const t = window.__lat, a = document.querySelector("[data-testid='stMetricValue']");
  if (t.up && !t.dom && a && a.isConnected) {
    t.dom = performance.now();
    requestAnimationFrame(() => { t.paint = performance.now(); });
  }
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


def own_chromium_seconds() -> dict[str, float]:
    """CPU seconds (with reaped children's) of every Chromium process descended from this Python process, by
    process type ("browser", "renderer", "gpu-process", "utility", ...) and in all ("all")."""
    tick, parent, cpu, kind = os.sysconf("SC_CLK_TCK"), {}, {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                head, rest = f.read().rsplit(")", 1)
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                args = f.read().replace(b"\0", b" ").split()  # Chromium rewrites its title: spaces
        except OSError:  # gone meanwhile
            continue
        fields, pid = rest.split(), int(entry)
        parent[pid] = int(fields[1])
        if "chrom" in head.split("(", 1)[1]:
            cpu[pid] = sum(int(v) for v in fields[11:15]) / tick  # utime stime cutime cstime
            kind[pid] = next((a[7:].decode() for a in args if a.startswith(b"--type=")), "browser")
    me, out = os.getpid(), {"all": 0.0}
    for pid, seconds in cpu.items():
        up, seen = parent.get(pid), 0
        while up and up != me and seen < 64:
            up, seen = parent.get(up), seen + 1
        if up == me:
            out["all"] += seconds
            out[kind[pid]] = out.get(kind[pid], 0.0) + seconds
    return out


def _minus(a: dict[str, float], b: dict[str, float]) -> dict[str, float]:
    return {k: a.get(k, 0.0) - b.get(k, 0.0) for k in a}


def _metrics(cdp) -> dict[str, float]:
    return {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}


def _pen(page, points, canvas: str = CANVAS) -> None:
    """Pen down and along `points` (fractions of the canvas), still down at the end."""
    box = page.locator(canvas).first.bounding_box()
    xy = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in points]
    page.mouse.move(*xy[0])
    page.mouse.down()
    for x, y in xy[1:]:
        page.mouse.move(x, y, steps=3)


def _draw(page, points) -> None:
    _pen(page, points)
    page.mouse.up()


def _fresh_drawing(page, unfold: bool) -> None:
    """Clear, one stroke (its answer awaited), and the fold opened when asked: not measured."""
    if page.locator(ANSWER).count():
        page.locator(RESET).click()
        page.wait_for_selector(ANSWER, state="detached", timeout=60_000)
        settle(page, SETTLE_MS)
    _draw(page, _SEVEN)
    page.wait_for_selector(ANSWER, timeout=60_000)
    settle(page, SETTLE_MS)
    if unfold and page.locator(FOLD).count():
        summary = page.locator(FOLD).first
        if summary.locator("xpath=..").get_attribute("open") is None:
            summary.click()
            settle(page, SETTLE_MS)


def layout_rounds(browser, url: str, width: int, height: int, unfold: bool, n: int) -> list[dict[str, float]]:
    """n measured strokes in a fresh tab of that size; one dict per stroke."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.add_init_script(PAINT_PROBE)
    cdp = context.new_cdp_session(page)
    cdp.send("Performance.enable")
    out = []
    try:
        page.goto(f"{url}/draw")
        page.wait_for_selector(CANVAS, timeout=120_000)
        settle(page, SETTLE_MS)
        for i in range(n):
            if i % PER_CLEAR == 0:
                _fresh_drawing(page, unfold)
            page.evaluate("() => { window.__lat = {up: 0, dom: 0, paint: 0}; }")
            m0, c0 = _metrics(cdp), own_chromium_seconds()
            _pen(page, STROKES[i % 2])
            c_up = own_chromium_seconds()
            page.mouse.up()
            page.wait_for_function("() => window.__lat.paint > 0", timeout=120_000)
            settle(page, SETTLE_MS)
            c1, m1 = own_chromium_seconds(), _metrics(cdp)
            pen, answer = _minus(c_up, c0), _minus(c1, c_up)
            row = {"cpu": pen["all"] + answer["all"], "pen": pen["all"], "answer": answer["all"], "nodes": m1["Nodes"],
                   **{f"pen {k}": v for k, v in pen.items() if k != "all"},
                   **{f"answer {k}": v for k, v in answer.items() if k != "all"},
                   "painted": page.evaluate("() => (window.__lat.paint - window.__lat.up) / 1000")}
            row.update({k: m1[k] - m0[k] for k in METRICS})
            out.append(row)
    finally:
        context.close()
    return out


# The floor: a canvas the size of Draw's, each move redraws the stroke so far (as a drawing library does).
BARE = """<html><body style="margin:0"><canvas id="c" width="280" height="280"></canvas><script>
const c = document.getElementById('c'), g = c.getContext('2d'); let pts = null;
c.onpointerdown = e => { pts = [[e.offsetX, e.offsetY]]; };
c.onpointermove = e => { if (!pts) return; pts.push([e.offsetX, e.offsetY]); g.clearRect(0, 0, 280, 280);
  g.lineWidth = 18; g.lineCap = 'round'; g.beginPath(); g.moveTo(...pts[0]);
  pts.forEach(p => g.lineTo(...p)); g.stroke(); };
c.onpointerup = () => { pts = null; };
</script></body></html>"""


def floor_rounds(browser, n: int) -> list[float]:
    """CPU seconds per stroke (pen down -> up) on the bare canvas, at 390x844."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    out = []
    try:
        page.set_content(BARE)
        page.wait_for_timeout(500)
        for i in range(n):
            c0 = own_chromium_seconds()
            page.evaluate("() => document.getElementById('c').getContext('2d').clearRect(0, 0, 280, 280)")
            _pen(page, STROKES[i % 2], "canvas")
            out.append(_minus(own_chromium_seconds(), c0)["all"])
            page.mouse.up()
            page.wait_for_timeout(SETTLE_MS)
    finally:
        context.close()
    return out


def _server(root: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(app_command(port), cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url, proc, timeout=180)
    return proc, url


def _uptime() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def report(version: str, layout: str, rows: list[dict[str, float]]) -> None:
    """One line: medians over the strokes."""
    med = {k: statistics.median(r.get(k, 0.0) for r in rows) for k in set().union(*rows)}
    print(f"{version:7} {layout:11} n={len(rows):2}  browser CPU/stroke {med['cpu']:.2f} s "
          f"(min {min(r['cpu'] for r in rows):.2f}, max {max(r['cpu'] for r in rows):.2f}; pen moving "
          f"{med['pen']:.2f}, pen up -> idle {med['answer']:.2f})  "
          f"script {med['ScriptDuration']:.3f}  layout {med['LayoutDuration']:.3f}  "
          f"style {med['RecalcStyleDuration']:.3f}  main-thread tasks {med['TaskDuration']:.3f} s  "
          f"nodes {med['nodes']:.0f}  answer painted {med['painted'] * 1000:.0f} ms", flush=True)
    for part in ("pen", "answer"):
        split = ", ".join(f"{k.split(' ', 1)[1]} {v:.2f}" for k, v in sorted(med.items()) if k.startswith(part + " "))
        print(f"{'':20}{'pen moving' if part == 'pen' else 'pen up -> idle'} by process: {split}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=8, help="measured strokes per layout")
    ap.add_argument("--before", type=Path, help="an older checkout to measure first, in the same run")
    ap.add_argument("--only", default="", help="comma-separated layouts: " + ",".join(LAYOUTS))
    args = ap.parse_args()
    layouts = [k for k in LAYOUTS if not args.only or k in args.only.split(",")]
    versions = ([("before", args.before.resolve())] if args.before else []) + [("after", ROOT)]
    from playwright.sync_api import sync_playwright

    print(f"uptime before: {_uptime()}", flush=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            floor = floor_rounds(browser, args.n)
            print(f"floor   bare canvas n={len(floor):2}  browser CPU/stroke {statistics.median(floor):.2f} s "
                  f"(min {min(floor):.2f}, max {max(floor):.2f}; pen moving only, no page behind it)", flush=True)
            for version, root in versions:
                proc, url = _server(root)
                try:
                    for layout in layouts:
                        width, height, unfold = LAYOUTS[layout]
                        report(version, layout, layout_rounds(browser, url, width, height, unfold, args.n))
                finally:
                    stop(proc)
        finally:
            browser.close()
    print(f"uptime after: {_uptime()}", flush=True)


if __name__ == "__main__":
    main()
