"""What the browser tests (tests/conftest.py) and the browser benches (bench/*.py) share: how the real app is
started and awaited, Chromium's flags, the selectors of an idle page and the canvas, and one brush stroke.

Both import it from the repository root (`python -m pytest` and the bench scripts put it on sys.path).
"""
from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"  # Debian's Chromium, driven by Playwright (no browser download)
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"  # the script has finished its run
CANVAS = "canvas.upper-canvas"  # the drawable canvas's layer that takes the mouse (no iframe)


def settle(page, pause_ms: int = 300, timeout_ms: int = 120_000) -> None:
    """The script idle, then idle still after `pause_ms` (a rerun the last one asked for has started by then)."""
    page.wait_for_selector(IDLE, timeout=timeout_ms)
    page.wait_for_timeout(pause_ms)
    page.wait_for_selector(IDLE, timeout=timeout_ms)


def free_port() -> int:
    """A localhost port free now (the system picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_command(port: int, address: str = "127.0.0.1") -> list[str]:
    """`streamlit run app.py` on address:port, headless, no usage statistics, no file watcher."""
    return [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
            "--server.address", address, "--server.headless", "true",
            "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]


def wait_healthy(url: str, proc: subprocess.Popen | None = None, timeout: float = 120) -> None:
    """Until the server's /_stcore/health answers ok; RuntimeError when it exits or never does."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.read().decode().strip() == "ok":
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not become healthy within {timeout:g} s")


def stop(proc: subprocess.Popen, timeout: float = 10) -> None:
    """End a server: terminate, then kill if it has not exited after `timeout` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()


def stroke(page, points: list[tuple[float, float]], steps: int = 3) -> None:
    """Press, drag through `points` (fractions of the canvas), release: one brush stroke on the canvas."""
    box = page.locator(CANVAS).first.bounding_box()
    xy = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in points]
    page.mouse.move(*xy[0])
    page.mouse.down()
    for x, y in xy[1:]:
        page.mouse.move(x, y, steps=steps)
    page.mouse.up()
