"""docs/class_wall.jpg: the Class page at 1280x720 with twenty students' drawings on the wall.

    python tools/class_wall_shot.py [--out docs/class_wall.jpg]

Starts `streamlit run app.py` listening on every interface (as a classroom server does; its own $CNNVIZ_SHARED in
a temp folder), puts the first 20 real MNIST test digits on the wall as 20 students' drawings (answered by the
shipped tutorial_a, a few with nicknames), opens /class in Chromium over loopback (the teacher) and screenshots
the wall.
"""
from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from PIL import Image  # noqa: E402
from sessions import ARGS, IDLE, free_port, wait_healthy  # noqa: E402

from cnnviz import classwall  # noqa: E402
from tools.wall_feed import feed  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "class_wall.jpg")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        wall = classwall.folder(Path(tmp))
        classwall.start(wall)
        feed(wall, 20, names={0: "Ada", 4: "Grace", 9: "Alan"})
        port = free_port()
        proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                                 "--server.address", "0.0.0.0", "--server.headless", "true",
                                 "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env={**os.environ, "CNNVIZ_SHARED": tmp})
        try:
            wait_healthy(f"http://127.0.0.1:{port}", proc)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 720})
                page.set_default_timeout(120_000)
                page.goto(f"http://127.0.0.1:{port}/class")
                page.locator(".tile").nth(19).wait_for()
                page.wait_for_selector(IDLE)
                time.sleep(1.5)
                page.get_by_text("Target", exact=True).evaluate("e => e.scrollIntoView({block: 'start'})")
                time.sleep(0.5)
                shot = page.screenshot()
                browser.close()
        finally:
            proc.terminate()
            proc.wait(10)
    Image.open(io.BytesIO(shot)).convert("RGB").save(args.out, quality=85)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
