"""What presenter mode and link state cost per page run (server side): present() on the playground's real
figures, and decoding + encoding the playground's link. Prints medians and p95 with the machine's load.

    python bench/presenter_cost.py [repeats]
"""
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere: python bench/presenter_cost.py

from cnnviz import kernels, ops, pagestate, pictures  # noqa: E402
from cnnviz.figures import playground as figs  # noqa: E402
from cnnviz.figures.presenter import present  # noqa: E402
from cnnviz.urlstate import decode, encode  # noqa: E402
from tools.timing import median_p95_ms  # noqa: E402


def main(n: int = 50) -> None:
    photo = pictures.photo("camera")
    res = ops.run(photo, ops.Settings(ops.settings_kernel(kernels.KERNELS["sobel_x"])))
    ex = ops.explain_pixel(res.image, kernels.KERNELS["sobel_x"], 5, 5)
    figures = {"512x512 photo (JPEG image)": figs.picture(res.image, "Input", height=235),
               "3x3 kernel with numbers": figs.kernel_figure(kernels.KERNELS["sobel_x"], height=235),
               "patch x kernel = products": figs.explain_figure(ex, cell=43),
               "16x16 crop with numbers": figs.picture(photo[:16, :16], "crop", height=235)}
    print(f"uptime: {os.popen('uptime').read().strip()}")
    for name, fig in figures.items():
        med, p95 = median_p95_ms(lambda fig=fig: present(fig), n)
        print(f"present(), {name}: median {med:.2f} ms, p95 {p95:.2f} ms")
    schema = pagestate.playground()
    state = {"src": "Photo", "photo": "camera", "kernel": "sobel_x", "stride": 2, "pool": "max", "r": 5, "col": 7}
    query = encode(schema, state)
    med, p95 = median_p95_ms(lambda: decode(schema, encode(schema, state)), n * 20)
    print(f"playground link {query}: encode + decode median {med * 1000:.0f} µs, p95 {p95 * 1000:.0f} µs")
    print(f"uptime: {os.popen('uptime').read().strip()}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)
