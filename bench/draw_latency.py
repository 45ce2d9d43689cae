"""Server-side latency of the draw page: canvas image -> everything ready to show.

Real MNIST test digits are rendered as 280x280 RGBA canvas images (as the brush draws them: white,
opaque, binarised strokes, at varied sizes and places). Each goes through the page's path:
preprocess.to_mnist -> probe.look (one forward with every layer's activations and the verdict; the
saliency waits for the page's "Why" switch) -> the preprocessing strip (inline PNGs) and figures
(probabilities, the overview, one explained unit). Streamlit's caches are not involved (the model is loaded once,
as st.cache_resource does). Streamlit's plotly module is imported, as in the app, because it makes
its small template plotly's default (figure construction copies the default template). Usage:

    python bench/draw_latency.py [--checkpoint tutorial_a] [--n 300] [--json] [--threads 1]

Prints the median and p95 in ms, total and per stage. `--json` also times what st.plotly_chart does
next (plotly.io.to_json of every figure), reported separately. The CPU is shared with other work
on this machine: note the load average printed with the numbers. On a busy 2-core machine,
OpenMP's default spin-waiting makes torch's 2 threads fight the other processes (measured here at
load ~6: forward 147 ms median with the defaults, 2.2 ms with OMP_WAIT_POLICY=PASSIVE or --threads 1);
compare `OMP_WAIT_POLICY=PASSIVE python bench/draw_latency.py` with the plain run.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import plotly.io as pio
import streamlit.elements.plotly_chart  # noqa: F401  # as in the app: plotly's default template becomes Streamlit's
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cnnviz import checkpoints, data, explain, preprocess, probe  # noqa: E402
from cnnviz.figures import draw as figs  # noqa: E402
from cnnviz.figures import inline, overview  # noqa: E402


def canvases(n: int, seed: int = 0) -> list[np.ndarray]:
    """n MNIST test digits drawn on 280x280 canvases: scale 3-10, anywhere on the canvas, some thick."""
    split = data.load("mnist", "test", download=False)
    rng = np.random.default_rng(seed)
    out = []
    for i in rng.choice(len(split), size=n, replace=False):
        scale = float(rng.uniform(3, 10))
        room = max(0, 280 - round(28 * scale))
        top, left = (int(v) for v in rng.integers(0, room + 1, size=2))
        out.append(preprocess.render_canvas(split.raw(int(i))[0].numpy(), scale, top, left,
                                            thicken=int(rng.integers(0, 4))))
    return out


STAGES = ["preprocess", "forward+activations, strip, bars", "overview figure", "explained unit + its figures",
          "TOTAL (what a stroke costs)"]


def update(model, card, canvas: np.ndarray) -> tuple[list, list[float]]:
    """One page update without Streamlit, as the page does it by default; the figures and the stage times in ms.

    The default page: answer, probabilities, steps, the one-figure overview, and the explanation of
    the last conv stage's most active unit (arithmetic, enlarged map, patch figures, receptive field).
    The per-layer detail view and the saliency are behind a switch / an expander (not timed here).
    """
    t0 = time.perf_counter()
    prepared = preprocess.to_mnist(canvas, card.normalize)
    t1 = time.perf_counter()
    look = probe.look(model, prepared.tensor, probe.class_labels(card))
    verdict = look.inspection.verdict
    inline.picture_row(prepared.steps, height_px=84)  # the page's preprocessing strip: HTML, not a figure
    fig_list = [figs.probabilities(look.inspection.probs, verdict.labels, verdict.index)]
    t2 = time.perf_counter()
    stages = explain.stages(look.spec)
    overview.overview(look, prepared.pixels, stages)  # the overview's pictures: PNGs in a payload, not a figure
    t3 = time.perf_counter()
    fig_list += _explained(model, prepared, look, stages)
    t4 = time.perf_counter()
    return fig_list, [(t1 - t0) * 1e3, (t2 - t1) * 1e3, (t3 - t2) * 1e3, (t4 - t3) * 1e3, (t4 - t0) * 1e3]


def _explained(model, prepared, look, stages) -> list:
    """The page's default explanation: the last conv stage's most active map at its strongest pixel."""
    acts = look.inspection.activations
    k = [i for i, s in enumerate(stages) if s.type == "conv"][-1]
    out = acts[stages[k].shown][0]
    c = int(out.mean(dim=(1, 2)).argmax())
    r, col = divmod(int(out[c].argmax()), out.shape[2])
    e = explain.unit(model, prepared.tensor, acts, stages[k].layer, (c, r, col))
    field = explain.receptive_field(look.spec, stages[k].layer, r, col)
    return [figs.pick_map(out[c].numpy(), "map", (r, col)), figs.conv_arithmetic(e),
            figs.source_window(acts[e.source][0].numpy() if e.source != "input" else prepared.pixels, e, "src"),
            figs.receptive(prepared.pixels, field, prepared.steps[0][1], (0, 10, 0, 10))]


def p95(values: list[float]) -> float:
    return float(np.percentile(values, 95))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default="tutorial_a")
    parser.add_argument("--n", type=int, default=300, help="number of MNIST test digits")
    parser.add_argument("--json", action="store_true", help="also time plotly.io.to_json of every figure")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's own choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    model, card = checkpoints.load(args.checkpoint)
    images = canvases(args.n)
    for canvas in images[:20]:  # warm-up: first calls allocate
        update(model, card, canvas)
    times, json_ms, sizes = [], [], []
    for canvas in images:
        fig_list, t = update(model, card, canvas)
        times.append(t)
        if args.json:
            t0 = time.perf_counter()
            sizes.append(sum(len(pio.to_json(f, validate=False)) for f in fig_list))
            json_ms.append((time.perf_counter() - t0) * 1e3)
    print(f"draw path, {args.checkpoint}, {len(images)} MNIST test digits as 280x280 canvases, "
          f"torch threads {torch.get_num_threads()}, OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')}, "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(f"  uptime: {os.popen('uptime').read().strip()}")
    for k, stage in enumerate(STAGES):
        column = [t[k] for t in times]
        print(f"  {stage:30s} median {statistics.median(column):6.2f} ms   p95 {p95(column):6.2f} ms")
    if args.json:
        print(f"  {'(+ to_json, as st.plotly_chart)':30s} median {statistics.median(json_ms):6.2f} ms   "
              f"p95 {p95(json_ms):6.2f} ms   {statistics.median(sizes) / 1024:.0f} KiB per update")


if __name__ == "__main__":
    main()
