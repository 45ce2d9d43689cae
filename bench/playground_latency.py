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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cnnviz import kernels, ops, pictures  # noqa: E402
from cnnviz.figures import playground as figs  # noqa: E402


def update(image, s: ops.Settings) -> int:
    """One page update without Streamlit: compute, build the figures, serialise them; returns bytes sent."""
    res = ops.run(image, s)
    fig_list = [figs.picture(res.image, "Input", s.padding), figs.kernel_figure(s.kernel_array),
                figs.picture(res.conv, "Convolution output")]
    if res.channels is not None:
        fig_list.append(figs.channels_figure(res.channels))
    if res.pooled is not None:
        fig_list.append(figs.picture(res.pooled, "pooled"))
    r, c = res.conv.shape[0] // 2, res.conv.shape[1] // 2
    ex = ops.explain_pixel(res.image, s.kernel_array, r, c, s.stride, s.padding, s.dilation)
    fig_list += [figs.picture(res.image, "window", s.padding, ex.window),
                 figs.picture(res.conv, "pixel", 0, ops.window(res.conv.shape, r, c, 1)), figs.explain_figure(ex)]
    return sum(len(pio.to_json(f, validate=False)) for f in fig_list)


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
    image = pictures.photo(args.photo)
    grid = settings_grid()
    update(image, grid[0])  # warm up: imports, allocator, plotly validators
    times, sent = [], []
    for _ in range(args.repeat):
        for s in grid:
            t0 = time.perf_counter()
            sent.append(update(image, s))
            times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
    print(f"photo {args.photo} {pictures.describe(image)}; {len(grid)} settings x {args.repeat}; "
          f"torch threads {__import__('torch').get_num_threads()}; load avg {os.getloadavg()[0]:.2f}")
    print(f"server-side update: median {statistics.median(times):.1f} ms, p95 {p95:.1f} ms, "
          f"max {times[-1]:.1f} ms; figures JSON median {statistics.median(sent) / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
