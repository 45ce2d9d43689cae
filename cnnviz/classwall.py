"""The class wall: each student's latest drawing, seen together on the teacher's projector.

A student's Draw page sends its latest prepared drawing (28x28, the model's answer and how sure) while the
teacher's Class page is collecting; the Class page reads them all back about once a second. Every replica of
a class must see every student, so the store is a folder of the shared volume (cnnviz.shared): one small JSON
file per session, replaced whole with os.replace (a reader sees the old drawing or the new, never half), and
one file saying whether the wall is collecting and for which target. Bounded: one drawing per session, at most
MAX_SESSIONS sessions, thumbnails only, sessions quiet for STALE_S seconds dropped. Nothing else is written
unless the teacher saves the wall as a dataset (`save`, through cnnviz.owndata).
"""
from __future__ import annotations

import base64
import json
import os
import re
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnnviz import owndata, shared
from cnnviz.text import printable

FOLDER = "classwall"            # inside the shared folder
STATE_FILE = "collecting.json"  # present while the wall collects: {"target": "7" | null, "since": time}
MAX_SESSIONS = 200
STALE_S = 600.0                 # a session that sent nothing for 10 minutes leaves the wall
MAX_NAME = 20                   # characters of a nickname
SIDE = 28
_SESSION = re.compile(r"[0-9a-f]{16}")  # a session's file name: never a path a visitor chooses


@dataclass(frozen=True)
class Drawing:
    """One student's latest drawing as the wall shows it."""

    session: str
    name: str               # the nickname as typed (escape it to show it), "" when none
    pixels: np.ndarray      # (28, 28) uint8, what the network saw
    answer: str             # the model's answer (a class name)
    confidence: float       # its probability, 0..1
    unsure: bool            # the Draw page said "not sure"
    joined: float           # when this session first sent a drawing (time.time())
    sent: float             # when it sent this one


@dataclass(frozen=True)
class Summary:
    """The lines above the wall."""

    count: str                      # "12 drawings from 12 students"
    target: str | None
    right: int                      # drawings whose answer is the target (0 without one)
    accuracy: float | None          # right / drawings, None without a target or a drawing
    per_class: dict[str, int]       # answer -> how many (every label, 0 included)


def folder(base: Path | None = None) -> Path:
    """The wall's folder (made when missing): `base`/classwall, `base` the shared folder by default."""
    path = (base or shared.folder()) / FOLDER
    path.mkdir(parents=True, exist_ok=True)
    return path


def new_session() -> str:
    """A fresh session id for the wall (random, 16 hex digits; not Streamlit's session id)."""
    return secrets.token_hex(8)


def check_nickname(text: str) -> str:
    """The nickname as it will be kept: one printable line, spaces trimmed, at most 20 characters (else ValueError)."""
    name = printable(text or "").strip()
    if len(name) > MAX_NAME:
        raise ValueError(f"A nickname is at most {MAX_NAME} characters (this one has {len(name)}).")
    return name


# ---- collecting ------------------------------------------------------------------------------------------------

def start(wall: Path, target: str | None = None, now: float | None = None) -> None:
    """Start collecting (again), for `target` ("everyone draw a 7") or none."""
    target = printable(target).strip()[:MAX_NAME] if target else None
    shared.write_atomic(wall / STATE_FILE, json.dumps({"target": target or None, "since": now or time.time()}))


def stop(wall: Path) -> None:
    """Stop collecting: students' drawings are no longer sent (the wall keeps what it has)."""
    (wall / STATE_FILE).unlink(missing_ok=True)


def collecting(wall: Path) -> tuple[bool, str | None]:
    """(whether the wall collects, its target or None). A damaged state file counts as collecting, no target."""
    try:
        state = json.loads((wall / STATE_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return False, None
    except (ValueError, UnicodeDecodeError):
        return True, None
    target = state.get("target") if isinstance(state, dict) else None
    return True, (printable(target)[:MAX_NAME] if isinstance(target, str) and target else None)


# ---- one student's drawing -------------------------------------------------------------------------------------

def _thumbnail(pixels: np.ndarray) -> np.ndarray:
    pixels = np.asarray(pixels, dtype=np.float64)
    if pixels.shape != (SIDE, SIDE) or not np.isfinite(pixels).all():
        raise ValueError(f"a wall thumbnail is {SIDE}x{SIDE} finite pixels, got shape {pixels.shape}")
    return np.round(np.clip(pixels, 0.0, 1.0) * 255).astype(np.uint8)


def _path(wall: Path, session: str) -> Path:
    if not isinstance(session, str) or not _SESSION.fullmatch(session):
        raise ValueError("not a wall session id (16 hex digits)")
    return wall / f"{session}.json"


def submit(wall: Path, session: str, pixels: np.ndarray, answer: str, confidence: float, unsure: bool,
           name: str = "", now: float | None = None) -> bool:
    """Put this session's latest drawing on the wall (replacing its previous one); False when the wall is full
    (MAX_SESSIONS other sessions are on it) or not collecting. Raises ValueError for bad pixels, id or name."""
    now = time.time() if now is None else now
    path, thumb, name = _path(wall, session), _thumbnail(pixels), check_nickname(name)
    if not collecting(wall)[0]:
        return False
    mine = _read(path)
    if mine is None:  # a newcomer: count the others under the lock, so two replicas cannot both take seat 200
        with shared.locked(wall / ".join.lock"):
            if len(_fresh_files(wall, now)) >= MAX_SESSIONS:
                return False
            _write(path, session, thumb, answer, confidence, unsure, name, now, now)
        return True
    _write(path, session, thumb, answer, confidence, unsure, name, mine.joined, now)
    return True


def _write(path: Path, session: str, thumb: np.ndarray, answer: str, confidence: float, unsure: bool, name: str,
           joined: float, sent: float) -> None:
    record = {"session": session, "name": name, "pixels": base64.b64encode(thumb.tobytes()).decode("ascii"),
              "answer": printable(answer)[:MAX_NAME], "confidence": float(np.clip(confidence, 0.0, 1.0)),
              "unsure": bool(unsure), "joined": joined, "sent": sent}
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(record), encoding="utf-8")
    os.replace(tmp, path)


def _read(path: Path) -> Drawing | None:
    """The drawing in one file; None when it is missing or damaged (a damaged file is never fatal to the wall)."""
    try:
        r = json.loads(path.read_text(encoding="utf-8"))
        pixels = np.frombuffer(base64.b64decode(r["pixels"], validate=True), dtype=np.uint8)
        if pixels.size != SIDE * SIDE or r["session"] != path.stem:
            return None
        return Drawing(str(r["session"]), printable(r["name"])[:MAX_NAME], pixels.reshape(SIDE, SIDE).copy(),
                       printable(r["answer"])[:MAX_NAME], float(np.clip(float(r["confidence"]), 0, 1)),
                       bool(r["unsure"]), float(r["joined"]), float(r["sent"]))
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError):
        return None


def _fresh_files(wall: Path, now: float) -> list[Path]:
    """The session files sent to within STALE_S seconds (by their modification time: no need to open them)."""
    fresh = []
    for path in wall.glob("*.json"):
        try:
            if _SESSION.fullmatch(path.stem) and now - path.stat().st_mtime <= STALE_S:
                fresh.append(path)
        except FileNotFoundError:  # cleared meanwhile
            continue
    return fresh


# ---- the wall --------------------------------------------------------------------------------------------------

def read(wall: Path, now: float | None = None) -> list[Drawing]:
    """Every fresh drawing on the wall (at most MAX_SESSIONS, the latest), oldest session first. Sessions quiet
    for more than STALE_S seconds are deleted; damaged files are skipped."""
    now = time.time() if now is None else now
    drawings = []
    for path in wall.glob("*.json"):
        if not _SESSION.fullmatch(path.stem):
            continue
        found = _read(path)
        if found is not None and now - found.sent > STALE_S:
            path.unlink(missing_ok=True)
        elif found is not None:
            drawings.append(found)
    drawings = sorted(drawings, key=lambda d: d.sent)[-MAX_SESSIONS:]
    return sorted(drawings, key=lambda d: (d.joined, d.session))


def names(drawings: list[Drawing]) -> dict[str, str]:
    """Session -> the name to show: its nickname, else "student N" (N by when it joined, from 1)."""
    order = sorted(drawings, key=lambda d: (d.joined, d.session))
    return {d.session: d.name or f"student {i}" for i, d in enumerate(order, start=1)}


def is_right(d: Drawing, target: str | None) -> bool | None:
    """Whether the answer is the target (None without a target)."""
    return None if target is None else d.answer == target


def ordered(drawings: list[Drawing], target: str | None) -> list[Drawing]:
    """The wall's order: wrong ones first (with a target), then unsure ones, then the least sure first."""
    return sorted(drawings, key=lambda d: (is_right(d, target) is True, not d.unsure, d.confidence, d.joined))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def summary(drawings: list[Drawing], target: str | None, labels: tuple[str, ...]) -> Summary:
    """The count line, the class's accuracy on the target, and how many drawings got each answer."""
    students = len({d.session for d in drawings})
    count = f"{_plural(len(drawings), 'drawing')} from {_plural(students, 'student')}"
    right = sum(1 for d in drawings if is_right(d, target))
    accuracy = right / len(drawings) if target is not None and drawings else None
    answers = Counter(d.answer for d in drawings)
    per_class = {label: answers.get(label, 0) for label in labels}
    per_class.update({a: n for a, n in answers.items() if a not in per_class})
    return Summary(count, target, right, accuracy, per_class)


def clear(wall: Path) -> int:
    """Empty the wall (collecting or not stays as it is); how many drawings were removed."""
    gone = 0
    for path in wall.glob("*.json"):
        if _SESSION.fullmatch(path.stem):
            path.unlink(missing_ok=True)
            gone += 1
    return gone


def save(drawings: list[Drawing], dataset: str, target: str | None, by: owndata.Editor | None = None) -> tuple:
    """Save the wall as a dataset for *Make a dataset* (ImageFolder: one folder per class): each drawing under the
    target when one is set, else under the model's answer. Returns (the dataset, how many were saved, notes on the
    ones left out). ValueError when fewer than two classes would result, or for a bad or taken name."""
    label = {d.session: (target if target is not None else d.answer) for d in drawings if d.pixels.max() > 0}
    classes = sorted(set(label.values()))
    if target is not None and len(classes) == 1:
        raise ValueError("With a target every drawing is one class: a dataset needs at least two. Save the wall "
                         "without a target, or add these drawings to a dataset on *Make a dataset*.")
    ds = owndata.create(dataset, classes, by)
    saved, notes = 0, []
    for d in drawings:
        if d.session not in label:
            continue
        try:
            owndata.add_pixels(ds.name, label[d.session], d.pixels.astype(np.float32) / 255.0, by)
            saved += 1
        except ValueError as err:  # a duplicate of one already saved, a full class: the rest still go in
            notes.append(str(err))
    return owndata.open_dataset(ds.name), saved, notes


# ---- back onto a canvas ----------------------------------------------------------------------------------------

def canvas_drawing(pixels: np.ndarray, size: int = 280) -> dict:
    """A wall thumbnail ((28, 28) uint8) as a drawing for the Draw page's canvas (fabric.js JSON, its
    `initial_drawing`): one grey rectangle per run of equal pixels in a row, each pixel size/28 wide."""
    thumb = np.asarray(pixels)
    if thumb.shape != (SIDE, SIDE) or thumb.dtype != np.uint8:
        raise ValueError(f"a wall thumbnail is {SIDE}x{SIDE} uint8, got {thumb.dtype} {thumb.shape}")
    cell, objects = size / SIDE, []
    for y in range(SIDE):
        x = 0
        while x < SIDE:
            v, end = int(thumb[y, x]), x + 1
            while end < SIDE and thumb[y, end] == v:
                end += 1
            if v:
                objects.append({"type": "rect", "left": x * cell, "top": y * cell, "width": (end - x) * cell,
                                "height": cell, "fill": f"rgb({v},{v},{v})", "stroke": None, "strokeWidth": 0,
                                "selectable": False})
            x = end
    return {"version": "4.4.0", "objects": objects}


def render(drawing: dict, size: int = 280) -> np.ndarray:
    """The canvas picture a `canvas_drawing` makes: (size, size, 4) RGBA uint8, black behind (for tests, tools)."""
    out = np.zeros((size, size, 4), np.uint8)
    out[..., 3] = 255
    for o in drawing["objects"]:
        v = int(o["fill"][4:].split(",")[0])
        top, left = round(o["top"]), round(o["left"])
        out[top:top + round(o["height"]), left:left + round(o["width"]), :3] = v
    return out
