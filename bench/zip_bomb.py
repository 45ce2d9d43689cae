"""What a dataset zip that passes every byte limit costs the server to import (*Make a dataset*, Import).

    python bench/zip_bomb.py [--classes 10] [--copies 500] [--side 5000] [--repeat 3] [--limit-s 600] [--code DIR]

Builds, in a temp folder, the zip of a reported attack: `--classes` class folders each holding `--copies` copies of a
1-bit `--side`x`--side` PNG (all black: 3 kB each, a few hundred kB zipped, far inside the 20 MB / 100 MB /
200:1 limits). Each repeat imports it with `cnnviz.ownzip.import_zip` in a fresh process (user data in a
temp folder) and prints what happened (refused, created, or stopped at `--limit-s`) and the CPU seconds and
wall seconds of the import itself (the process's start and imports not counted); then the medians and the
machine's load (`uptime`). `--code DIR` imports cnnviz from another checkout, e.g. the code before a fix:

    git archive <commit> | tar -x -C /tmp/before && python bench/zip_bomb.py --code /tmp/before --copies 50
"""
from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
CHILD = """
import json, os, sys, time
sys.path.insert(0, sys.argv[1])
from cnnviz import ownzip
blob = open(sys.argv[2], "rb").read()
print("READY", time.process_time(), flush=True)
cpu, wall = time.process_time(), time.monotonic()
try:
    ds, notes = ownzip.import_zip(blob)
    outcome = f"created '{ds.name}': {sum(ds.counts.values())} examples, {len(notes)} skipped"
except ValueError as err:
    outcome = f"refused: {err}"
print(json.dumps({"outcome": outcome, "cpu_s": time.process_time() - cpu, "wall_s": time.monotonic() - wall}))
"""


def bomb_zip(classes: int, copies: int, side: int) -> bytes:
    """`classes` folders x `copies` copies of one all-black 1-bit side x side PNG, deflated."""
    png = io.BytesIO()
    Image.new("1", (side, side)).save(png, format="PNG")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for k in range(classes):
            for i in range(copies):
                zf.writestr(f"bomb/c{k}/{i}.png", png.getvalue())
    return buf.getvalue()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a running process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_import(code: Path, zip_path: Path, limit_s: float) -> dict:
    """Import the zip in a fresh process; its outcome, CPU and wall seconds (a lower bound when stopped)."""
    with tempfile.TemporaryDirectory() as user:
        env = {**os.environ, "CNNVIZ_USER_DATA": user}
        proc = subprocess.Popen([sys.executable, "-c", CHILD, str(code), str(zip_path)], env=env, cwd=code,
                                stdout=subprocess.PIPE, text=True)
        ready = proc.stdout.readline().split()
        start_cpu, start = float(ready[1]), time.monotonic()
        try:
            out, _ = proc.communicate(timeout=limit_s)
            return json.loads(out.strip().splitlines()[-1])
        except subprocess.TimeoutExpired:
            cpu = cpu_seconds(proc.pid) - start_cpu
            proc.kill()
            proc.communicate()
            return {"outcome": f"still importing after {limit_s:.0f} s: stopped by the bench", "cpu_s": cpu,
                    "wall_s": time.monotonic() - start, "stopped": True}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--copies", type=int, default=500)
    ap.add_argument("--side", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--limit-s", type=float, default=600.0)
    ap.add_argument("--code", type=Path, default=ROOT, help="the checkout whose cnnviz is measured")
    args = ap.parse_args()
    blob = bomb_zip(args.classes, args.copies, args.side)
    declared = sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(blob)).infolist())
    print(f"zip: {args.classes} classes x {args.copies} copies of a 1-bit {args.side}x{args.side} PNG = "
          f"{args.classes * args.copies:,} pictures, {args.classes * args.copies * args.side ** 2 / 1e6:,.0f} "
          f"megapixels; {len(blob) / 1e3:,.0f} kB, {declared / 1e6:,.1f} MB declared "
          f"({declared / len(blob):.0f}:1); code: {args.code}")
    with tempfile.TemporaryDirectory() as tmp:
        zip_path = Path(tmp) / "bomb.zip"
        zip_path.write_bytes(blob)
        runs = []
        for i in range(args.repeat):
            runs.append(one_import(args.code, zip_path, args.limit_s))
            print(f"  run {i + 1}: {runs[-1]['cpu_s']:.2f} CPU-s, {runs[-1]['wall_s']:.2f} s wall: "
                  f"{runs[-1]['outcome'][:160]}", flush=True)
    print(f"median: {statistics.median(r['cpu_s'] for r in runs):.2f} CPU-s, "
          f"{statistics.median(r['wall_s'] for r in runs):.2f} s wall"
          + (" (a lower bound: stopped at the limit)" if any(r.get("stopped") for r in runs) else ""))
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
