"""What lessons and the builder cost: the library's work on the biggest lesson allowed, and a rerun of the
calculator with a lesson step on the page (its bar, a hidden part) against the same rerun without one.

    python bench/lesson_cost.py [--n 30]

Library: a 50-step draft written as TOML and read back (lessonbuild.to_toml + lessons.parse), the shipped
lesson loaded, and the refusals an upload can ask for (40,000-deep brackets, 100 kB + 1). App: AppTest reruns of
app.py on the calculator (the script's own time, no browser), alternating with and without `?lesson=`.
Prints medians (and p90) in milliseconds, and `uptime` (the machine is shared: read the load beside them).
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cnnviz import checkpoints, lessonbuild, lessons  # noqa: E402


def _ms(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def _say(label: str, times: list[float]) -> None:
    p90 = sorted(times)[int(0.9 * (len(times) - 1))]
    print(f"{label:58s} median {statistics.median(times):8.2f} ms   p90 {p90:8.2f} ms   (n={len(times)})")


def library(n: int) -> None:
    models = checkpoints.available()
    step = lessonbuild.capture("playground", {"kernel": "sobel_x"}, "q" * 700, "a" * 800, None, models)
    draft = lessonbuild.Draft("big", (step,) * lessons.MAX_STEPS)
    text = lessonbuild.to_toml(draft)
    print(f"a 50-step draft, 700 + 800-character texts: {len(text.encode()):,} bytes (limit {lessons.MAX_BYTES:,})")
    _say("to_toml, 50 steps", _ms(lambda: lessonbuild.to_toml(draft), n))
    _say("lessons.parse of it (every step's state checked)", _ms(lambda: lessons.parse(text, "big.toml", models), n))
    _say("load the shipped lesson (7 steps)", _ms(lambda: lessons.load("cnn_tutorial", models=models), n))
    deep = b"[" * 50_000 + b"]" * 50_000

    def refuse(data: bytes) -> None:
        try:
            lessonbuild.read_upload(data, "x.json", models)
        except lessons.LessonError:
            return
        raise AssertionError("not refused")
    _say("upload refused: 50,000-deep brackets (100 kB)", _ms(lambda: refuse(deep), n))
    _say("upload refused: 100,001 bytes", _ms(lambda: refuse(b"#" * 100_001), n))


def app(n: int) -> None:
    from streamlit.testing.v1 import AppTest

    def rerun(query: dict) -> float:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.query_params.update(query)
        at.run()
        t = time.perf_counter()
        at.run()  # a rerun: the lesson is open, its step's part hidden
        return (time.perf_counter() - t) * 1000
    plain, step = [], []
    for _ in range(n):
        plain.append(rerun({"w": "28", "k": "5"}))
        step.append(rerun({"lesson": "cnn_tutorial", "step": "1"}))
    _say("calculator rerun, no lesson (AppTest)", plain)
    _say("calculator rerun, lesson step 1: bar + output hidden", step)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=30)
    args = parser.parse_args()
    library(args.n)
    app(max(5, args.n // 3))
    print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
