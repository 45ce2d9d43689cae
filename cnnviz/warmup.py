"""Load the heavy libraries once per server process and move what they allocated out of the garbage collector's sight.

Streamlit runs `gc.collect(2)` after every script run (`runner.postScriptGC`). With torch, plotly and pandas
loaded that full collection walks every long-lived object they made: more GIL-holding CPU per rerun than the
whole Draw page costs (a stroke is two reruns: the canvas's reset and the stroke; bench/gc_freeze.py, numbers in
docs/performance.md). `gc.freeze()` puts the objects alive after import into the permanent
generation, so each collection only walks what the runs since created (microseconds). Garbage
made by the pages is still collected as before; only import-time objects, which live as long as the
process anyway, are skipped.
"""
from __future__ import annotations

import gc
import importlib
import threading

HEAVY = ("torch", "numpy", "pandas", "plotly.graph_objects", "PIL.Image",
         "cnnviz.arch", "cnnviz.checkpoints", "cnnviz.probe", "cnnviz.explain", "cnnviz.figures.draw",
         "cnnviz.figures.common", "cnnviz.figures.network", "cnnviz.figures.playground",
         "cnnviz.figures.training", "cnnviz.preprocess", "cnnviz.dims", "cnnviz.ops", "cnnviz.train",
         # what torch imports on first use (torch._refs). Once torchvision went lazy, nothing imported it before
         # the freeze, and every rerun's collection walked it again (bench/interactions.py: calculator 267 -> 588 ms).
         # sympy (~135,000 objects) is no longer imported at all: not by an optimizer (cnnviz.lazydynamo), nor by
         # a model built on the meta device (cnnviz.rng.build); tests/test_lazydynamo.py checks both.
         "torch._refs", "cnnviz.traintime")

_lock = threading.Lock()
_done = False
_started = False


def freeze_imports(modules: tuple[str, ...] = HEAVY) -> bool:
    """Import `modules`, collect once, then gc.freeze(); only the first call in a process does it (True then)."""
    global _done
    with _lock:
        if _done:
            return False
        for name in modules:
            importlib.import_module(name)
        gc.collect()
        gc.freeze()
        _done = True
        return True


def freeze_imports_soon(modules: tuple[str, ...] = HEAVY) -> bool:
    """freeze_imports in a background thread, started by the first call only (True then).

    The server calls it once its first page is out: on a cold start the imports of the pages not yet opened
    and the collection (~0.5-0.7 s on 2 busy cores) then overlap the browser drawing that page, instead of
    coming before it.
    """
    global _started
    with _lock:
        if _started or _done:
            return False
        _started = True
    threading.Thread(target=freeze_imports, args=(modules,), name="cnnviz-freeze", daemon=True).start()
    return True
