"""Big tensors go to the training process by reference: written once per server, mapped by the child, never pickled.

A run's work used to travel pickled by value: MNIST's splits are 209 MB, ~0.4 s to write and ~0.2 s to read
back on the 2-core machine, at every Start (bench/interactions.py, trainer row). Here each big CPU tensor is
written once per server process into a temp file that is unlinked at once, so a killed server leaves nothing
on disk (and the page cache, not the server's heap, holds the bytes); the server keeps the file open, and the
child maps it copy-on-write through /proc/<server pid>/fd/<n> (no copy: pages come in as the batches touch
them). The same cached split, the same file: the next run writes nothing. Where there is no /proc (not Linux),
tensors are pickled by value as before.
"""
from __future__ import annotations

import io
import os
import pickle
import tempfile
import threading
import weakref
from dataclasses import dataclass
from typing import Any, BinaryIO

import torch

MIN_BYTES = 1 << 20  # smaller tensors (weights, a batch) are cheaper pickled than mapped


@dataclass(frozen=True)
class _Kept:
    fd: int
    dtype: str
    shape: tuple[int, ...]
    nbytes: int
    layout: tuple  # (data_ptr, stride, storage offset, version) when written: a changed tensor is written again


def _layout(t: torch.Tensor) -> tuple:
    return t.data_ptr(), tuple(t.stride()), t.storage_offset(), t._version  # _version: +1 at every in-place change


class Shelf:
    """This server's open, unlinked files of big tensors (one per tensor, kept while the tensor lives)."""

    def __init__(self, folder: str | None = None, min_bytes: int = MIN_BYTES) -> None:
        self._folder, self._min = folder, min_bytes
        self._lock = threading.RLock()  # re-entrant: a tensor's finalizer may run inside (garbage collected here)
        self._kept: dict[int, tuple[_Kept, weakref.finalize]] = {}
        self.enabled = os.path.isdir(f"/proc/{os.getpid()}/fd")
        self.writes = 0  # files written so far (a test checks the second run writes none)

    def reference(self, obj: Any) -> tuple | None:
        """The persistent id of a big CPU tensor (its file, written now if new), or None to pickle `obj` by value."""
        if (not self.enabled or type(obj) is not torch.Tensor or obj.device.type != "cpu" or obj.requires_grad
                or obj.numel() * obj.element_size() < self._min):
            return None
        with self._lock:
            kept = self._kept.get(id(obj), (None, None))[0]
            if kept is None or kept.layout != _layout(obj):
                kept = self._write(obj)
            return ("tensor", os.getpid(), kept.fd, kept.dtype, kept.shape, kept.nbytes)

    def _write(self, t: torch.Tensor) -> _Kept:
        fd, path = tempfile.mkstemp(prefix="cnnviz-tensor-", dir=self._folder)
        os.unlink(path)  # gone from the folder at once: only the open file keeps the bytes
        flat = t.detach().contiguous().view(-1).view(torch.uint8).numpy()  # (nbytes,): any dtype, bf16 too
        with os.fdopen(os.dup(fd), "wb") as f:
            f.write(flat.data)
        old = self._kept.pop(id(t), None)
        if old is not None:  # the same tensor, changed in place: its old file goes now
            old[1].detach()
            os.close(old[0].fd)
        kept = _Kept(fd, str(t.dtype).removeprefix("torch."), tuple(t.shape), flat.nbytes, _layout(t))
        # the tensor gone (a cache cleared): its file goes too
        self._kept[id(t)] = (kept, weakref.finalize(t, self._forget, id(t), kept))
        self.writes += 1
        return kept

    def _forget(self, key: int, kept: _Kept) -> None:
        with self._lock:
            if self._kept.get(key, (None,))[0] is kept:
                del self._kept[key]
            os.close(kept.fd)

    def open_files(self) -> int:
        """How many tensor files this shelf holds open now."""
        with self._lock:
            return len(self._kept)

    def dump(self, obj: Any, file: BinaryIO) -> None:
        """pickle.dump(obj, file), big tensors by reference."""
        pickler = pickle.Pickler(file, protocol=pickle.HIGHEST_PROTOCOL)
        pickler.persistent_id = self.reference
        pickler.dump(obj)

    def dumps(self, obj: Any) -> bytes:
        buf = io.BytesIO()
        self.dump(obj, buf)
        return buf.getvalue()


class _Unpickler(pickle.Unpickler):
    def persistent_load(self, pid: tuple) -> torch.Tensor:
        kind, server, fd, dtype, shape, nbytes = pid
        if kind != "tensor":
            raise pickle.UnpicklingError(f"unknown reference {kind!r}")
        return _map(server, fd, getattr(torch, dtype), shape, nbytes)


def _map(server: int, fd: int, dtype: torch.dtype, shape: tuple[int, ...], nbytes: int) -> torch.Tensor:
    path = f"/proc/{server}/fd/{fd}"
    try:
        size = os.stat(path).st_size
    except OSError as err:
        raise RuntimeError(f"the training data could not be read from the server (process {server}): {err}") from err
    if size != nbytes:  # never the case while the server holds the job's tensors (worker.run keeps them alive)
        raise RuntimeError(f"the training data's file changed: {size} bytes, expected {nbytes}")
    numel = nbytes // torch.empty((), dtype=dtype).element_size()
    if numel == 0:
        return torch.empty(shape, dtype=dtype)
    return torch.from_file(path, shared=False, size=numel, dtype=dtype).view(shape)  # copy-on-write map


def load(file: BinaryIO) -> Any:
    """pickle.load(file), mapping the tensors a Shelf sent by reference."""
    return _Unpickler(file).load()


def loads(data: bytes) -> Any:
    return load(io.BytesIO(data))
