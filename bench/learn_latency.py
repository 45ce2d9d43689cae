"""Server-side cost of *How it learns*: one step worked out by hand, and what the page builds from it.

For each model, real MNIST test digits (their own labels, and a wrong one) go through the page's path:
backprop.step (a copy of the model, the forward layer by layer, the backward by hand in float64, the update, the
answer after it), the shown lines (loss, p − y, the first layer's way back, the strongest weight's terms and
update) and the figures (p − y, one passage, the filter's gradient, the term maps, the kernel before / after, the
probabilities before / after). Separately: the "Take 10 more steps" button (backprop.steps, n=11, autograd).
The model is loaded once, as st.cache_resource does. Usage:

    python bench/learn_latency.py [--models tutorial_a conv32_64 ...] [--n 20]

Prints medians and p95 in ms and the load average (the 2 cores are shared: note it with the numbers).
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as app.py does, before torch starts its threads

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import streamlit.elements.plotly_chart  # noqa: E402,F401  # as in the app: Streamlit's plotly template

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cnnviz import backprop, backprop_lines, checkpoints, data  # noqa: E402
from cnnviz.figures import learn as figs  # noqa: E402

LABELS = tuple(str(d) for d in range(10))


def page_work(model, x, label: int, lr: float) -> tuple[float, float]:
    """(ms for the step, ms for the lines and figures the page builds from it)."""
    t0 = time.perf_counter()
    s = backprop.step(model, x, label, lr)
    t1 = time.perf_counter()
    name = "conv2.weight" if "conv2.weight" in s.grads else next(iter(s.grads))
    index = backprop.strongest(s, name)
    backprop_lines.loss_line(s), backprop_lines.output_rows(s), backprop_lines.after_line(s)
    backprop_lines.passage_lines(s, s.passages[0].layer)
    backprop_lines.weight_lines(s, name, index), backprop_lines.update_lines(s, name, index)
    figs.output_gradient(s, LABELS), figs.passage(s, s.passages[0].layer), figs.probabilities_change(s, LABELS)
    if s.grads[name].dim() == 4:
        figs.filter_gradient(s, name, index[0], index[1:])
        figs.term_maps(backprop.terms(s, name, index))
        figs.kernel_change(s, name, index[0])
    return 1e3 * (t1 - t0), 1e3 * (time.perf_counter() - t1)


def _q(values: list[float]) -> str:
    values = sorted(values)
    return f"{statistics.median(values):.1f} (p95 {values[int(0.95 * (len(values) - 1))]:.1f})"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", nargs="+", default=["tutorial_a", "lenet5", "conv32_64", "untrained wide_fc"])
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--lr", type=float, default=0.01)
    args = ap.parse_args()
    split = data.load("mnist", "test", download=False)
    print(f"load average before: {os.getloadavg()}")
    for choice in args.models:
        if choice.startswith(backprop.UNTRAINED):
            model = backprop.untrained(choice[len(backprop.UNTRAINED):])
        else:
            model = checkpoints.load(choice)[0]
        page_work(model, split.images[:1], 0, args.lr)  # warm-up
        steps, builds, more = [], [], []
        for i in range(args.n):
            x, truth = split.images[i:i + 1], int(split.labels[i])
            a, b = page_work(model, x, truth if i % 2 else (truth + 1) % 10, args.lr)
            steps.append(a)
            builds.append(b)
            if i < 5:
                t = time.perf_counter()
                backprop.steps(model, x, truth, args.lr, n=11)
                more.append(1e3 * (time.perf_counter() - t))
        print(f"{choice:20s} step {_q(steps)} ms | lines + figures {_q(builds)} ms | 11 more steps {_q(more)} ms")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
