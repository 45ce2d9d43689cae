"""cnnviz.warmup: the heavy imports are frozen out of the garbage collector's sight, once per process."""
import subprocess
import sys

import pytest

CHECK = """
import gc, time
from cnnviz import warmup
assert gc.get_freeze_count() == 0
assert warmup.freeze_imports() is True
frozen = gc.get_freeze_count()
assert frozen > 50_000, frozen            # torch + plotly + pandas: hundreds of thousands of objects
assert warmup.freeze_imports() is False   # a second call (every rerun of app.py) does nothing
assert gc.get_freeze_count() == frozen
t = time.perf_counter(); gc.collect(2); full = time.perf_counter() - t
print(full)
"""


@pytest.mark.slow
def test_freeze_imports_once_and_collections_skip_the_frozen():
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert float(out.stdout) < 1.0  # what is left to walk is small; a sanity bound, not a benchmark


SOON = """
import gc, threading, time
from cnnviz import warmup
assert warmup.freeze_imports_soon(("json",)) is True
assert warmup.freeze_imports_soon(("json",)) is False   # every rerun of app.py asks again: one thread
deadline = time.monotonic() + 120
while gc.get_freeze_count() == 0 and time.monotonic() < deadline:
    time.sleep(0.05)
assert gc.get_freeze_count() > 0 and warmup.freeze_imports() is False
print([t.name for t in threading.enumerate()])
"""


def test_freeze_imports_soon_does_it_once_in_the_background():
    out = subprocess.run([sys.executable, "-c", SOON], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr


AFTER_A_STEP = """
import gc
from cnnviz import warmup
warmup.freeze_imports()
from cnnviz import trainstep
from cnnviz.arch import PRESETS
from cnnviz.trainconfig import TrainConfig
trainstep.step_runner(PRESETS["tutorial_a"], TrainConfig(), 10, 8)(1)  # what the calculator's time estimate runs
print(len(gc.get_objects()))
"""


@pytest.mark.slow
def test_what_torch_imports_on_first_use_is_frozen_too():
    """What a training step imports on first use (torch._refs; torch._dynamo and sympy, ~135,000 objects, until
    cnnviz.lazydynamo): imported after the freeze, every rerun's collection walked them again."""
    out = subprocess.run([sys.executable, "-c", AFTER_A_STEP], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) < 20_000
