"""What "what has this channel learned?" costs the server, per shipped model:

- top: units.strongest over the model's whole test set (all conv layers at once): what the first look at a
  channel costs a model without its cached units.safetensors (a user-trained one);
- cached: units.cached_strongest reading that file back (the fingerprint hashes the weights and the 10,000
  test images): what every later first look costs after a restart;
- dream: units.dream for one channel (200 steps), over several channels of conv1 and conv2.

    python bench/units_cost.py [--repeat 3] [--channels 4]

Prints medians (seconds) and the load average: the 2 cores are shared, note it with the numbers.
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as app.py does, before torch starts its threads

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cnnviz import checkpoints, data, units  # noqa: E402


def timed(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--channels", type=int, default=4, help="channels per conv layer to grow an input for")
    args = ap.parse_args()
    print(f"uptime: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}  "
          f"(torch threads {__import__('torch').get_num_threads()})")
    print(f"{'model':12} {'top (s)':>8} {'cached (s)':>10} {'dream conv1 (s)':>16} {'dream conv2 (s)':>16}")
    for name in checkpoints.available():
        if checkpoints.resolve(name).parent != checkpoints.SHIPPED:
            continue
        model, card = checkpoints.load(name)
        test = data.load(card.dataset, "test")
        top = timed(lambda m=model, t=test: units.strongest(m, t.images), args.repeat)
        cached = timed(lambda m=model, t=test, n=name: units.cached_strongest(n, m, t.images), args.repeat)
        norm = card.normalize
        dreams = []
        for layer in ("conv1", "conv2"):
            width = getattr(model, layer).out_channels
            picks = range(0, width, max(1, width // args.channels))[: args.channels]
            dreams.append(statistics.median(
                timed(lambda c=c, la=layer, m=model, n=norm: units.dream(m, la, c, n), 1) for c in picks))
        print(f"{name:12} {top:8.2f} {cached:10.2f} {dreams[0]:16.2f} {dreams[1]:16.2f}")
    print(f"uptime after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
