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
         "cnnviz.figures.training", "cnnviz.preprocess", "cnnviz.dims", "cnnviz.ops", "cnnviz.train")

_lock = threading.Lock()
_done = False


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
