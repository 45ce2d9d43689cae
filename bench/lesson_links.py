"""Lesson links under load: how many open without their step (a Streamlit race, app_pages/shell/rerun_guard.py).

    python bench/lesson_links.py [--n 30] [--burn 3] [--root ../wt-before]

Opens the shipped lesson's links (steps 1, 4 and 2, as tests/test_browser_lessons.py does) in one tab, one after
another, presses Reveal, and counts the links whose page, a few seconds later, has lost its ?lesson= or its
question bar. --burn N runs N busy Python loops meanwhile (a classroom laptop also training and drawing: the race
needs a slow first run). Prints the count and the load (`uptime`); never a pass/fail. --root serves another checkout
(before/after, the same way).

Measured (load 8-12 with --burn 3): before rerun_guard and the quieter width reporter, 1 of 24, 1 of 30, 1 of 36
links lost their step (and 4-8 sessions per run had their lesson picker reset to "(none)" by the browser);
after, 0 of 45 with the guard alone, 0 of 30 with both.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tools.browser import CHROMIUM, CHROMIUM_ARGS, app_command, free_port, settle, stop, wait_healthy  # noqa: E402

LINKS = ("/?lesson=cnn_tutorial&step=1&present=1", "/playground?lesson=cnn_tutorial&step=4&present=1",
         "/?lesson=cnn_tutorial&step=2&present=0")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=30, help="links opened")
    ap.add_argument("--burn", type=int, default=0, help="busy loops running meanwhile")
    ap.add_argument("--root", type=Path, default=ROOT, help="the checkout to serve")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.burn)]
    port = free_port()
    proc = subprocess.Popen(app_command(port), cwd=args.root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url, lost = f"http://127.0.0.1:{port}", []
    print(f"uptime before: {os.getloadavg()[0]:.2f}", flush=True)
    try:
        wait_healthy(url, proc, timeout=180)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context = page = None
            for i in range(args.n):
                if i % len(LINKS) == 0:  # a fresh tab now and then, as a class's browsers come and go
                    if context is not None:
                        context.close()
                    context = browser.new_context(viewport={"width": 1280, "height": 720})
                    page = context.new_page()
                link = LINKS[i % len(LINKS)]
                page.goto(url + link)
                settle(page)
                page.wait_for_timeout(2500)  # the width report, the calculator's timing: later reruns
                if "lesson=" not in page.url or page.locator(".st-key-lesson_bar").count() == 0:
                    lost.append(f"{link} -> {page.url}")
                reveal = page.get_by_role("button", name="Reveal the answer")
                if reveal.count():
                    reveal.click()
                    settle(page)
            browser.close()
    finally:
        stop(proc)
        for burner in burners:
            burner.kill()
    for line in lost:
        print("lost its step:", line)
    print(f"{len(lost)} of {args.n} lesson links lost their step; load after: "
          + " ".join(f"{v:.2f}" for v in os.getloadavg()), flush=True)


if __name__ == "__main__":
    main()
