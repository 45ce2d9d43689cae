"""A class on one server: N real Chromium sessions draw on the Draw page while one more session trains.

    python bench/sessions.py [--sizes 5,10,20,30] [--seconds 60] [--url http://127.0.0.1:8601]

Starts `streamlit run app.py` on a port in 8600-8699 (or uses --url: a running server or a proxy in
front of several). For each N: one extra session starts a training run on *Train a CNN* (and starts
another when it ends), N sessions in separate browser contexts each loop for `--seconds`: clear the
canvas, draw a stroke (a '1' or a '0'), wait until the answer is shown and the script is idle. Prints
per N: errors (timeouts, exceptions on the page, lost connections), stroke->answer p50/p95, answers,
the server's peak RSS (own process; only with a server it started), and the load average.

Then the server's own CPU per stroke: 5 sessions, no training, the server's CPU seconds (utime+stime
from /proc) divided by the answers, and the sessions one core can hold at one stroke every 10 s.
The browsers load the machine far more than the server does: other work on the machine (note the
load average printed) slows the browsers first, so read capacity from the CPU-per-stroke figure.
"""
from __future__ import annotations

import argparse
import asyncio
import math
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tools.browser import CANVAS, IDLE, app_command  # noqa: E402  (shared with tests/conftest.py)
from tools.browser import CHROMIUM_ARGS as ARGS  # noqa: E402
from tools.browser import wait_healthy as _wait_healthy  # noqa: E402

ANSWER = "[data-testid='stMetricValue']"
RESET = "button[aria-label='Reset canvas & history']"


def free_port(low: int = 8600, high: int = 8699) -> int:
    """A free localhost port in the range this project may use by hand."""
    for port in range(low, high + 1):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise SystemExit(f"no free port in {low}-{high}")


def serve(port: int, env: dict | None = None) -> subprocess.Popen:
    """`streamlit run app.py` on 127.0.0.1:port (with `env`, default this process's), waited until healthy.

    A port already taken is refused first: the health check would reach the other server, and a bench would
    measure that one while its own server exits.
    """
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds: TIME_WAIT is no owner
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise SystemExit(f"port {port} is in use (another server, or a bench still running?)") from None
    proc = subprocess.Popen(app_command(port), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=os.environ.copy() if env is None else env)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc)
    except SystemExit:
        proc.kill()
        raise
    return proc


def wait_healthy(url: str, proc: subprocess.Popen | None = None, timeout: float = 120) -> None:
    """Until /_stcore/health answers ok (tools/browser.py), or SystemExit saying why not."""
    try:
        _wait_healthy(url, proc, timeout)
    except RuntimeError as err:
        raise SystemExit(str(err)) from None


def rss_bytes(pid: int) -> int:
    """Resident memory of one process now."""
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank) of values."""
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(q * len(s)) - 1))]


async def stroke(page, digit: int) -> None:
    """One brush stroke: a vertical '1' or a closed '0'."""
    box = await page.locator(CANVAS).first.bounding_box()
    if digit == 1:
        pts = [(0.5, 0.15 + 0.7 * i / 20) for i in range(21)]
    else:
        pts = [(0.5 + 0.22 * math.sin(2 * math.pi * i / 40), 0.5 - 0.33 * math.cos(2 * math.pi * i / 40))
               for i in range(43)]
    xy = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in pts]
    await page.mouse.move(*xy[0])
    await page.mouse.down()
    for x, y in xy[1:]:
        await page.mouse.move(x, y, steps=2)
    await page.mouse.up()


async def frames(ctx, page) -> dict:
    """The page's websocket frames as the browser's network stack stamps them (seconds): sent and received."""
    seen = {"sent": [], "recv": []}
    cdp = await ctx.new_cdp_session(page)
    cdp.on("Network.webSocketFrameSent", lambda e: seen["sent"].append(e["timestamp"]))
    cdp.on("Network.webSocketFrameReceived", lambda e: seen["recv"].append(e["timestamp"]))
    await cdp.send("Network.enable")
    return seen


def server_trip(seen: dict, mark: int) -> float | None:
    """Seconds from the stroke's rerun request (the first frame sent after `mark`) to the rerun's last frame back."""
    if len(seen["sent"]) <= mark:
        return None
    asked = seen["sent"][mark]
    back = [t for t in seen["recv"] if t >= asked]
    return back[-1] - asked if back else None


async def drawer(browser, url: str, seconds: float, stats: dict, think: float = 0.0) -> None:
    """One student: open Draw, then clear / draw / wait for the answer / look at it `think` s, until the time is up."""
    ctx = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await ctx.new_page()
    page.set_default_timeout(60_000)
    seen = await frames(ctx, page)
    try:
        await page.goto(f"{url}/draw")
        await page.wait_for_selector(CANVAS, timeout=120_000)
        await page.wait_for_selector(IDLE, timeout=120_000)
        stats["ready"] += 1  # page loads are not strokes: CPU is counted once every session is ready
        end, digit = time.monotonic() + seconds, 1
        while time.monotonic() < end:
            if await page.locator(ANSWER).count():
                await page.locator(RESET).click()
                await page.wait_for_selector(ANSWER, state="detached")
                await page.wait_for_selector(IDLE)
            mark = len(seen["sent"])
            await stroke(page, digit)
            t0 = time.monotonic()
            await page.wait_for_selector(ANSWER)
            await page.wait_for_selector(IDLE)
            stats["latency"].append(time.monotonic() - t0)
            if (trip := server_trip(seen, mark)) is not None:
                stats["server"].append(trip)
            if await page.locator("[data-testid='stException']").count():
                stats["errors"].append("exception on the page")
            digit = 1 - digit
            if think:
                await asyncio.sleep(think)
    except Exception as err:  # a timeout or a lost connection: counted, the others go on
        stats["errors"].append(f"{type(err).__name__}: {str(err).splitlines()[0][:120]}")
    finally:
        await ctx.close()


async def trainer(browser, url: str, stop: asyncio.Event, stats: dict) -> None:
    """One more session keeps a training run going on the trainer page until `stop`."""
    ctx = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await ctx.new_page()
    page.set_default_timeout(60_000)
    try:
        await page.goto(f"{url}/trainer")
        await page.wait_for_selector(IDLE, timeout=120_000)
        while not stop.is_set():
            start = page.get_by_role("button", name="Start training")
            if await start.is_enabled():
                await start.click()
                stats["runs"] += 1
            try:
                await asyncio.wait_for(stop.wait(), 3.0)
            except TimeoutError:
                pass
        stop_button = page.get_by_role("button", name="Stop")
        if await stop_button.is_enabled():
            await stop_button.click()
            await page.wait_for_timeout(1000)
    except Exception as err:
        stats["errors"].append(f"trainer {type(err).__name__}: {str(err).splitlines()[0][:120]}")
    finally:
        await ctx.close()


def browser_cpu_seconds() -> float:
    """CPU seconds of every Chromium process on the machine (the bench's browsers: nothing else runs one), with
    those of its ended children (a closed tab's renderer), which the kernel adds to the parent that reaped it."""
    total, tick = 0.0, os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if b"chromium" not in f.read().split(b"\0")[0]:
                        continue
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                total += sum(int(v) for v in fields[11:15]) / tick  # utime stime cutime cstime
            except OSError:  # gone meanwhile
                continue
    return total


async def phase(browser, url: str, n: int, seconds: float, train: bool, pid: int | None, think: float = 0.0) -> dict:
    """N drawers (+ one trainer) for `seconds`; returns latencies, errors, peak RSS, CPU seconds."""
    stats = {"latency": [], "server": [], "errors": [], "runs": 0, "peak_rss": 0, "ready": 0}
    stop = asyncio.Event()
    jobs = [asyncio.create_task(drawer(browser, url, seconds, stats, think)) for _ in range(n)]
    coach = asyncio.create_task(trainer(browser, url, stop, stats)) if train else None
    while stats["ready"] < n and not all(j.done() for j in jobs):
        await asyncio.sleep(0.05)
    cpu0, answers0, browser0 = (cpu_seconds(pid) if pid else None), len(stats["latency"]), browser_cpu_seconds()
    while not all(j.done() for j in jobs):
        if pid:
            stats["peak_rss"] = max(stats["peak_rss"], rss_bytes(pid))
        await asyncio.sleep(0.5)
    stop.set()
    if coach:
        await coach
    stats["cpu"] = cpu_seconds(pid) - cpu0 if pid else None
    stats["browser_cpu"] = browser_cpu_seconds() - browser0
    stats["cpu_answers"] = len(stats["latency"]) - answers0
    stats["load"] = os.getloadavg()
    return stats


def report(n: int, s: dict, train: bool) -> None:
    """One line per phase."""
    lat = s["latency"]
    line = (f"N={n:>2}{' +1 training' if train else ''}: {len(s['errors'])} errors, {len(lat)} answers, "
            f"stroke->answer p50 {statistics.median(lat):.2f} s p95 {pct(lat, 0.95):.2f} s" if lat else
            f"N={n:>2}: {len(s['errors'])} errors, no answers")
    if s["server"]:
        line += (f"; server round trip (rerun asked -> its last frame back) p50 {statistics.median(s['server']):.2f} s "
                 f"p95 {pct(s['server'], 0.95):.2f} s")
    if s["peak_rss"]:
        line += f", server peak RSS {s['peak_rss'] / 2**20:.0f} MiB"
    line += f", load {s['load'][0]:.1f} (uptime {os.popen('uptime').read().strip()})"
    print(line, flush=True)
    for e in sorted(set(s["errors"]))[:5]:
        print(f"    {s['errors'].count(e)} x {e}", flush=True)


async def main_async(args) -> None:
    from playwright.async_api import async_playwright

    proc = None
    url = args.url
    if url is None:
        port = free_port()
        proc = serve(port)
        url = f"http://127.0.0.1:{port}"
    pid = proc.pid if proc else None
    if args.browser_nice:
        os.nice(args.browser_nice)  # after the server started: Playwright's driver and Chromium inherit it
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            await phase(browser, url, 1, 5, False, pid)  # warm the caches (model, figures) once
            for n in args.sizes:
                report(n, await phase(browser, url, n, args.seconds, not args.no_train, pid, args.think),
                       not args.no_train)
            if pid:
                s = await phase(browser, url, 5, args.seconds, False, pid)
                answers = s["cpu_answers"]
                per, browser_per = s["cpu"] / max(1, answers), s["browser_cpu"] / max(1, answers)
                print(f"server CPU per stroke (5 sessions, no training): {per:.3f} CPU-s over {answers} answers "
                      f"({s['cpu']:.1f} CPU-s); one core holds ~{10 / per:.0f} students drawing a stroke every 10 s, "
                      f"~{60 / per:.0f} at one a minute. The browsers (Chromium, all processes): {browser_per:.3f} "
                      f"CPU-s per stroke, {browser_per / per:.1f}x the server's", flush=True)
            await browser.close()
    finally:
        if proc:
            proc.terminate()
            proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5,10,20,30", type=lambda s: [int(v) for v in s.split(",") if v])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--url", default=None, help="use this server (or proxy) instead of starting one")
    parser.add_argument("--no-train", action="store_true", help="no extra training session")
    parser.add_argument("--think", type=float, default=0.0,
                        help="seconds each student looks at the answer before clearing and drawing again")
    parser.add_argument("--browser-nice", type=int, default=0,
                        help="run the browsers at this nice level (19: they only get the CPU the server and training "
                             "leave, as if they ran on the students' own machines)")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
