"""Your own datasets: a few classes of 28x28 drawings kept as plain files, trained on like MNIST.

A dataset is a folder in torchvision's ImageFolder layout, `<root>/NAME/CLASS/*.png`, one 28x28
grey PNG (light ink on black, MNIST-style) per example, so `torchvision.datasets.ImageFolder`
reads it back. Shipped examples live in `datasets/` (read-only: copy one to edit it); yours live
in `$CNNVIZ_USER_DATA`, else `datasets/user/` (git-ignored).

Every write is atomic: an example is written to a temp file and renamed into place; a new,
copied or imported dataset is built in a hidden temp folder and renamed into place whole. A
crash leaves at most a hidden temp file or folder, which nothing lists and which is swept later.

A dataset belongs to the browser session that made it (created, copied or imported): a hash of that
session's secret token is kept in the dataset's hidden `.owner` file. Only that session and the teacher
may add or delete examples, add classes or delete it; anyone may copy it. Functions that change a
dataset take `by`, an `Editor`; None is code on the server itself (tools, tests), as the teacher. A
dataset with no owner on record (made before owners were kept, or on the server) is the teacher's.

Zips are never extracted: each entry's path only names a class, its bytes are checked against
size limits before they are read and decoded as a picture, and cnnviz writes its own PNG files.
"""
from __future__ import annotations

import hashlib
import hmac
import io
import math
import os
import re
import secrets
import shutil
import stat
import tempfile
import time
import unicodedata
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from cnnviz import data, preprocess, registry
from cnnviz.images import decoded_size, read_upload
from cnnviz.messages import no_paths
from cnnviz.registry import PREFIX

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "datasets"
SIDE = preprocess.SIZE           # 28
NORMALIZE = registry.normalization(PREFIX)  # drawings are prepared like MNIST, so they are normalised like it
MIN_CLASSES, MAX_CLASSES = 2, 10
MIN_EXAMPLES = 5                 # per class, to train (4 to learn from, at least 1 to test on)
MAX_EXAMPLES = 500               # per class
MAX_NAME = 40
MAX_ZIP_BYTES = 20 * 2**20       # the upload limit
MAX_ZIP_FILES = MAX_CLASSES * MAX_EXAMPLES
MAX_ZIP_UNPACKED = 100 * 2**20   # declared total size of all entries
MAX_ENTRY_BYTES = 10 * 2**20     # one picture
MAX_RATIO = 200                  # declared size / compressed size of one entry: more is a zip bomb
# What decoding costs is pixels, not bytes: 5,000 copies of a 3 kB 1-bit 5000x5000 PNG pass every byte limit
# above and took ~75 ms of CPU each (bench/zip_bomb.py). An RGB PNG costs ~18 ns a pixel to decode.
MAX_ZIP_PIXELS = 500_000_000     # all pictures of one zip as decoded, counted from their headers first
MAX_IMPORT_CPU_S = 30.0          # CPU seconds of the importing thread
MAX_IMPORT_WALL_S = 120.0        # seconds on the clock (a class loads the server: CPU is the tighter one alone)
JUNK = ("__MACOSX", ".DS_Store", "Thumbs.db", "desktop.ini")
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}
_TMP = ".tmp-"
OWNER_FILE = ".owner"            # hidden: never a class, never listed, never zipped
_DELETED = _TMP + "deleted-"  # a dataset being deleted (a killed delete leaves one)


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


@dataclass(frozen=True)
class ZipLimits:
    """What importing one zip may cost: decoded pixels (counted from headers before decoding), CPU and wall seconds."""

    pixels: int = MAX_ZIP_PIXELS
    cpu_s: float = MAX_IMPORT_CPU_S
    wall_s: float = MAX_IMPORT_WALL_S


@dataclass(frozen=True)
class OwnSplit(data.Split):
    """A Split of an own dataset: same tensors as MNIST's, its class names carried along."""

    class_names: tuple[str, ...] = ()

    @property
    def classes(self) -> tuple[str, ...]:
        return self.class_names

    def subset(self, n: int) -> OwnSplit:
        """The first `n` examples (a view, no copy)."""
        return replace(self, images=self.images[:n], labels=self.labels[:n])

    def to(self, device: torch.device | str) -> OwnSplit:
        """The same split on another device."""
        return replace(self, images=self.images.to(device), labels=self.labels.to(device))


# --- names and places ------------------------------------------------------------------------------

def user_dir() -> Path:
    """Where your datasets go: $CNNVIZ_USER_DATA, else datasets/user/ (git-ignored)."""
    return Path(os.environ.get("CNNVIZ_USER_DATA") or SHIPPED / "user")


def check_name(text: str, what: str = "class name") -> str:
    """A safe dataset or class name (trimmed, NFC), or ValueError saying what is wrong with it."""
    name = unicodedata.normalize("NFC", str(text)).strip()
    shown = name if len(name) <= 30 else name[:30] + "…"
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






def _bases() -> list[tuple[Path, bool]]:
    return [(SHIPPED, True), (user_dir(), False)]


def _folder_of(name: str) -> tuple[Path, bool] | None:
    for base, shipped in _bases():
        folder = base / name
        if folder.is_dir() and not (shipped and (name == "user" or folder.resolve() == user_dir().resolve())):
            return folder, shipped
    return None


def available() -> list[str]:
    """Names of the datasets on disk: shipped ones first, then yours (hidden and temp folders skipped)."""
    names: list[str] = []
    user = user_dir().resolve()
    if user.is_dir():
        _sweep(user)  # what a killed delete or import left: the next visitor's listing removes it
    for base, shipped in _bases():
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


def _sweep(base: Path, older_than_s: float = 3600) -> None:
    """Remove what crashes left behind (hidden, so nothing ever listed it): a killed delete's folder at once, a
    build folder once it is `older_than_s` old (younger ones may be an import still running in another session)."""
    for p in base.glob(_TMP + "*"):
        try:
            if p.name.startswith(_DELETED) or time.time() - p.stat().st_mtime > older_than_s:
                shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink()
        except OSError:
            pass


def _publish(build, name: str, by: Editor | None = None) -> OwnDataset:
    """Build a dataset in a hidden temp folder with `build(folder)`, owned by `by`, then rename it into place whole."""
    base = user_dir()
    base.mkdir(parents=True, exist_ok=True)
    _sweep(base)
    tmp = Path(tempfile.mkdtemp(dir=base, prefix=_TMP))
    try:
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
    _sweep(base)
    grave = None
    try:
        grave = Path(tempfile.mkdtemp(dir=base, prefix=_DELETED))
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
        return [], [f"{_shown(filename)}: {err}" for filename, _ in uploads]
    saved, refused = [], []
    for filename, blob in uploads:
        try:
            saved.append(add_pixels(name, cls, picture_pixels(blob), by))
        except ValueError as err:  # EmptyInput too: a picture with no ink
            refused.append(f"{_shown(filename)}: {err}")
    return saved, refused


def delete_example(name: str, cls: str, filename: str, by: Editor | None = None) -> None:
    """Delete one example file of a dataset `by` may change."""
    folder = _class_folder(_writable(name, by), cls)
    if Path(filename).name != filename or not filename.endswith(".png"):
        raise ValueError(f"'{_shown(filename)}' is not an example file name")
    path = folder / filename
    if not path.is_file():
        raise ValueError(f"'{cls}' has no example '{filename}' (already deleted?)")
    path.unlink()


def _shown(text: str, limit: int = 60) -> str:
    text = "".join(ch if ch.isprintable() else "?" for ch in str(text))
    return text if len(text) <= limit else text[:limit] + "…"


# --- reading and training splits ---------------------------------------------------------------------

def read_pixels(path: Path) -> np.ndarray:
    """One example file -> (28, 28) float32 in [0, 1]; ValueError when it is not a 28x28 picture."""
    try:
        with Image.open(path) as img:
            arr = np.asarray(img.convert("L"), dtype=np.float32) / 255.0
    except (OSError, SyntaxError, ValueError) as err:
        raise ValueError(f"{path.name} cannot be read as a picture ({no_paths(err)})") from err
    if arr.shape != (SIDE, SIDE):
        raise ValueError(f"{path.name} is {arr.shape[1]}x{arr.shape[0]}, not {SIDE}x{SIDE}")
    return arr


def read_all(ds: OwnDataset) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Every example: pixels (N, 28, 28) in [0, 1], labels (N,), and a note per unreadable file (skipped)."""
    pixels, labels, notes = [], [], []
    for k, files in enumerate(ds.files):
        for path in files:
            try:
                pixels.append(read_pixels(path))
                labels.append(k)
            except ValueError as err:
                notes.append(f"{ds.classes[k]}/{err}: skipped")
    stack = np.stack(pixels) if pixels else np.zeros((0, SIDE, SIDE), np.float32)
    return stack, np.asarray(labels, dtype=np.int64), notes


def stratified_split(labels: np.ndarray, test_fraction: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, test indices): the same fraction of every class held out (at least one), seeded."""
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be between 0 and 1, got {test_fraction}")
    rng = np.random.default_rng(seed)
    train, test = [], []
    for k in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == k))
        n_test = min(max(1, round(len(idx) * test_fraction)), len(idx) - 1)
        test.extend(idx[:n_test])
        train.extend(idx[n_test:])
    return np.sort(np.asarray(train, dtype=np.int64)), np.sort(np.asarray(test, dtype=np.int64))


def augment(pixels: torch.Tensor, copies: int, seed: int = 0, shift: float = 2.0, degrees: float = 12.0,
            scale: float = 0.1) -> torch.Tensor:
    """(N, 1, 28, 28) in [0, 1] -> (N * copies, 1, 28, 28): the originals, then copies shifted by up to `shift`
    px, rotated by up to `degrees`, scaled by up to `scale`, with strokes made thinner or thicker (seeded)."""
    if copies < 1:
        raise ValueError(f"copies must be >= 1, got {copies}")
    gen = torch.Generator().manual_seed(seed)
    x = pixels.repeat(copies - 1, 1, 1, 1)  # (M, 1, 28, 28)
    if not len(x):
        return pixels.clone()
    m = len(x)
    u = lambda: torch.rand(m, generator=gen) * 2 - 1  # noqa: E731  uniform in [-1, 1]
    angle, zoom = u() * math.radians(degrees), 1 + u() * scale
    tx, ty = u() * shift * 2 / SIDE, u() * shift * 2 / SIDE  # affine_grid works in [-1, 1] units
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    theta = torch.stack([torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1)  # (M, 2, 3)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    width = torch.randint(0, 3, (m,), generator=gen)  # 0 thinner, 1 as drawn, 2 thicker
    thick = torch.maximum(x, 0.8 * F.max_pool2d(x, 3, 1, 1))
    thin = 0.5 * x + 0.5 * -F.max_pool2d(-x, 3, 1, 1)
    x = torch.where((width == 2)[:, None, None, None], thick, torch.where((width == 0)[:, None, None, None], thin, x))
    return torch.cat([pixels, x.clamp_(0.0, 1.0)])


def copies_for(n_train: int, target: int = 2400, most: int = 100) -> int:
    """How many augmented copies make about `target` training images (tens of drawings -> thousands)."""
    return max(1, min(most, math.ceil(target / max(n_train, 1))))


def _split(ds: OwnDataset, part: str, pixels: np.ndarray, labels: np.ndarray) -> OwnSplit:
    mean, std = NORMALIZE
    images = ((torch.from_numpy(pixels).float() - mean) / std).unsqueeze(1).contiguous() if pixels.ndim == 3 \
        else ((pixels - mean) / std).contiguous()
    return OwnSplit(ds.key, part, images, torch.as_tensor(labels, dtype=torch.long), mean, std, ds.classes)


def splits(name_or_key: str, seed: int = 0, test_fraction: float = 0.2,
           copies: int | None = None) -> tuple[OwnSplit, OwnSplit]:
    """(augmented training split, held-out test split) of a dataset; ValueError when it is not ready to train."""
    ds = open_dataset(name_or_key)
    if problems := ds.problems():
        raise ValueError(" ".join(problems))
    pixels, labels, _ = read_all(ds)
    train_idx, test_idx = stratified_split(labels, test_fraction, seed)
    copies = copies or copies_for(len(train_idx))
    raw = torch.from_numpy(pixels[train_idx]).unsqueeze(1)  # (n, 1, 28, 28)
    train_x = augment(raw, copies, seed)
    train_y = np.tile(labels[train_idx], copies)
    return _split(ds, "train", train_x, train_y), _split(ds, "test", pixels[test_idx], labels[test_idx])


def to_image_folder(name: str):
    """The dataset read by torchvision's own ImageFolder (grey 28x28 PIL images): proof the layout is standard."""
    from torchvision.datasets import ImageFolder

    return ImageFolder(str(open_dataset(name).folder), loader=lambda p: Image.open(p).convert("L"))


# --- zip out and in ---------------------------------------------------------------------------------

def to_zip(name: str) -> bytes:
    """The dataset as a .zip holding NAME/CLASS/*.png (empty classes kept as folders)."""
    ds = open_dataset(name)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:  # PNGs are compressed already
        for cls, files in zip(ds.classes, ds.files):
            zf.writestr(f"{ds.name}/{cls}/", b"")
            for path in files:
                zf.writestr(f"{ds.name}/{cls}/{path.name}", path.read_bytes())
    return buf.getvalue()


def _entry_parts(info: zipfile.ZipInfo) -> list[str]:
    """The path parts of one zip entry; ValueError for an absolute path, '..', a symlink or encryption."""
    raw = info.filename
    if raw.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", raw):
        raise ValueError(f"The zip holds an absolute path ('{_shown(raw)}'): refused, nothing was saved.")
    parts = [p for p in re.split(r"[/\\]", raw) if p not in ("", ".")]
    if ".." in parts:
        raise ValueError(f"The zip holds a path leaving its folder ('{_shown(raw)}'): refused, nothing was saved.")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise ValueError(f"The zip holds a symbolic link ('{_shown(raw)}'): refused, nothing was saved.")
    if info.flag_bits & 0x1:
        raise ValueError(f"The zip is password-protected ('{_shown(raw)}'): refused.")
    return parts


def _zip_entries(zf: zipfile.ZipFile) -> list[tuple[zipfile.ZipInfo, list[str]]]:
    """Every picture entry with its path parts, after the count, size and path checks (nothing read yet)."""
    infos = zf.infolist()
    if len(infos) > MAX_ZIP_FILES + MAX_CLASSES + 1:
        raise ValueError(f"The zip holds {len(infos):,} entries; at most {MAX_ZIP_FILES:,} pictures are accepted.")
    total = sum(i.file_size for i in infos)
    if total > MAX_ZIP_UNPACKED:
        raise ValueError(f"The zip would unpack to {total / 2**20:,.0f} MB; the limit is "
                         f"{MAX_ZIP_UNPACKED // 2**20} MB (a zip bomb?). Nothing was read.")
    entries = []
    for info in infos:
        parts = _entry_parts(info)
        if not parts or info.is_dir() or any(p in JUNK or p.startswith(".") for p in parts):
            continue
        if info.file_size > MAX_ENTRY_BYTES or info.file_size > MAX_RATIO * max(info.compress_size, 1) + 2**16:
            raise ValueError(f"'{_shown(info.filename)}' unpacks to {info.file_size / 2**20:,.1f} MB from "
                             f"{info.compress_size:,} bytes: refused as a zip bomb. Nothing was read.")
        entries.append((info, parts))
    return entries


def _layout(entries: list[tuple[zipfile.ZipInfo, list[str]]]) -> tuple[str | None, dict[str, list]]:
    """(top folder name or None, class -> entries) for CLASS/file or NAME/CLASS/file; ValueError otherwise."""
    if not entries:
        raise ValueError("The zip holds no pictures: it should hold one folder per class.")
    tops = {parts[0] for _, parts in entries}
    top = tops.pop() if len(tops) == 1 and all(len(p) >= 3 for _, p in entries) else None
    by_class: dict[str, list] = {}
    for info, parts in entries:
        rest = parts[1:] if top else parts
        if len(rest) != 2:
            where = "is not inside a class folder" if len(rest) < 2 else "is nested too deep"
            raise ValueError(f"'{_shown(info.filename)}' {where}: the zip should hold one folder per class, "
                             f"each holding pictures (CLASS/picture.png or NAME/CLASS/picture.png).")
        by_class.setdefault(rest[0], []).append(info)
    check_classes(list(by_class))
    for cls, infos in by_class.items():
        if len(infos) > MAX_EXAMPLES:
            raise ValueError(f"Class '{cls}' holds {len(infos)} pictures; at most {MAX_EXAMPLES} per class.")
    return top, by_class


def _read_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """An entry's bytes, reading at most its declared size (a header that lies about it is refused)."""
    try:
        with zf.open(info) as f:
            blob = f.read(info.file_size + 1)
    except (zipfile.BadZipFile, OSError, EOFError) as err:  # bad CRC, damaged data
        raise ValueError(f"'{_shown(info.filename)}' is damaged in the zip ({err}).") from err
    if len(blob) > info.file_size:
        raise ValueError(f"'{_shown(info.filename)}' is larger than its zip header says: refused.")
    return blob


def _looks_like_picture(blob: bytes) -> bool:
    """True when PIL recognises the file's format from its header (it may still be damaged or too big)."""
    try:
        with Image.open(io.BytesIO(blob)):
            return True
    except Exception:  # UnidentifiedImageError, or a header too broken to name  # noqa: BLE001
        return False


class _Stopwatch:
    """The import's own CPU (this thread's: other sessions' work not counted) and wall time against its limits."""

    def __init__(self, limits: ZipLimits) -> None:
        self.limits, self.cpu0, self.wall0 = limits, time.thread_time(), time.monotonic()

    def check(self, step: str, done: int, total: int) -> None:
        cpu, wall = time.thread_time() - self.cpu0, time.monotonic() - self.wall0
        if cpu > self.limits.cpu_s or wall > self.limits.wall_s:
            raise ValueError(f"Importing this zip was stopped: after {wall:,.1f} s ({cpu:,.1f} s of the server's CPU; "
                             f"the limits are {self.limits.cpu_s:,.0f} s of CPU and {self.limits.wall_s:,.0f} s) "
                             f"it had {step} {done:,} of its {total:,} pictures. Nothing was saved: make the "
                             "pictures smaller (a few hundred pixels across is plenty) or split the zip.")


def _count_pixels(zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo], limits: ZipLimits, clock: _Stopwatch) -> None:
    """Refuse, before any picture is decoded, a zip whose pictures would decode to more than `limits.pixels`."""
    total = 0
    for n, info in enumerate(infos, 1):
        try:
            w, h = decoded_size(_read_entry(zf, info), max_side=preprocess.UPLOAD_SIDE)
            total += w * h
        except ValueError:
            pass  # damaged, not a picture or too big to open: judged (refused or skipped) when it is read
        clock.check("looked at", n, len(infos))
    if total > limits.pixels:
        raise ValueError(f"The zip's {len(infos):,} pictures would decode to {_megapixels(total)} megapixels "
                         f"(counted from their headers); at most {_megapixels(limits.pixels)} megapixels per zip. "
                         "Nothing was decoded or saved: make the pictures smaller (a few hundred pixels across "
                         "is plenty) or split the zip.")


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1e6:,.1f}" if pixels < 10_000_000 else f"{pixels / 1e6:,.0f}"


def _decode_all(zf: zipfile.ZipFile, by_class: dict[str, list], clock: _Stopwatch
                ) -> tuple[dict[str, list[np.ndarray]], list[str]]:
    """class -> prepared (28, 28) examples, and a note per skipped picture; ValueError for a file that is not one."""
    examples: dict[str, list[np.ndarray]] = {}
    notes: list[str] = []
    total, done = sum(len(v) for v in by_class.values()), 0
    for cls, infos in by_class.items():
        pics = examples[check_name(cls)] = []
        for info in infos:
            blob_i = _read_entry(zf, info)
            try:
                pics.append(picture_pixels(blob_i))
            except preprocess.EmptyInput as err:
                notes.append(f"{_shown(info.filename)}: {err} Skipped.")
            except ValueError as err:
                if not _looks_like_picture(blob_i):
                    raise ValueError(f"'{_shown(info.filename)}' is not a picture (PNG or JPEG expected): "
                                     "the zip was refused, nothing was saved.") from err
                notes.append(f"{_shown(info.filename)}: {err} Skipped.")  # damaged, huge, too small
            done += 1
            clock.check("prepared", done, total)
    if not any(examples.values()):
        raise ValueError(f"None of the zip's {total:,} pictures could be used, so no dataset was made. "
                         f"{notes[0]}" + (f" (and {len(notes) - 1:,} more)" if len(notes) > 1 else ""))
    return examples, notes


def import_zip(blob: bytes, name: str | None = None, default_name: str = "imported", limits: ZipLimits | None = None,
               by: Editor | None = None) -> tuple[OwnDataset, list[str]]:
    """A teacher's .zip (one folder per class) -> a new dataset owned by `by`; (dataset, notes on skipped pictures).

    Named `name`, else after the zip's top folder, else `default_name` (e.g. the zip's file name).

    Refused whole, before anything is written, for: an unsafe path, a symlink, a zip bomb (bytes, or pixels
    counted from the pictures' headers before any is decoded), too many files or classes, bad class names, a
    file that is not a picture, no usable picture at all, an import that runs past its time (`limits`).
    """
    limits = limits or ZipLimits()
    if len(blob) > MAX_ZIP_BYTES:
        raise ValueError(f"The zip is {len(blob) / 2**20:.1f} MB; the limit is {MAX_ZIP_BYTES // 2**20} MB.")
    try:
        zf = zipfile.ZipFile(io.BytesIO(blob))
    except (zipfile.BadZipFile, OSError, ValueError) as err:
        raise ValueError("This file is not a .zip archive cnnviz can read.") from err
    clock = _Stopwatch(limits)
    with zf:
        top, by_class = _layout(_zip_entries(zf))
        _count_pixels(zf, [i for infos in by_class.values() for i in infos], limits, clock)
        examples, notes = _decode_all(zf, by_class, clock)
    wanted = "imported"
    for candidate in (name, top, default_name):
        try:
            wanted = check_name(candidate or "", "dataset name")
            break
        except ValueError:
            continue
    final = _free(wanted)

    def build(tmp: Path) -> None:
        for cls, pics in examples.items():
            (tmp / cls).mkdir()
            for px in pics:
                _write_png(tmp / cls, px)

    return _publish(build, final, by), notes


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

