"""Does a round of big uploads raise the server's memory for good?

    python bench/upload_memory.py [--sessions 50] [--rounds 2] [--mb 19] [--batch 10] [--settle 150]

Starts `streamlit run app.py` on a free port in 8600-8699 and prints the server's resident memory (RSS):
before, after each round (N Chromium sessions each open *Draw a digit*, pick *Upload a picture* and upload
one noise PNG of about `--mb` MB, which the page decodes and prepares), then after every tab has closed and
`--settle` seconds have passed (Streamlit keeps a closed tab's session, and its uploaded files, for
server.disconnectedSessionTTL = 120 s, so a reconnecting phone loses nothing). Prints the load (`uptime`).
"""
from __future__ import annotations

import argparse
import asyncio
import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sessions import ARGS, IDLE, free_port, rss_bytes, serve  # noqa: E402

MiB = 2 ** 20


def noise_png(mb: float, seed: int = 0) -> bytes:
    """An RGB PNG of random noise of about `mb` MB (noise does not compress)."""
    side = int((mb * 1e6 / 3) ** 0.5)
    pixels = np.random.default_rng(seed).integers(0, 256, (side, side, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


async def one_upload(browser, url: str, path: str) -> str | None:
    """One session: Draw -> Upload a picture -> the file; None when the page took it, else what went wrong."""
    ctx = await browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        page = await ctx.new_page()
        page.set_default_timeout(180_000)
        await page.goto(f"{url}/draw")
        await page.wait_for_selector(IDLE)
        await page.get_by_text("Upload a picture").click()
        await page.wait_for_selector("[data-testid='stFileUploaderDropzoneInput']", state="attached")
        await page.set_input_files("[data-testid='stFileUploaderDropzoneInput']", path)
        await page.wait_for_selector("[data-testid='stFileChip']")
        await page.wait_for_timeout(500)
        await page.wait_for_selector(IDLE)
        if await page.locator("[data-testid='stException']").count():
            return "exception on the page"
        return None
    except Exception as err:  # noqa: BLE001 - a bench reports, it does not stop
        return type(err).__name__
    finally:
        await ctx.close()


async def upload_round(url: str, path: str, sessions: int, batch: int) -> list[str]:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        errors = []
        for start in range(0, sessions, batch):
            done = await asyncio.gather(*(one_upload(browser, url, path)
                                          for _ in range(min(batch, sessions - start))))
            errors += [e for e in done if e]
        await browser.close()
    return errors


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--mb", type=float, default=19)
    ap.add_argument("--batch", type=int, default=10)
    ap.add_argument("--settle", type=float, default=150)
    args = ap.parse_args()
    port = free_port()
    proc = serve(port)
    url = f"http://127.0.0.1:{port}"
    try:
        with tempfile.NamedTemporaryFile(suffix=".png", delete=False) as f:
            f.write(noise_png(args.mb))
        print(f"picture: {os.path.getsize(f.name) / 1e6:.1f} MB; {args.sessions} sessions a round, "
              f"{args.batch} at once", flush=True)
        asyncio.run(upload_round(url, f.name, 1, 1))  # the page and its modules loaded once
        print(f"before:                 RSS {rss_bytes(proc.pid) / MiB:6.0f} MiB", flush=True)
        for r in range(args.rounds):
            t0 = time.time()
            errors = asyncio.run(upload_round(url, f.name, args.sessions, args.batch))
            print(f"after round {r + 1} ({time.time() - t0:4.0f} s): RSS {rss_bytes(proc.pid) / MiB:6.0f} MiB, "
                  f"{len(errors)} errors {sorted(set(errors))}", flush=True)
        for waited in range(0, int(args.settle) + 1, 30):
            print(f"tabs closed {waited:3d} s:     RSS {rss_bytes(proc.pid) / MiB:6.0f} MiB", flush=True)
            time.sleep(30 if waited + 30 <= args.settle else 0)
        os.unlink(f.name)
        print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
