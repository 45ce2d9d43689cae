"""Keep freed memory inside a training process instead of handing it back to the OS after every batch.

Each training batch allocates and frees the same activations and gradients, a few MB each. With glibc's
defaults the freed blocks go back to the OS and the next batch faults them in again, page by page: measured
on the 2-core machine in a fresh process, ~3,900 page faults per batch of tutorial_a (~15 MB) and 1.2-1.9x
slower training in a bare loop (tests/test_memory.py counts the faults; in bench/train_throughput.py's
long-lived process the gain was within noise, 0.97x paired). Raising malloc's mmap and trim thresholds keeps
them for the next batch.

Only processes that train call this (the CLI, the app's training child, which ends with its run). The server
does the opposite (hand_back_big_blocks): memory that a class's sessions free goes back to the OS.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt() parameters (malloc.h)
MMAP_THRESHOLD = 32 << 20   # blocks up to 32 MB (glibc's largest allowed) come from the heap and are reused
TRIM_THRESHOLD = 1 << 30    # up to 1 GB of free memory stays in the process


def _glibc(name: str, argtypes: list, restype=ctypes.c_int):
    """glibc's function `name` with its C signature set, or None where there is none (not Linux, musl, ...)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = getattr(ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6"), name)
    except (OSError, AttributeError):  # musl and others: nothing to tune
        return None
    fn.argtypes, fn.restype = argtypes, restype
    return fn


def keep_freed_memory() -> bool:
    """Raise glibc malloc's thresholds for this process; False (and nothing changed) where there is no glibc."""
    mallopt = _glibc("mallopt", [ctypes.c_int, ctypes.c_int])
    return (mallopt is not None and bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))
            and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)))


SERVER_MMAP_THRESHOLD = 4 << 20  # the server: blocks of 4 MB and more (uploads, decoded photos) are mmapped


def hand_back_big_blocks(threshold: int = SERVER_MMAP_THRESHOLD) -> bool:
    """Give big blocks their own mappings, returned to the OS when freed; False (nothing changed) without glibc.

    glibc raises its mmap threshold after the first big free (up to 32 MB), so a server that received a few
    19 MB uploads puts the next ones inside its heaps, where they stay resident after being freed; a fixed
    threshold turns that off. The opposite of keep_freed_memory, for the server, which does not train.
    """
    mallopt = _glibc("mallopt", [ctypes.c_int, ctypes.c_int])
    return mallopt is not None and bool(mallopt(M_MMAP_THRESHOLD, threshold))


def give_back_freed_memory() -> bool:
    """Hand the free pages inside malloc's heaps back to the OS (glibc's malloc_trim); False where there is none.

    Big buffers freed in the middle of a heap (a class's 19 MB uploads, once their sessions end) stay in the
    process's resident memory until trimmed.
    """
    trim = _glibc("malloc_trim", [ctypes.c_size_t])
    if trim is None:
        return False
    trim(0)
    return True
