"""Build and step torch's optimizers without importing torch._dynamo (torch.compile's tracer) until something compiles.

torch 2.14 imports torch._dynamo the first time an optimizer is made or stepped: ~2.3 s of a core on the 2-core
machine (`python -X importtime`; it pulls in sympy and FSDP), in the server while a teacher's first page is still
being drawn, and again in every training process. Two wrappers do it, and both only talk to torch._dynamo, which
cannot be tracing anything before it is imported (cnnviz never compiles):

    four `Optimizer` methods (`add_param_group`, `zero_grad`, `state_dict`, `load_state_dict`) are wrapped in
        `torch._disable_dynamo` ("do not trace this"), which imports torch._dynamo on its first call;
    each optimizer's `step` (SGD, Adam) is wrapped in `_use_grad_for_differentiable`, which imports it on every
        call to place a graph break on each side of the step and set grad mode to `defaults["differentiable"]`.

`install()` makes both decide at each call: while torch._dynamo is not imported, the method itself (the step under
the same grad mode); once it is (someone compiles), torch's own wrapper, exactly as before. tests/test_lazydynamo.py
checks that the optimizers give the same numbers and that a compiled step still works.
"""
from __future__ import annotations

import functools
import sys
import threading
from collections.abc import Callable

import torch

WRAPPED = ("add_param_group", "zero_grad", "state_dict", "load_state_dict")
STEPPED = (torch.optim.SGD, torch.optim.Adam)  # the optimizers cnnviz makes (cnnviz.trainstep, cnnviz.units)
_lock = threading.Lock()
_installed = False


def _dynamo():
    """torch._dynamo once it is imported (before, it cannot be tracing anything); None before or half-way through."""
    dynamo = sys.modules.get("torch._dynamo")
    return dynamo if dynamo is not None and hasattr(dynamo, "disable") else None


def _decide(fn: Callable, recursive: bool) -> Callable:
    """What torch's wrapper calls: `fn` while dynamo is not loaded, else dynamo's disabled `fn` (cached by torch)."""
    def call(*args, **kwargs):
        if (dynamo := _dynamo()) is None:
            return fn(*args, **kwargs)
        disabled = dynamo.disable(fn, recursive, wrapping=False)
        fn.__dynamo_disable = disabled  # torch's own cache: from now on its wrapper calls this directly
        return disabled(*args, **kwargs)
    return call


def _recursive(wrapper: Callable) -> bool | None:
    """The `recursive` flag torch's `_disable_dynamo` wrapper closed over; None when `wrapper` is not one."""
    code = getattr(wrapper, "__code__", None)
    if code is None or not code.co_qualname.startswith("_disable_dynamo") or wrapper.__closure__ is None:
        return None
    cells = dict(zip(code.co_freevars, (c.cell_contents for c in wrapper.__closure__)))
    return cells.get("recursive") if isinstance(cells.get("recursive"), bool) else None


def _step(wrapped: Callable) -> Callable:
    """`_use_grad_for_differentiable`'s step without its graph breaks while torch._dynamo is not imported."""
    raw = wrapped.__wrapped__

    @functools.wraps(raw)
    def step(self, *args, **kwargs):
        if _dynamo() is not None:
            return wrapped(self, *args, **kwargs)
        before = torch.is_grad_enabled()
        try:
            torch.set_grad_enabled(self.defaults["differentiable"])
            return raw(self, *args, **kwargs)
        finally:
            torch.set_grad_enabled(before)
    return step


def install() -> int:
    """Make the Optimizer methods and steps import nothing until torch._dynamo is loaded; how many were changed.

    Idempotent. 0 when torch no longer wraps them this way (another torch: the import simply happens again).
    """
    global _installed
    with _lock:
        if _installed:
            return 0
        _installed = True
        changed = 0
        for name in WRAPPED:
            wrapper = torch.optim.Optimizer.__dict__.get(name)
            recursive = _recursive(wrapper)
            fn = getattr(wrapper, "__wrapped__", None)
            if recursive is None or fn is None or getattr(fn, "__dynamo_disable", None) is not None:
                continue
            fn.__dynamo_disable = _decide(fn, recursive)
            changed += 1
        for cls in STEPPED:
            wrapped = cls.__dict__.get("step")
            code = getattr(wrapped, "__code__", None)
            if code is None or code.co_qualname != "_use_grad_for_differentiable.<locals>._use_grad":
                continue
            cls.step = _step(wrapped)
            changed += 1
        return changed
