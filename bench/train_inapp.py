"""Training speed inside the real app (Chromium, trainer page open and polling) vs `python -m cnnviz.train`.

    python bench/train_inapp.py [--batches 400] [--rounds 2] [--port 8802]

Starts `streamlit run app.py` on 127.0.0.1:`--port`, opens the trainer in Debian's Chromium at 1280x720 and
trains tutorial_a with the page's defaults (batch 128, SGD + one-cycle, held-out curve, live view, snapshots)
for `--batches` batches; the img/s is the run's own figure from its last progress line. Then the CLI trains
the same network for the same batches in a fresh process (`python -m cnnviz.train`, which reports img/s).
Rounds alternate (app then CLI, CLI then app, ...) so a busy neighbour or a host that changes speed slows both
alike; prints medians and the ratio (target >= 0.9), and the CPU the browser and the server (not the training
process) used per second of each in-app run. A last in-app run has a second tab draw digits on the Draw page
meanwhile: it prints the draw path's latency (mouse released -> the prediction shown) while training, beside the
same with no run.
Prints `uptime` before and after: the machine is shared.
"""
from __future__ import annotations

import argparse
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sessions import ARGS, IDLE, browser_cpu_seconds, cpu_seconds, serve  # bench/sessions.py

from tools.browser import CANVAS, stop
from tools.browser import stroke as brush

ROOT = Path(__file__).resolve().parents[1]
PREDICTION = "[data-testid='stMetricValue']"
RATE = re.compile(r"([\d,]+) img/s")


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def in_app(page, url: str, batches: int, while_running=None, server_pid: int | None = None):
    """One run from the trainer page: (img/s from its final progress line, what `while_running()` returned,
    (browser, server) CPU-seconds per second while it ran, or None without `server_pid`)."""
    page.goto(f"{url}/trainer?cap={batches}")
    page.wait_for_selector(IDLE, timeout=120_000)
    page.get_by_role("button", name="Start training").click()
    page.wait_for_selector("[data-testid='stProgress']", timeout=120_000)
    before = (time.perf_counter(), browser_cpu_seconds(), cpu_seconds(server_pid)) if server_pid else None
    extra = while_running() if while_running else None
    page.get_by_text("How well did it learn?").wait_for(timeout=600_000)
    cpu = None
    if before:  # the page shows the results a moment after the run's end: a slight overcount of the run's time
        seconds = time.perf_counter() - before[0]
        cpu = ((browser_cpu_seconds() - before[1]) / seconds, (cpu_seconds(server_pid) - before[2]) / seconds)
    text = page.locator("[data-testid='stProgress']").first.inner_text()
    done = re.search(r"batch ([\d,]+)/([\d,]+)", text)
    # ran to its end (the cap, or the recipe's epochs if they come first)
    if not done or done.group(1) != done.group(2):
        raise SystemExit(f"unexpected end of the in-app run: {text!r}")
    return float(RATE.search(text).group(1).replace(",", "")), extra, cpu


def cli(batches: int, env: dict) -> float:
    """The CLI's img/s for the same network and batches (fresh process)."""
    with tempfile.TemporaryDirectory() as out:
        res = subprocess.run([sys.executable, "-m", "cnnviz.train", "--preset", "tutorial_a", "--max-batches",
                              str(batches), "--out", out, "--name", "bench"], cwd=ROOT, env=env,
                             capture_output=True, text=True, check=True)
    return float(RATE.findall(res.stdout)[-1].replace(",", ""))


def stroke(page, zero: bool) -> None:
    """A '1' (vertical line) or a '0' (ellipse) on the Draw page's canvas."""
    pts = ([(0.5 + 0.22 * math.sin(2 * math.pi * i / 40), 0.5 - 0.33 * math.cos(2 * math.pi * i / 40))
            for i in range(43)] if zero else [(0.5, 0.15 + 0.7 * i / 20) for i in range(21)])
    brush(page, pts, steps=2)


def draw_latencies(page, url: str, n: int, until=None) -> list[float]:
    """Seconds from mouse-up to the right prediction shown, for `n` strokes (or until `until()` is true)."""
    page.goto(f"{url}/draw")
    page.wait_for_selector(CANVAS, timeout=120_000)
    page.wait_for_selector(IDLE)
    out = []
    for i in range(n):
        if until is not None and until():
            break
        if page.locator(PREDICTION).count():  # clear the canvas first (not timed)
            page.locator("button[aria-label='Reset canvas & history']").click()
            page.wait_for_selector(PREDICTION, state="detached", timeout=60_000)
            page.wait_for_selector(IDLE)
        digit = str(i % 2 == 1 and 0 or 1)
        stroke(page, zero=digit == "0")
        t0 = time.perf_counter()
        page.wait_for_function(f"() => {{ const e = document.querySelector(\"{PREDICTION}\"); "
                               f"return e && e.innerText.trim() === '{digit}'; }}", timeout=60_000)
        out.append(time.perf_counter() - t0)
    return out


def stats(xs: list[float]) -> str:
    xs = sorted(xs)
    p95 = xs[min(len(xs) - 1, math.ceil(0.95 * len(xs)) - 1)]
    return f"median {statistics.median(xs) * 1000:,.0f} ms, p95 {p95 * 1000:,.0f} ms (n={len(xs)})"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batches", type=int, default=400)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--strokes", type=int, default=12)
    p.add_argument("--port", type=int, default=8802)
    args = p.parse_args()
    from playwright.sync_api import sync_playwright

    env = {**os.environ, "CNNVIZ_USER_CHECKPOINTS": tempfile.mkdtemp(prefix="cnnviz-bench-")}
    print("uptime before:", uptime(), flush=True)
    server = serve(args.port, env)  # bench/sessions.py: healthy, and this run's own server
    url = f"http://127.0.0.1:{args.port}"
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            trainer = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
            drawer = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
            for page in (trainer, drawer):
                page.set_default_timeout(180_000)  # a loaded 2-core machine: slow, but it must not hang
            app, line, cpu = [], [], []
            for r in range(args.rounds):  # A B, B A, ...: a host that speeds up or slows down favours neither
                for which in (("app", "cli") if r % 2 == 0 else ("cli", "app")):
                    if which == "app":
                        rate, _, used = in_app(trainer, url, args.batches, server_pid=server.pid)
                        app.append(rate)
                        cpu.append(used)
                    else:
                        line.append(cli(args.batches, env))
                print(f"round {r + 1}: in-app {app[-1]:,.0f} img/s, CLI {line[-1]:,.0f} img/s, "
                      f"ratio {app[-1] / line[-1]:.2f}; meanwhile browser {cpu[-1][0]:.2f}, server "
                      f"{cpu[-1][1]:.2f} CPU-s/s", flush=True)
            a, c = statistics.median(app or [0]), statistics.median(line or [1])
            print(f"median: in-app {a:,.0f} img/s, python -m cnnviz.train {c:,.0f} img/s, ratio {a / c:.2f} "
                  f"(target >= 0.9); paired {statistics.median([x / y for x, y in zip(app, line)] or [0]):.2f}; "
                  f"browser {statistics.median(b for b, _ in cpu):.2f}, server "
                  f"{statistics.median(v for _, v in cpu):.2f} CPU-s per second of training", flush=True)
            idle = draw_latencies(drawer, url, args.strokes)
            print(f"draw path, no training: {stats(idle)}", flush=True)
            done = lambda: trainer.get_by_text("How well did it learn?").count() > 0  # noqa: E731
            rate, busy, _ = in_app(trainer, url, args.batches * 3,
                                lambda: draw_latencies(drawer, url, args.strokes * 3, until=done))
            print(f"draw path while training: {stats(busy)}; that run trained at {rate:,.0f} img/s", flush=True)
            browser.close()
    finally:
        stop(server, timeout=60)
    print("uptime after:", uptime())


if __name__ == "__main__":
    main()
