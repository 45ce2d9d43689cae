"""A class of N students on one server, with their browsers elsewhere: the server's own share of the wait.

    python bench/class_load.py [--sizes 5,10,20,30] [--seconds 60] [--think 5] [--no-train]

In a classroom each student's browser runs on the student's own machine; only the server runs on the teacher's
laptop. On this 2-core machine N real Chromium sessions (bench/sessions.py) load the cores far more than the
server does, so this bench takes the browsers out: it opens the Draw page once in Chromium, records the
websocket messages the page sends (the first run, a stroke, the canvas cleared), closes that browser, then
replays those very messages from N websocket clients (one Streamlit session each) that clear, draw, wait for
the answer, and look at it for `--think` seconds, for `--seconds`. Meanwhile one real Chromium tab (the
teacher's projector) keeps a training run going on *Train a CNN*, polling its live view, as a class would see.

Prints per N: errors, answers, stroke -> answer (the message carrying the prediction) and stroke -> rerun
finished, p50 / p95, the server's CPU per answer, its peak RSS, and the load average (`uptime`). Starts
`streamlit run app.py` on a free port in 8600-8699.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sessions import ANSWER, ARGS, CANVAS, IDLE, RESET, cpu_seconds, free_port, pct, rss_bytes, serve, stroke, trainer  # noqa: E402


async def record(browser, url: str) -> list[bytes]:
    """The Draw page's websocket messages from Chromium: [first run, a stroke, the canvas cleared]."""
    ctx = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await ctx.new_page()
    page.set_default_timeout(120_000)
    sent: list[bytes] = []
    cdp = await ctx.new_cdp_session(page)
    cdp.on("Network.webSocketFrameSent", lambda e: sent.append(
        base64.b64decode(e["response"]["payloadData"]) if e["response"]["opcode"] == 2
        else e["response"]["payloadData"].encode()))
    await cdp.send("Network.enable")
    await page.goto(f"{url}/draw")
    await page.wait_for_selector(CANVAS)
    await page.wait_for_selector(IDLE)
    first = list(sent)
    await stroke(page, 1)
    await page.wait_for_selector(ANSWER)
    await page.wait_for_selector(IDLE)
    drawn = sent[len(first):]
    await page.locator(RESET).click()
    await page.wait_for_selector(ANSWER, state="detached")
    await page.wait_for_selector(IDLE)
    cleared = sent[len(first) + len(drawn):]
    await ctx.close()
    if len(first) != 1 or len(drawn) != 1 or len(cleared) != 1:
        raise SystemExit(f"unexpected messages: {len(first)} to open, {len(drawn)} per stroke, {len(cleared)} to clear")
    return [first[0], drawn[0], cleared[0]]


def kinds(raw: bytes) -> tuple[str, bool]:
    """(the ForwardMsg's type, whether it carries the answer: the st.metric with the predicted class)."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    msg = ForwardMsg()
    msg.ParseFromString(raw)
    kind = msg.WhichOneof("type")
    answer = (kind == "delta" and msg.delta.WhichOneof("type") == "new_element"
              and msg.delta.new_element.WhichOneof("type") == "metric")
    return kind, answer


async def rerun(ws, message: bytes, timeout: float = 120.0) -> tuple[float | None, float]:
    """Send one rerun; (seconds to the answer or None, seconds to script_finished)."""
    t0, answered = time.monotonic(), None
    await ws.send(message)
    while True:
        raw = await asyncio.wait_for(ws.recv(), timeout)
        kind, answer = kinds(raw if isinstance(raw, bytes) else raw.encode())
        if answer and answered is None:
            answered = time.monotonic() - t0
        if kind == "script_finished":
            return answered, time.monotonic() - t0


async def student(url: str, messages: list[bytes], seconds: float, think: float, stats: dict,
                  rng: random.Random | None = None) -> None:
    """One student's session: open Draw, then draw / wait for the answer / look / clear until the time is up.

    With `rng` the students are not in step: each starts at a random moment within one think time and looks
    at each answer for 0.5 to 1.5 think times. Without it, every student draws at the same moment ("now
    everyone draw a 7!") and looks for exactly `think` s: the class in lockstep, the worst case.
    """
    from websockets.asyncio.client import connect  # streamlit's own dependency

    ws = None
    try:
        ws = await connect(url.replace("http", "ws", 1) + "/_stcore/stream", max_size=64 * 2**20)
        await rerun(ws, messages[0])
        stats["ready"] += 1
        while stats["ready"] < stats["n"]:  # everyone in before the clock starts: page loads are not strokes
            await asyncio.sleep(0.05)
        end = time.monotonic() + seconds
        if rng is not None:
            await asyncio.sleep(rng.uniform(0, think))
        while time.monotonic() < end:
            answered, finished = await rerun(ws, messages[1])
            if answered is None:
                stats["errors"].append("a stroke got no answer")
            else:
                stats["answer"].append(answered)
            stats["finished"].append(finished)
            await asyncio.sleep(think * (rng.uniform(0.5, 1.5) if rng is not None else 1.0))
            await rerun(ws, messages[2])
    except Exception as err:  # a timeout or a lost connection: counted, the others go on
        stats["errors"].append(f"{type(err).__name__}: {str(err).splitlines()[0][:120] if str(err) else ''}")
    finally:
        if ws is not None:
            await ws.close()


async def phase(browser, url: str, messages: list[bytes], n: int, args, pid: int) -> dict:
    """N students (+ the training tab) for `seconds`."""
    stats = {"n": n, "ready": 0, "answer": [], "finished": [], "errors": [], "runs": 0, "peak_rss": 0}
    stop = asyncio.Event()
    coach = asyncio.create_task(trainer(browser, url, stop, stats)) if args.train else None  # the teacher's tab
    if coach:
        await asyncio.sleep(5)  # the run has started: the class draws while it trains
    jobs = [asyncio.create_task(student(url, messages, args.seconds, args.think, stats,
                                        None if args.lockstep else random.Random(i))) for i in range(n)]
    while stats["ready"] < n and not all(j.done() for j in jobs):
        await asyncio.sleep(0.05)
    cpu0, answers0 = cpu_seconds(pid), len(stats["finished"])
    while not all(j.done() for j in jobs):
        stats["peak_rss"] = max(stats["peak_rss"], rss_bytes(pid))
        await asyncio.sleep(0.5)
    stats["cpu"], stats["answers"] = cpu_seconds(pid) - cpu0, len(stats["finished"]) - answers0
    stats["load"] = os.popen("uptime").read().strip()
    stop.set()
    if coach:
        await coach
    return stats


def report(n: int, s: dict, args) -> None:
    a, f = [v * 1000 for v in s["answer"]], [v * 1000 for v in s["finished"]]
    line = (f"N={n:>2}{' +1 training' if args.train else ''}, {'lockstep' if args.lockstep else 'not in step'}, "
            f"think {args.think:g} s: "
            f"{len(s['errors'])} errors, {len(a)} answers")
    if a:
        line += (f", stroke->answer p50 {statistics.median(a):.0f} ms p95 {pct(a, 0.95):.0f} ms, rerun finished p50 "
                 f"{statistics.median(f):.0f} ms p95 {pct(f, 0.95):.0f} ms, "
                 f"server CPU {s['cpu'] / max(1, s['answers']):.3f} "
                 f"CPU-s per answer (+ its clear), peak RSS {s['peak_rss'] / 2**20:.0f} MiB")
    print(line + f"; {s['load']}", flush=True)
    for e in sorted(set(s["errors"]))[:5]:
        print(f"    {s['errors'].count(e)} x {e}", flush=True)


async def main_async(args) -> None:
    from playwright.async_api import async_playwright

    port = free_port()
    proc = serve(port)
    url = f"http://127.0.0.1:{port}"
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            messages = await record(browser, url)
            print(f"recorded the Draw page's messages: {', '.join(f'{len(m):,} B' for m in messages)} "
                  f"(open, stroke, clear)", flush=True)
            for n in args.sizes:
                report(n, await phase(browser, url, messages, n, args, proc.pid), args)
            await browser.close()
    finally:
        proc.terminate()
        proc.wait(30)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="5,10,20,30", type=lambda s: [int(v) for v in s.split(",") if v])
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--think", type=float, default=5.0, help="seconds a student looks at the answer before clearing")
    p.add_argument("--no-train", dest="train", action="store_false", help="no training run meanwhile")
    p.add_argument("--lockstep", action="store_true",
                   help="every student draws at the same moment and looks exactly --think s (the worst case)")
    asyncio.run(main_async(p.parse_args()))


if __name__ == "__main__":
    main()
