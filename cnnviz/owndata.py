"""Your own datasets: a few classes of 28x28 drawings kept as plain files, trained on like MNIST.

A dataset is a folder in torchvision's ImageFolder layout, `<root>/NAME/CLASS/*.png`, one 28x28
grey PNG (light ink on black, MNIST-style) per example, so `torchvision.datasets.ImageFolder`
reads it back. Shipped examples live in `datasets/` (read-only: copy one to edit it); yours live
in `$CNNVIZ_USER_DATA`, else `datasets/user/` (git-ignored).

Every write is atomic: an example is written to a temp file and renamed into place; a new,
copied or imported dataset is built in a hidden temp folder and renamed into place whole. A
crash leaves at most a hidden temp file or folder, which nothing lists and which is swept later
(cnnviz.store: the one clean-up rule own datasets and checkpoints share).

A dataset belongs to the browser session that made it (created, copied or imported): a hash of that
session's secret token is kept in the dataset's hidden `.owner` file. Only that session and the teacher
may add or delete examples, add classes or delete it; anyone may copy it. Functions that change a
dataset take `by`, an `Editor`; None is code on the server itself (tools, tests), as the teacher. A
dataset with no owner on record (made before owners were kept, or on the server) is the teacher's.

Zips in and out: cnnviz.ownzip. Training splits (read back, held out, augmented): cnnviz.ownsplits.
"Own dataset or MNIST family?": cnnviz.registry.
"""
from __future__ import annotations

import hashlib
import hmac
import io
import os
import re
import secrets
import shutil
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from cnnviz import preprocess, registry
from cnnviz.images import read_upload
from cnnviz.registry import PREFIX
from cnnviz.store import DELETED, TEMP, Store, hidden
from cnnviz.text import cut, shorten

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "datasets"
SIDE = preprocess.SIZE           # 28
NORMALIZE = registry.normalization(PREFIX)  # drawings are prepared like MNIST, so they are normalised like it
MIN_CLASSES, MAX_CLASSES = 2, 10
MIN_EXAMPLES = 5                 # per class, to train (4 to learn from, at least 1 to test on)
MAX_EXAMPLES = 500               # per class
MAX_NAME = 40
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}
OWNER_FILE = ".owner"            # hidden: never a class, never listed, never zipped


@dataclass(frozen=True)
class OwnDataset:
    """One dataset on disk: its classes (sorted, as ImageFolder orders them) and each class's PNG files."""

    name: str
    folder: Path
    classes: tuple[str, ...]
    files: tuple[tuple[Path, ...], ...]   # files[k]: the examples of classes[k], sorted
    shipped: bool
    owner: str | None = None   # SHA-256 of the owning session's token; None: no owner on record (the teacher's)

    @property
    def key(self) -> str:
        """The trainer's dataset key: 'own:NAME'."""
        return PREFIX + self.name

    @property
    def counts(self) -> dict[str, int]:
        """Examples per class."""
        return {c: len(f) for c, f in zip(self.classes, self.files)}

    def problems(self) -> list[str]:
        """What stops training on it, in plain sentences ([] when it is ready)."""
        out = []
        if len(self.classes) < MIN_CLASSES:
            out.append(f"A dataset needs at least {MIN_CLASSES} classes to tell apart; it has {len(self.classes)}.")
        if len(self.classes) > MAX_CLASSES:
            out.append(f"{len(self.classes)} classes is more than the {MAX_CLASSES} a dataset may have.")
        few = [f"{c} ({n})" for c, n in self.counts.items() if n < MIN_EXAMPLES]
        if few:
            out.append(f"Every class needs at least {MIN_EXAMPLES} examples; add more to: {', '.join(few)}.")
        return out


@dataclass(frozen=True)
class Editor:
    """Who asks to change a dataset: a browser session's secret token (never shown) and whether it is the teacher."""

    token: str
    teacher: bool = False


# --- names and places ------------------------------------------------------------------------------

STORE = Store(SHIPPED, "CNNVIZ_USER_DATA")


def user_dir() -> Path:
    """Where your datasets go: $CNNVIZ_USER_DATA, else datasets/user/ (git-ignored)."""
    return STORE.user_dir()


def check_name(text: str, what: str = "class name") -> str:
    """A safe dataset or class name (trimmed, NFC), or ValueError saying what is wrong with it."""
    name = unicodedata.normalize("NFC", str(text)).strip()
    shown = cut(name, 30)
    if not name:
        raise ValueError(f"The {what} is empty: type a name.")
    if len(name) > MAX_NAME:
        raise ValueError(f"The {what} '{shown}' is {len(name)} characters long; at most {MAX_NAME}, please.")
    bad = sorted({ch for ch in name if not (ch.isalnum() or ch in " _-")})
    if bad:
        listed = ", ".join(f"'{repr(ch)[1:-1]}'" if ch.isprintable() or ch in "\t\n\r" else f"U+{ord(ch):04X}"
                           for ch in bad)
        raise ValueError(f"The {what} '{shown}' contains {listed}: use letters, digits, spaces, '-' and '_' only.")
    if not name[0].isalnum():
        raise ValueError(f"The {what} '{shown}' must start with a letter or a digit.")
    if name.casefold() in _RESERVED or name.casefold() == "user":
        raise ValueError(f"'{shown}' is a reserved name; choose another {what}.")
    return name


def check_classes(names: list[str]) -> list[str]:
    """2-10 distinct valid class names (duplicates compared ignoring case), or ValueError naming the problem."""
    cleaned = [check_name(n) for n in names]
    if len(cleaned) < MIN_CLASSES:
        raise ValueError(f"Name at least {MIN_CLASSES} classes: a network learns to tell things apart "
                         f"(you gave {len(cleaned)}).")
    if len(cleaned) > MAX_CLASSES:
        raise ValueError(f"{len(cleaned)} classes is too many: at most {MAX_CLASSES}.")
    seen: dict[str, str] = {}
    for n in cleaned:
        if n.casefold() in seen:
            raise ValueError(f"The class name '{n}' is given twice" +
                             (f" ('{seen[n.casefold()]}' and '{n}' differ only in capitals)." if seen[n.casefold()] != n
                              else "."))
        seen[n.casefold()] = n
    return cleaned






def _folder_of(name: str) -> tuple[Path, bool] | None:
    for base, shipped in STORE.bases():
        folder = base / name
        if folder.is_dir() and not (shipped and (name == "user" or folder.resolve() == user_dir().resolve())):
            return folder, shipped
    return None


def available() -> list[str]:
    """Names of the datasets on disk: shipped ones first, then yours (hidden and temp folders skipped)."""
    names: list[str] = []
    user = user_dir().resolve()
    if user.is_dir():
        STORE.cleanup(user)  # what a killed delete or import left: the next visitor's listing removes it
    for base, shipped in STORE.bases():
        if not base.is_dir():
            continue
        for folder in sorted(base.iterdir()):
            if (folder.is_dir() and not folder.name.startswith(".") and folder.name not in names
                    and not (shipped and (folder.name == "user" or folder.resolve() == user))):
                names.append(folder.name)
    return names




def open_dataset(name_or_key: str) -> OwnDataset:
    """The dataset called `name` (or 'own:name') as it is on disk now; ValueError when there is none."""
    name = str(name_or_key).removeprefix(PREFIX)
    found = _folder_of(name) if name and "/" not in name and not name.startswith(".") else None
    if found is None:
        raise ValueError(f"There is no dataset called '{name}' (there are: {', '.join(available()) or 'none'}).")
    folder, shipped = found
    classes = sorted(p.name for p in folder.iterdir() if p.is_dir())  # ImageFolder's order: sorted folder names
    files = tuple(tuple(sorted(p for p in (folder / c).iterdir()
                               if p.suffix == ".png" and not p.name.startswith(".") and p.is_file()))
                  for c in classes)
    return OwnDataset(name, folder, tuple(classes), files, shipped, None if shipped else _read_owner(folder))


# --- writing -------------------------------------------------------------------------------------

def new_token() -> str:
    """A fresh secret token for one browser session (it proves that session made a dataset)."""
    return secrets.token_urlsafe(24)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _read_owner(folder: Path) -> str | None:
    try:
        text = (folder / OWNER_FILE).read_text("ascii").strip()
    except (OSError, UnicodeError):
        return None
    return text if re.fullmatch(r"[0-9a-f]{64}", text) else None


def _is_owner(ds: OwnDataset, by: Editor | None) -> bool:
    return (by is not None and bool(by.token) and ds.owner is not None
            and hmac.compare_digest(ds.owner, _digest(by.token)))


def can_change(ds: OwnDataset, by: Editor | None) -> bool:
    """True when `by` may add or delete examples, add classes or delete `ds`: its owner or the teacher (None:
    code on the server itself). Nobody changes a shipped dataset."""
    return not ds.shipped and (by is None or by.teacher or _is_owner(ds, by))


def rights(ds: OwnDataset, by: Editor | None) -> str:
    """Who may change `ds`, as `by` sees it: a sentence that follows the dataset's name on the page."""
    copy_it = "Make your own copy to add or delete examples."
    if ds.shipped:
        return "ships with cnnviz and is read-only: make your own copy to add or delete examples."
    if _is_owner(ds, by):
        return ("is yours: only this browser tab (until it is reloaded) and the teacher can change or delete it; "
                "others can make their own copy.")
    made = ("was made by another browser session" if ds.owner else
            "has no owner on record (made before datasets had owners, or on the server itself)")
    if by is None or by.teacher:
        return f"{made}. You are the teacher (a browser on the server's own computer): you can change or delete it."
    if ds.owner:
        return f"{made}: only that session and the teacher can change it. {copy_it}"
    return f"{made}: only the teacher can change it. {copy_it}"


def _writable(name: str, by: Editor | None = None) -> OwnDataset:
    ds = open_dataset(name)
    if ds.shipped:
        raise ValueError(f"'{ds.name}' ships with cnnviz and is read-only: make a copy to change it.")
    if not can_change(ds, by):
        raise ValueError(f"'{ds.name}' {rights(ds, by)}")
    return ds


def _class_folder(ds: OwnDataset, cls: str) -> Path:
    if cls not in ds.classes:
        raise ValueError(f"'{ds.name}' has no class '{cls}' (it has: {', '.join(ds.classes)}).")
    return ds.folder / cls


def _free(name: str) -> str:
    """`name`, or name-2, name-3 ... when taken (shipped or yours)."""
    taken = {n.casefold() for n in available()}
    if name.casefold() not in taken:
        return name
    n = 2
    while f"{name}-{n}".casefold() in taken:
        n += 1
    return f"{name}-{n}"


def _publish(build, name: str, by: Editor | None = None) -> OwnDataset:
    """Build a dataset in a hidden temp folder with `build(folder)`, owned by `by`, then rename it into place whole."""
    base = user_dir()
    base.mkdir(parents=True, exist_ok=True)
    STORE.cleanup(base)
    tmp = base / hidden(TEMP, name)
    try:
        tmp.mkdir()
        build(tmp)
        if by is not None and by.token:
            (tmp / OWNER_FILE).write_text(_digest(by.token) + "\n", "ascii")
        os.chmod(tmp, 0o755)
        target = base / name
        if target.exists() or _folder_of(name) is not None:
            raise ValueError(f"A dataset called '{name}' already exists: choose another name.")
        os.rename(tmp, target)  # atomic on one file system; fails rather than merge if target appeared meanwhile
    except OSError as err:
        raise ValueError(f"Could not save the dataset '{name}': {err.strerror or err}") from err
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return open_dataset(name)


def create(name: str, classes: list[str], by: Editor | None = None) -> OwnDataset:
    """A new empty dataset with 2-10 class folders, owned by `by`; ValueError for a bad or taken name."""
    name = check_name(name, "dataset name")
    classes = check_classes(classes)
    if _folder_of(name) is not None or name.casefold() in {n.casefold() for n in available()}:
        raise ValueError(f"A dataset called '{name}' already exists: choose another name.")
    return _publish(lambda tmp: [(tmp / c).mkdir() for c in classes], name, by)


def add_class(name: str, cls: str, by: Editor | None = None) -> OwnDataset:
    """Add one (empty) class to a dataset `by` may change."""
    ds = _writable(name, by)
    check_classes([*ds.classes, cls])
    (ds.folder / check_name(cls)).mkdir()
    return open_dataset(name)


def copy(name: str, new_name: str | None = None, by: Editor | None = None) -> OwnDataset:
    """A copy of any dataset (a shipped one or another's, to edit it), owned by `by`; returns the copy."""
    src = open_dataset(name)
    new = _free(check_name(new_name or f"my {src.name}", "dataset name"))
    return _publish(lambda tmp: [shutil.copytree(src.folder / c, tmp / c) for c in src.classes], new, by)


def delete_dataset(name: str, by: Editor | None = None) -> None:
    """Remove a dataset `by` may change: moved into a fresh hidden folder first (atomic), then deleted.

    The hidden folder's name is new every time, so what a killed delete left never blocks the next one;
    it is swept by the next delete or listing.
    """
    ds = _writable(name, by)
    base = ds.folder.parent
    STORE.cleanup(base)
    grave = None
    try:
        grave = base / hidden(DELETED, ds.folder.name)
        grave.mkdir()
        os.rename(ds.folder, grave / ds.folder.name)
    except OSError as err:
        raise ValueError(f"Could not delete the dataset '{ds.name}': {err.strerror or err}") from err
    finally:
        if grave is not None:
            shutil.rmtree(grave, ignore_errors=True)


def _png(pixels: np.ndarray) -> bytes:
    """(28, 28) in [0, 1] -> 8-bit grey PNG bytes."""
    arr = np.clip(np.rint(np.asarray(pixels, dtype=np.float32) * 255.0), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr, "L").save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def _content_path(folder: Path, pixels: np.ndarray) -> tuple[Path, bytes]:
    blob = _png(pixels)
    return folder / f"{hashlib.sha1(blob).hexdigest()[:16]}.png", blob


def _write_png(folder: Path, pixels: np.ndarray) -> Path:
    """Write one example atomically, named by its content (the same drawing twice is kept once)."""
    path, blob = _content_path(folder, pixels)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".", suffix=".tmp")  # .tmp: not a picture to ImageFolder
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def _check_pixels(pixels: np.ndarray) -> np.ndarray:
    pixels = np.asarray(pixels, dtype=np.float32)
    if pixels.shape != (SIDE, SIDE):
        raise ValueError(f"an example must be {SIDE}x{SIDE} pixels, got shape {pixels.shape}")
    if float(pixels.max()) <= preprocess.INK:
        raise preprocess.EmptyInput("The picture has no ink: nothing to learn from.")
    return pixels


def add_pixels(name: str, cls: str, pixels: np.ndarray, by: Editor | None = None) -> Path:
    """Save one prepared (28, 28) example in [0, 1] into class `cls`; returns its file."""
    ds = _writable(name, by)
    folder = _class_folder(ds, cls)
    if len(ds.files[ds.classes.index(cls)]) >= MAX_EXAMPLES:
        raise ValueError(f"'{cls}' already has {MAX_EXAMPLES} examples, the most a class may have.")
    pixels = _check_pixels(pixels)
    if _content_path(folder, pixels)[0].exists():
        raise ValueError(f"After preparation this is exactly like an example already in '{cls}': "
                         "draw it a bit differently (size, slant, stroke) to teach the network something new.")
    return _write_png(folder, pixels)


def add_drawing(name: str, cls: str, rgba: np.ndarray, by: Editor | None = None) -> Path:
    """A canvas drawing (H, W, 4) -> the Draw page's MNIST preparation -> one saved example."""
    _writable(name, by)  # refused before the drawing is prepared
    return add_pixels(name, cls, preprocess.to_mnist(rgba).pixels, by)


def picture_pixels(blob: bytes) -> np.ndarray:
    """Picture bytes -> (28, 28) example: a 28x28 light-on-dark grey picture as it is, anything else prepared."""
    picture = read_upload(blob, max_side=preprocess.UPLOAD_SIDE, grey=True)
    px = picture.pixels
    if px.shape == (SIDE, SIDE) and picture.alpha is None and float(np.median(px)) <= 0.5:
        return _check_pixels(px)  # already an example (an exported dataset): kept exactly
    return preprocess.from_picture(picture).pixels  # the same decoded picture: decoded once, not twice


def add_pictures(name: str, cls: str, uploads: list[tuple[str, bytes]],
                 by: Editor | None = None) -> tuple[list[Path], list[str]]:
    """Prepare and save several uploaded pictures; (saved files, one message per picture that was refused)."""
    try:
        _writable(name, by)
    except ValueError as err:  # gone, or someone else's: every picture refused, none decoded
        return [], [f"{shorten(filename)}: {err}" for filename, _ in uploads]
    saved, refused = [], []
    for filename, blob in uploads:
        try:
            saved.append(add_pixels(name, cls, picture_pixels(blob), by))
        except ValueError as err:  # EmptyInput too: a picture with no ink
            refused.append(f"{shorten(filename)}: {err}")
    return saved, refused


def delete_example(name: str, cls: str, filename: str, by: Editor | None = None) -> None:
    """Delete one example file of a dataset `by` may change."""
    folder = _class_folder(_writable(name, by), cls)
    if Path(filename).name != filename or not filename.endswith(".png"):
        raise ValueError(f"'{shorten(filename)}' is not an example file name")
    path = folder / filename
    if not path.is_file():
        raise ValueError(f"'{cls}' has no example '{filename}' (already deleted?)")
    path.unlink()


# --- what the trainer needs -----------------------------------------------------------------------

def fingerprint(name_or_key: str) -> str:
    """Changes whenever an example is added or deleted (files are named by content): a cache key."""
    ds = open_dataset(name_or_key)
    listing = "\n".join(f"{c}/{p.name}" for c, files in zip(ds.classes, ds.files) for p in files)
    return hashlib.sha1(listing.encode("utf-8")).hexdigest()






def label(key: str, by: Editor | None = None) -> str:
    """How a dataset picker shows an own dataset to `by`: 'shapes (example: circle, square, triangle)',
    'letters (yours: a, b)', or 'shared' for one `by` did not make (None: every dataset not shipped is 'yours')."""
    ds = open_dataset(key)
    whose = "example" if ds.shipped else "yours" if by is None or _is_owner(ds, by) else "shared"
    return f"{ds.name} ({whose}: {', '.join(ds.classes)})"

