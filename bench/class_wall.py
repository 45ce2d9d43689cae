"""The class wall's cost on the server: CPU-s per wall refresh (the teacher's Class page re-reads the wall every
second) and per drawing a student sends.

    python bench/class_wall.py [--walls 20,200] [--seconds 10] [--windows 5] [--strokes 12]

Starts `streamlit run app.py` (its own $CNNVIZ_SHARED in a temp folder) and measures the server process's own CPU
time (/proc, utime + stime) around known work, with Debian's Chromium as the browser:
- per refresh: N real MNIST test digits on the wall (answered by tutorial_a), the Class page open in one tab,
  `--windows` windows of `--seconds` s each; the server's CPU in a window, less its idle CPU over as long (measured
  first, no tab open), divided by the refreshes in it (one a second). Median over the windows.
- per drawing: one student tab on Draw draws a '1' and clears it, `--strokes` times with the wall collecting and as
  many with it stopped (alternating pairs); the server's CPU per stroke in each case, and the difference (what
  sending to the wall adds). Medians.
Then the library's part alone, in this process: classwall.read + summary + tiles for N drawings, and one submit.
Prints medians and `uptime`.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sessions import ANSWER, ARGS, CANVAS, IDLE, RESET, cpu_seconds, free_port, serve, stroke  # noqa: E402

from cnnviz import classwall, probe  # noqa: E402
from cnnviz.figures import classwall as figs  # noqa: E402
from tools.wall_feed import feed  # noqa: E402


async def refreshes(browser, url: str, pid: int, idle_per_s: float, seconds: float, windows: int) -> list[float]:
    ctx = await browser.new_context(viewport={"width": 1280, "height": 720})
    page = await ctx.new_page()
    page.set_default_timeout(120_000)
    await page.goto(f"{url}/class")
    await page.wait_for_selector(".tile")
    await asyncio.sleep(3)
    per = []
    for _ in range(windows):
        c0, t0 = cpu_seconds(pid), time.monotonic()
        await asyncio.sleep(seconds)
        cpu, wall_s = cpu_seconds(pid) - c0, time.monotonic() - t0
        per.append((cpu - idle_per_s * wall_s) / wall_s)  # one refresh a second (st.fragment(run_every=1.0))
    await ctx.close()
    return per


async def strokes(browser, url: str, pid: int, wall: Path, n: int) -> tuple[list[float], list[float]]:
    ctx = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await ctx.new_page()
    page.set_default_timeout(120_000)
    await page.goto(f"{url}/draw")
    await page.wait_for_selector(CANVAS)
    await page.wait_for_selector(IDLE)
    on, off = [], []
    for i in range(2 * n + 2):
        collecting = i % 2 == 0
        classwall.start(wall) if collecting else classwall.stop(wall)
        await page.locator(RESET).click()
        await page.wait_for_selector(ANSWER, state="detached")
        await page.wait_for_selector(IDLE)
        await asyncio.sleep(0.5)
        c0 = cpu_seconds(pid)
        await stroke(page, 1)
        await page.wait_for_selector(ANSWER)
        await page.wait_for_selector(IDLE)
        await asyncio.sleep(0.5)
        if i >= 2:  # the first pair warms up
            (on if collecting else off).append(cpu_seconds(pid) - c0)
    await ctx.close()
    return on, off


def library(n: int, repeats: int = 20) -> tuple[float, float]:
    """(CPU-s of read + summary + tiles for n drawings, CPU-s of one submit), medians, in this process."""
    with tempfile.TemporaryDirectory() as tmp:
        wall = classwall.folder(Path(tmp))
        classwall.start(wall)
        feed(wall, n)
        reads, sends = [], []
        for i in range(repeats):
            t = time.process_time()
            drawings = classwall.read(wall)
            classwall.summary(drawings, None, probe.DIGITS)
            figs.tiles(drawings, None)
            reads.append(time.process_time() - t)
            t = time.process_time()
            classwall.submit(wall, f"{i:016x}", drawings[0].pixels / 255.0, "1", 0.9, False)
            sends.append(time.process_time() - t)
        return statistics.median(reads), statistics.median(sends)


async def main_async(args) -> None:
    from playwright.async_api import async_playwright

    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "CNNVIZ_SHARED": tmp}
        wall = classwall.folder(Path(tmp))
        proc = serve(port := free_port(), env)
        url = f"http://127.0.0.1:{port}"
        try:
            time.sleep(3)
            c0 = cpu_seconds(proc.pid)
            time.sleep(args.seconds)
            idle = (cpu_seconds(proc.pid) - c0) / args.seconds
            print(f"server idle: {idle:.4f} CPU-s per second", flush=True)
            async with async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
                classwall.start(wall)
                for n in args.walls:
                    classwall.clear(wall)
                    feed(wall, n)
                    per = await refreshes(browser, url, proc.pid, idle, args.seconds, args.windows)
                    print(f"wall refresh, {n} drawings: median {statistics.median(per):.4f} CPU-s per refresh "
                          f"(windows: {', '.join(f'{p:.4f}' for p in per)})", flush=True)
                classwall.clear(wall)
                on, off = await strokes(browser, url, proc.pid, wall, args.strokes)
                print(f"server CPU per stroke on Draw: collecting {statistics.median(on):.3f} CPU-s, not collecting "
                      f"{statistics.median(off):.3f} CPU-s (medians of {len(on)}); sending to the wall adds "
                      f"{statistics.median(on) - statistics.median(off):+.3f} CPU-s per drawing", flush=True)
                await browser.close()
        finally:
            proc.terminate()
            proc.wait(10)
    for n in args.walls:
        read, send = library(n)
        print(f"library alone, {n} drawings: read + summary + tiles {read * 1000:.1f} ms CPU, "
              f"one submit {send * 1000:.2f} ms CPU (medians of 20)")
    print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--walls", default="20,200", type=lambda s: [int(x) for x in s.split(",")])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--windows", type=int, default=5)
    parser.add_argument("--strokes", type=int, default=12)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
