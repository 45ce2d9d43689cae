"""The few objects one server process shares between all its sessions, and that must live as long as it.

The class-code gate's count of wrong guesses, the one training queue, the dataset downloader, the set of
sessions that entered the class code: each holds a promise to every session at once ("at most 30 wrong codes
a minute", "one run at a time"). Streamlit's st.cache_resource is no home for them: any client can send the
websocket message `clear_cache`, which empties every cache of the server, and the next call would make a
fresh, empty one (the gate forgot every wrong code; two training runs started at once). So they live here,
made once per process under a lock. This registry is the one mutable module global of the library, on purpose;
models and datasets stay in caches: clearing those only costs a reload.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

_LOCK = threading.Lock()
_OBJECTS: dict[str, object] = {}


def single(name: str, make: Callable[[], T]) -> T:
    """The one object of this process called `name`: made by `make()` on the first call, the same one after."""
    with _LOCK:  # two first visitors at once still make one object
        if name not in _OBJECTS:
            _OBJECTS[name] = make()
        return _OBJECTS[name]  # type: ignore[return-value]
