"""Server-side latency of one playground update on a 512x512 photo: the op plus every figure, serialised.

What a slider move costs before the browser draws: cnnviz.ops.run (conv, ReLU, pooling), the worked
pixel, the figures of the page and their JSON (what st.plotly_chart sends). Streamlit's cache is
bypassed, so every setting is a miss (the slow case). Usage:

    python bench/playground_latency.py [--photo astronaut] [--repeat 3]

Prints the median and p95 in ms over all settings. On a shared 2-core CPU, other work on the
machine shows up in the p95: note the load when you report a number.
"""
from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import time
from pathlib import Path

import plotly.io as pio
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cnnviz import kernels, ops, pictures  # noqa: E402
from cnnviz.figures import playground as figs  # noqa: E402

ZOOM = 2  # as app_pages/playground.py


def step(res: ops.Result, s: ops.Settings) -> list:
    """The step-through fragment (what moving the output-position sliders re-runs): zoomed views + the sums."""
    r, c = res.conv.shape[0] // 2, res.conv.shape[1] // 2
    ex = ops.explain_pixel(res.image, s.kernel_array, r, c, s.stride, s.padding, s.dilation)
    return [figs.picture(res.image, "window", s.padding, ex.window, 340, ZOOM),
            figs.picture(res.conv, "pixel", 0, ops.window(res.conv.shape, r, c, 1), 340, ZOOM),
            figs.explain_figure(ex)]


def update(image, s: ops.Settings) -> int:
    """One page update without Streamlit: compute, build the page's figures, serialise them; returns bytes sent."""
    res = ops.run(image, s)
    fig_list = [figs.picture(res.image, "Input", s.padding), figs.kernel_figure(s.kernel_array),
                figs.picture(res.conv, "Convolution output")]
    if res.channels is not None:
        fig_list.append(figs.channels_figure(res.channels))
    if res.activated is not None:
        fig_list.append(figs.picture(res.activated, "ReLU"))
    if res.pooled is not None:
        fig_list.append(figs.picture(res.pooled, "pooled"))
    return sum(len(pio.to_json(f, validate=False)) for f in fig_list + step(res, s))


def _stats(times: list[float]) -> str:
    times = sorted(times)
    p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
    return f"median {statistics.median(times):.1f} ms, p95 {p95:.1f} ms, max {times[-1]:.1f} ms"


def settings_grid() -> list[ops.Settings]:
    """Kernels x stride x padding x (grey / RGB) x (plain / ReLU + max pool)."""
    grid = []
    for name, stride, pad, rgb, block in itertools.product(
            ("outline", "sobel_x", "gaussian_5x5", "sharpen", "box_blur_5x5"), (1, 2), ("valid", "same"),
            (False, True), (False, True)):
        k = kernels.KERNELS[name]
        grid.append(ops.Settings(ops.settings_kernel(k), stride, ops.resolve_padding(pad, k.shape[0]), 1, rgb,
                                 True, block, "max" if block else None, 2))
    return grid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photo", default="astronaut", choices=pictures.PHOTOS)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    image = pictures.photo(args.photo)
    grid = settings_grid()
    update(image, grid[0])  # warm up: imports, allocator, plotly validators
    times, sent, steps = [], [], []
    for _ in range(args.repeat):
        for s in grid:
            t0 = time.perf_counter()
            sent.append(update(image, s))
            times.append((time.perf_counter() - t0) * 1000)
            res = ops.run(image, s)  # the page caches this; the step-through re-runs only the fragment
            t0 = time.perf_counter()
            [pio.to_json(f, validate=False) for f in step(res, s)]
            steps.append((time.perf_counter() - t0) * 1000)
    print(f"photo {args.photo} {pictures.describe(image)}; {len(grid)} settings x {args.repeat}; "
          f"torch threads {torch.get_num_threads()}; load avg before/after "
          f"{load:.2f}/{os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"full update (cache miss): {_stats(times)}; figures JSON median {statistics.median(sent) / 1e6:.2f} MB")
    print(f"step-through move (fragment): {_stats(steps)}")

if __name__ == "__main__":
    main()
