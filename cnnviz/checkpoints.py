"""Trained models on disk: safetensors weights + a JSON model card, saved atomically, loaded safely.

A checkpoint is a folder `<name>/` holding `weights.safetensors` and `card.json`.
The card carries the spec, so the model is rebuilt with `cnnviz.arch.build` and
the weights are loaded with `strict=True`: a spec/weights mismatch is refused.
Loading never unpickles arbitrary objects: safetensors holds only tensors, and a
`weights.pt` is read with `torch.load(weights_only=True)`.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from cnnviz.arch import Spec, build

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "checkpoints"
WEIGHTS = "weights.safetensors"
WEIGHTS_PT = "weights.pt"
CARD = "card.json"
REQUIRED_KEYS = ("name", "spec", "dataset", "normalize", "test_accuracy")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class CheckpointError(ValueError):
    """A checkpoint that cannot be used: missing, damaged, foreign or not matching its spec."""


def user_dir() -> Path:
    """Where user-trained models go: $CNNVIZ_USER_CHECKPOINTS, else checkpoints/user/ (git-ignored)."""
    return Path(os.environ.get("CNNVIZ_USER_CHECKPOINTS") or SHIPPED / "user")


def _is_checkpoint(folder: Path) -> bool:
    return (folder / CARD).is_file() and ((folder / WEIGHTS).is_file() or (folder / WEIGHTS_PT).is_file())


def _folders() -> dict[str, Path]:
    """name -> folder; user-trained models after shipped ones, never shadowing them."""
    found: dict[str, Path] = {}
    for base in (SHIPPED, user_dir()):
        if base.is_dir():
            for folder in sorted(base.iterdir()):
                if folder.is_dir() and _is_checkpoint(folder) and folder.name not in found:
                    found[folder.name] = folder
    return found


def available() -> list[str]:
    """Names of the loadable checkpoints: shipped ones first, then user-trained ones."""
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
    known = ", ".join(folders) or "none"
    raise CheckpointError(f"no checkpoint named {str(name_or_path)!r} (available: {known})")


def _missing_keys(card: dict[str, Any]) -> str:
    """The required card keys that `card` lacks, comma-separated ('' when none)."""
    return ", ".join(k for k in REQUIRED_KEYS if k not in card)


def read_card(name_or_path: str | Path) -> dict[str, Any]:
    """The model card of a checkpoint, checked for the keys cnnviz needs."""
    folder = resolve(name_or_path)
    try:
        card = json.loads((folder / CARD).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CheckpointError(f"{folder / CARD} is not a readable model card: {err}") from err
    if not isinstance(card, dict):
        raise CheckpointError(f"{folder / CARD} is not a model card (expected a JSON object)")
    missing = _missing_keys(card)
    if missing:
        raise CheckpointError(f"{folder / CARD} lacks {missing}")
    return card


def _read_weights(folder: Path) -> dict[str, torch.Tensor]:
    if (folder / WEIGHTS).is_file():
        path = folder / WEIGHTS
        try:
            return load_file(str(path))
        except Exception as err:  # safetensors raises its own error type for damaged headers/data
            raise CheckpointError(f"{path} is damaged or not a safetensors file ({err})") from err
    path = folder / WEIGHTS_PT
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # UnpicklingError for arbitrary objects, RuntimeError/EOFError for damage
        raise CheckpointError(f"{path} was refused: it is damaged or holds Python objects other than "
                              f"tensors, which cnnviz never unpickles ({type(err).__name__})") from err
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"{path} is not a state dict of tensors")
    return state


def load(name_or_path: str | Path) -> tuple[nn.Module, dict[str, Any]]:
    """(model in eval mode on the CPU, card) for a checkpoint name or path; CheckpointError if unusable."""
    folder = resolve(name_or_path)
    card = read_card(folder)
    try:
        model = build(Spec.from_json(card["spec"]))
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"{folder / CARD}: its spec cannot be built: {err}") from err
    state = _read_weights(folder)
    try:
        model.load_state_dict(state, strict=True)  # copies into the float32 parameters: float16 files upcast
    except RuntimeError as err:
        raise CheckpointError(f"{folder}: the weights do not match the spec in its card "
                              f"(a foreign or mismatched file): {str(err).splitlines()[0]}") from err
    model.eval()
    return model, card


def _atomic_write(path: Path, write) -> None:
    """Write through a temp file in the same folder, then os.replace: never a half-written file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a checkpoint is an ordinary readable file
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _free_name(base: Path, name: str, overwrite: bool) -> Path:
    if overwrite or not (base / name).exists():
        return base / name
    n = 2
    while (base / f"{name}-{n}").exists():
        n += 1
    return base / f"{name}-{n}"


def save(model: nn.Module, card: dict[str, Any], folder: str | Path | None = None,
         half: bool = False, overwrite: bool = False) -> Path:
    """Save weights then card (each atomically) into <folder>/<card name>/; returns that checkpoint folder.

    `folder` defaults to user_dir(). `half` stores float16 weights (half the size).
    The card is written last, so a crash mid-save leaves nothing that `available()` lists.
    """
    name = str(card.get("name", ""))
    if not _NAME.match(name):
        raise ValueError(f"checkpoint name {name!r} must be 1-64 letters, digits, '_', '-' or '.'")
    missing = _missing_keys(card)
    if missing:
        raise ValueError(f"model card lacks {missing}")
    base = Path(folder) if folder is not None else user_dir()
    target = _free_name(base, name, overwrite)
    target.mkdir(parents=True, exist_ok=True)
    card = {**card, "name": target.name}
    dtype = torch.float16 if half else torch.float32
    state = {k: v.detach().to("cpu", dtype if v.is_floating_point() else v.dtype).contiguous()
             for k, v in model.state_dict().items()}
    _atomic_write(target / WEIGHTS, lambda tmp: save_file(state, tmp, metadata={"name": target.name}))
    text = json.dumps(card, indent=2, sort_keys=False) + "\n"
    _atomic_write(target / CARD, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    return target
