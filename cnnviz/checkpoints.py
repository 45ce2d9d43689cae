"""Trained models on disk: safetensors weights + a JSON model card, saved crash-safe, loaded safely.

A checkpoint is a folder `<name>/` holding `weights.safetensors`, `card.json` and any extra tensor
files a caller adds (`<extra>.safetensors`, e.g. training snapshots). The card carries the spec, so the
model is rebuilt with `cnnviz.arch.build` and the weights are loaded with `strict=True`.

Saving is atomic as a whole: every file goes into a fresh hidden temporary folder (fsynced), which
then becomes `<name>` by one rename. A new name is claimed by that rename itself (it fails when the
name exists), so two sessions saving under one name at once get `name` and `name-2`, never one folder.
Saving over a name renames the old folder away, the new one in, then deletes the old: a SIGKILL
between the two renames leaves the old folder under its hidden name, and the next listing puts it
back. Leftover temporary folders of dead savers are removed by the next listing and never listed
(cnnviz.store: the one clean-up rule checkpoints and own datasets share).

Loading never unpickles arbitrary objects, validates the whole card first (types, finite numbers,
depth, size), compares the spec's parameter count with the weights file before building anything,
refuses NaN/inf weights, and remembers refusals so a broken checkpoint costs nothing on a rerun.
Messages name checkpoints, never absolute server paths (visitors read them).
"""
from __future__ import annotations

import errno
import json
import math
import os
import re
import shutil
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load as load_bytes
from safetensors.torch import save as save_bytes
from torch import nn

from cnnviz import budget, text
from cnnviz.arch import build
from cnnviz.card import MAX_PARAMS, Card, CardError, spec_params
from cnnviz.store import OLD, TEMP, Store, hidden

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "checkpoints"
WEIGHTS = "weights.safetensors"
WEIGHTS_PT = "weights.pt"
CARD = "card.json"
MAX_CARD_BYTES = 256 * 1024       # shipped cards are ~1.7 kB; a spec of 1,000 layers is ~100 kB
MAX_WEIGHTS_BYTES = MAX_PARAMS * 4 + 16 * 2**20  # checked before a weights file is read into memory
MAX_EXTRA_BYTES = 1 << 30         # an extra file (training snapshots) is read whole: 1 GiB at most
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_EXTRA = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_COLLISION = {errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR, errno.EISDIR}


class CheckpointError(ValueError):
    """A checkpoint that cannot be used: missing, damaged, foreign or not matching its spec."""


# --- names: listing, display ---------------------------------------------------------------------

STORE = Store(SHIPPED, "CNNVIZ_USER_CHECKPOINTS", lambda name: bool(_NAME.match(name)))
cleanup = STORE.cleanup  # finish what crashed saves left (cnnviz.store's one rule)


def user_dir() -> Path:
    """Where user-trained models go: $CNNVIZ_USER_CHECKPOINTS, else checkpoints/user/ (git-ignored)."""
    return STORE.user_dir()


def display_name(name: str) -> str:
    """A checkpoint name as one printable line: its bytes read as UTF-8 ('�' where they are not), then
    `text.printable` (a line break becomes a space, a control character '?')."""
    return text.printable(os.fsencode(name).decode("utf-8", "replace") if isinstance(name, str) else name)


def _is_checkpoint(folder: Path) -> bool:
    return (folder / CARD).is_file() and ((folder / WEIGHTS).is_file() or (folder / WEIGHTS_PT).is_file())


def _folders() -> dict[str, Path]:
    """name -> folder; user-trained models after shipped ones, never shadowing them.

    The name is the folder's name as text (`display_name`): a folder whose name is not UTF-8 (byte 0xff)
    is listed with '�' in its place, so no page, cache key or URL ever meets an unencodable string.
    """
    found: dict[str, Path] = {}
    for base, shipped in STORE.bases():
        if not base.is_dir():
            continue
        if not shipped:
            cleanup(base)
        for folder in sorted(base.iterdir()):
            name = display_name(folder.name)
            if not folder.name.startswith(".") and name not in found and folder.is_dir() and _is_checkpoint(folder):
                found[name] = folder
    return found


def available() -> list[str]:
    """Names of the loadable checkpoints, as text: shipped ones first, then user-trained ones (hidden never)."""
    return list(_folders())


def resolve(name_or_path: str | Path) -> Path:
    """The folder of a checkpoint given its name, its folder, or one of its files."""
    path = Path(name_or_path)
    if path.is_file():
        path = path.parent
    if path.is_dir() and _is_checkpoint(path):
        return path
    folders = _folders()
    if str(name_or_path) in folders:
        return folders[str(name_or_path)]
    known = ", ".join(display_name(n) for n in folders) or "none"
    raise CheckpointError(f"no checkpoint named {display_name(str(name_or_path))!r} (available: {known})")


# --- reading a card ---------------------------------------------------------------------------

def _parse_card(folder: Path) -> dict[str, Any]:
    path = folder / CARD
    label = display_name(folder.name)
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_CARD_BYTES + 1)
    except OSError as err:
        raise CheckpointError(f"the model card of {label!r} cannot be read ({err.strerror})") from err
    if len(raw) > MAX_CARD_BYTES:
        raise CheckpointError(f"the model card of {label!r} is larger than {MAX_CARD_BYTES // 1024} kB: refused")
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CheckpointError(f"{label!r} is not a readable model card: {err}") from err
    except RecursionError as err:  # "[[[[..." 200,000 deep: the C parser gives up cleanly
        raise CheckpointError(f"the model card of {label!r} is nested too deeply: refused") from err


def read_card(name_or_path: str | Path) -> Card:
    """The model card of a checkpoint, fully validated (CheckpointError naming every problem)."""
    folder = resolve(name_or_path)
    try:
        return Card.from_json(_parse_card(folder))
    except CardError as err:
        raise CheckpointError(f"the model card of {display_name(folder.name)!r} is damaged: {err}") from err


# --- weights ------------------------------------------------------------------------------------

def _stored_values(folder: Path) -> int:
    """How many numbers the weights file holds, read from its header (safetensors) or its size (.pt)."""
    path = folder / WEIGHTS if (folder / WEIGHTS).is_file() else folder / WEIGHTS_PT
    if path.stat().st_size > MAX_WEIGHTS_BYTES:
        raise CheckpointError(f"the weights of {display_name(folder.name)!r} are {path.stat().st_size:,} bytes, "
                              f"more than the {MAX_WEIGHTS_BYTES:,} cnnviz opens")
    if path.name == WEIGHTS_PT:
        return path.stat().st_size // 2  # float16 is the smallest we store: 2 bytes a value
    try:  # the format: 8-byte little-endian header length, then a JSON header naming every tensor's shape
        with path.open("rb") as f:
            size = int.from_bytes(f.read(8), "little")
            if not 2 <= size <= 16 * 2**20:
                raise ValueError(f"header of {size} bytes")
            header = json.loads(f.read(size))
        return sum(math.prod(int(v) for v in t["shape"]) for k, t in header.items() if k != "__metadata__")
    except (OSError, ValueError, TypeError, KeyError, AttributeError, RecursionError) as err:
        raise CheckpointError(f"the weights of {display_name(folder.name)!r} are damaged or not a "
                              f"safetensors file ({type(err).__name__})") from err


def _read_tensors(path: Path, limit: int = MAX_WEIGHTS_BYTES) -> dict[str, torch.Tensor]:
    """A safetensors file read through Python's open (any folder name, even one that is not UTF-8)."""
    size = path.stat().st_size
    if size > limit:
        raise ValueError(f"the file is {size:,} bytes, more than the {limit:,} cnnviz reads")
    return load_bytes(path.read_bytes())


def _read_weights(folder: Path) -> dict[str, torch.Tensor]:
    label = display_name(folder.name)
    if (folder / WEIGHTS).is_file():
        try:
            return _read_tensors(folder / WEIGHTS)
        except Exception as err:  # safetensors raises its own error type for damaged headers/data
            raise CheckpointError(f"the weights of {label!r} are damaged or not a safetensors file "
                                  f"({type(err).__name__}: {err})") from err
    try:
        state = torch.load(folder / WEIGHTS_PT, map_location="cpu", weights_only=True)
    except Exception as err:  # UnpicklingError for arbitrary objects, RuntimeError/EOFError for damage
        raise CheckpointError(f"the weights of {label!r} were refused: the file is damaged or holds Python "
                              f"objects other than tensors, which cnnviz never unpickles "
                              f"({type(err).__name__})") from err
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"the weights of {label!r} are not a state dict of tensors")
    return state


class _Refusals:
    """Refusal messages by (folder, file stamps): a broken checkpoint is judged once, not on every rerun."""

    def __init__(self, size: int = 256) -> None:
        self._seen: OrderedDict[tuple, str] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def get(self, key: tuple) -> str | None:
        with self._lock:
            return self._seen.get(key)

    def put(self, key: tuple, message: str) -> None:
        with self._lock:
            self._seen[key] = message
            while len(self._seen) > self._size:
                self._seen.popitem(last=False)


_REFUSED = _Refusals()


def _stamp(folder: Path) -> tuple:
    """(folder, size and mtime of each file): changes whenever a file of the checkpoint is replaced."""
    stats = []
    for file in (CARD, WEIGHTS, WEIGHTS_PT):
        try:
            st = (folder / file).stat()
            stats.append((file, st.st_size, st.st_mtime_ns, st.st_ino))
        except OSError:
            pass
    return (str(folder), tuple(stats))


def load(name_or_path: str | Path) -> tuple[nn.Module, Card]:
    """(model in eval mode on the CPU, card) for a checkpoint name or path; CheckpointError if unusable."""
    folder = resolve(name_or_path)
    key = _stamp(folder)
    if (known := _REFUSED.get(key)) is not None:
        raise CheckpointError(known)
    try:
        return _load(folder)
    except CheckpointError as err:
        _REFUSED.put(key, str(err))
        raise


def _load(folder: Path) -> tuple[nn.Module, Card]:
    label = display_name(folder.name)
    card = read_card(folder)
    spec = card.network
    params, stored = spec_params(spec), _stored_values(folder)
    if params > stored:  # before building: a 397 M-parameter spec beside small weights costs nothing
        raise CheckpointError(f"{label!r}: its card describes {params:,} parameters but the weights file "
                              f"holds only {stored:,} values (a foreign or mismatched file)")
    if not (fits := budget.model_fits(spec)).ok:  # before building: a huge model must not take the server down
        raise CheckpointError(f"{label!r}: {fits.message}")
    model = build(spec)
    state = _read_weights(folder)
    try:
        model.load_state_dict(state, strict=True)  # copies into the float32 parameters: float16 files upcast
    except RuntimeError as err:
        raise CheckpointError(f"{label!r}: the weights do not match the spec in its card "
                              f"(a foreign or mismatched file): {str(err).splitlines()[0]}") from err
    broken = [k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if broken:
        raise CheckpointError(f"{label!r}: its weights hold NaN or infinite values ({', '.join(broken[:3])}), "
                              "so every answer would be meaningless")
    model.eval()
    return model, card


def extras(name_or_path: str | Path) -> list[str]:
    """Names of the extra tensor files saved with a checkpoint (see `save(extras=...)`)."""
    folder = resolve(name_or_path)
    return sorted(p.name[: -len(".safetensors")] for p in folder.glob("*.safetensors")
                  if p.name != WEIGHTS and _EXTRA.match(p.name[: -len(".safetensors")]))


def load_extra(name_or_path: str | Path, extra: str) -> dict[str, torch.Tensor]:
    """The tensors of one extra file of a checkpoint (safetensors only: nothing is unpickled)."""
    if not isinstance(extra, str) or not _EXTRA.match(extra) or extra == "weights":
        raise ValueError(f"extra name {extra!r} must be 1-64 letters, digits, '_' or '-' (not 'weights')")
    folder = resolve(name_or_path)
    path = folder / f"{extra}.safetensors"
    if not path.is_file():
        raise CheckpointError(f"{display_name(folder.name)!r} has no {extra!r} (it has: "
                              f"{', '.join(extras(folder)) or 'none'})")
    try:
        return _read_tensors(path, MAX_EXTRA_BYTES)
    except Exception as err:  # safetensors' own error type for damage
        raise CheckpointError(f"{extra!r} of {display_name(folder.name)!r} is damaged ({type(err).__name__})") from err


# --- saving -------------------------------------------------------------------------------------

def _fsync_file(path: Path) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def _write_tensors(path: Path, tensors: dict[str, torch.Tensor]) -> None:
    with open(path, "wb") as f:
        f.write(save_bytes(tensors))
        f.flush()
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # some systems (Windows) cannot open a folder: nothing to sync there
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_card(folder: Path, card: Card) -> None:
    (folder / CARD).write_text(json.dumps(card.to_json(), indent=2) + "\n", encoding="utf-8")
    _fsync_file(folder / CARD)


def _tensors(state: dict[str, torch.Tensor], half: bool) -> dict[str, torch.Tensor]:
    dtype = torch.float16 if half else torch.float32
    return {k: v.detach().to("cpu", dtype if v.is_floating_point() else v.dtype).contiguous()
            for k, v in state.items()}


def _check_save_args(card: Card | dict[str, Any], extras: dict[str, dict[str, torch.Tensor]] | None) -> Card:
    """The card to save (a dict is read as JSON through Card.from_json); ValueError for a bad name, card or extra."""
    if not isinstance(card, Card):
        try:
            card = Card.from_json(card)
        except CardError as err:
            raise ValueError(f"model card: {err}") from err
    if not _NAME.match(card.name):
        raise ValueError(f"checkpoint name {card.name!r} must be 1-64 letters, digits, '_', '-' or '.'")
    for key, tensors in (extras or {}).items():
        if not isinstance(key, str) or not _EXTRA.match(key) or key == "weights":
            raise ValueError(f"extra name {key!r} must be 1-64 letters, digits, '_' or '-' (not 'weights')")
        if not isinstance(tensors, dict) or not all(isinstance(v, torch.Tensor) for v in tensors.values()):
            raise ValueError(f"extra {key!r} must be a dict of tensors")
    return card


def _taken(base: Path, name: str) -> bool:
    """A name the user folder must not use: it exists there, or a shipped model has it (it would hide)."""
    return os.path.lexists(base / name) or (base != SHIPPED and (SHIPPED / name / CARD).is_file())


def _claim(tmp: Path, base: Path, name: str, card: Card) -> Path:
    """Rename `tmp` to the first free of name, name-2, name-3 ...: the rename is the atomic reservation."""
    for n in range(1, 10_000):
        candidate = name if n == 1 else f"{name}-{n}"
        if len(candidate) > 64 or _taken(base, candidate):
            continue
        if card.name != candidate:
            card = card.renamed(candidate)
            _write_card(tmp, card)
        try:
            os.rename(tmp, base / candidate)  # fails when the name exists (a folder that is not empty)
        except OSError as err:
            if err.errno in _COLLISION:
                continue  # another save took it between our look and our rename
            raise
        return base / candidate
    raise ValueError(f"no free checkpoint name like {name!r}")


def _swap_in(tmp: Path, target: Path) -> None:
    """Replace `target` by `tmp`: old away to a hidden name, new in, old deleted (retried on races)."""
    olds: list[Path] = []
    try:
        for _ in range(100):
            old = target.parent / hidden(OLD, target.name)
            try:
                os.rename(target, old)
                olds.append(old)
            except FileNotFoundError:
                pass
            try:
                os.rename(tmp, target)
                return
            except OSError as err:
                if err.errno not in _COLLISION:
                    raise
                # another save put its model in between: move that one away too
        raise CheckpointError(f"could not replace {display_name(target.name)!r}: other saves kept replacing it")
    except BaseException:
        if olds and not os.path.lexists(target):  # put the newest old model back before giving up
            os.rename(olds.pop(), target)
        raise
    finally:
        for old in olds:
            shutil.rmtree(old, ignore_errors=True)


def save(model: nn.Module, card: Card | dict[str, Any], folder: str | Path | None = None, half: bool = False,
         overwrite: bool = False, extras: dict[str, dict[str, torch.Tensor]] | None = None) -> Path:
    """Save weights, card and `extras` (name -> tensors, one `<name>.safetensors` each) as one checkpoint.

    Returns the checkpoint folder `<folder>/<name>` (folder defaults to user_dir()). Without `overwrite`
    a taken name gets the next free suffix (-2, -3 ...) and the card says the name it got. Crash-safe and
    race-safe: see the module docstring. `half` stores float16 weights (half the size). ValueError for a bad
    name, card or extra; CheckpointError (a ValueError, naming no server path) when the disk refuses.
    """
    card = _check_save_args(card, extras)
    name = card.name
    base = Path(folder) if folder is not None else user_dir()
    try:
        return _save(model, card, base, name, half, overwrite, extras)
    except OSError as err:  # disk full, read-only folder ...: a message without the server's paths
        raise CheckpointError(f"could not save the model {name!r}: {err.strerror or type(err).__name__} "
                              "(the server's checkpoint folder; nothing was changed)") from err


def _save(model: nn.Module, card: Card, base: Path, name: str, half: bool, overwrite: bool,
          extras: dict[str, dict[str, torch.Tensor]] | None) -> Path:
    base.mkdir(parents=True, exist_ok=True)
    cleanup(base)
    tmp = base / hidden(TEMP, name)
    tmp.mkdir()
    try:
        _write_tensors(tmp / WEIGHTS, _tensors(model.state_dict(), half))
        for key, tensors in (extras or {}).items():
            _write_tensors(tmp / f"{key}.safetensors", _tensors(tensors, False))
        _write_card(tmp, card)
        _fsync_dir(tmp)
        if overwrite:
            target = base / name
            _swap_in(tmp, target)
        else:
            target = _claim(tmp, base, name, card)
        _fsync_dir(base)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target
