"""Write units.safetensors (what each conv channel's strongest test images are) into every shipped
checkpoint, so no page computes it or writes into the repository. Run after retraining a shipped model:

    CNNVIZ_DATA=/path/to/datasets python tools/units_cache.py
"""
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cnnviz import checkpoints, data, units  # noqa: E402

for name in checkpoints.available():
    folder = checkpoints.resolve(name)
    if folder.parent != checkpoints.SHIPPED:
        continue
    model, card = checkpoints.load(name)
    test = data.load(card.dataset, "test")
    start = time.perf_counter()
    units.cached_strongest(name, model, test.images)
    print(f"{name}: {time.perf_counter() - start:.2f} s")
