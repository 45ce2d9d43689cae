"""Your own datasets in and out of zip files: `to_zip` writes one, `import_zip` reads one safely.

A zip is never extracted: each entry's path only names a class, its bytes are checked against size limits
(count, declared sizes, compression ratio) before they are read, the pictures' decoded size is counted from
their headers before any is decoded, the import stops past a CPU and a wall-clock budget, and cnnviz writes
its own PNG files (cnnviz.owndata) into a new dataset published whole.
"""
from __future__ import annotations

import io
import re
import stat
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from cnnviz import owndata, preprocess
from cnnviz.images import decoded_size
from cnnviz.owndata import Editor, OwnDataset
from cnnviz.text import shorten

MAX_ZIP_BYTES = 20 * 2**20       # the upload limit
MAX_ZIP_FILES = owndata.MAX_CLASSES * owndata.MAX_EXAMPLES
MAX_ZIP_UNPACKED = 100 * 2**20   # declared total size of all entries
MAX_ENTRY_BYTES = 10 * 2**20     # one picture
MAX_RATIO = 200                  # declared size / compressed size of one entry: more is a zip bomb
# What decoding costs is pixels, not bytes: thousands of copies of a 3 kB 1-bit 5000x5000 PNG pass every byte
# limit above and each takes real CPU to decode (bench/zip_bomb.py; the numbers: docs/classroom-server.md).
MAX_ZIP_PIXELS = 500_000_000     # all pictures of one zip as decoded, counted from their headers first
MAX_IMPORT_CPU_S = 30.0          # CPU seconds of the importing thread
MAX_IMPORT_WALL_S = 120.0        # seconds on the clock (a class loads the server: CPU is the tighter one alone)
JUNK = ("__MACOSX", ".DS_Store", "Thumbs.db", "desktop.ini")


@dataclass(frozen=True)
class ZipLimits:
    """What importing one zip may cost: decoded pixels (counted from headers before decoding), CPU and wall seconds."""

    pixels: int = MAX_ZIP_PIXELS
    cpu_s: float = MAX_IMPORT_CPU_S
    wall_s: float = MAX_IMPORT_WALL_S



# --- zip out and in ---------------------------------------------------------------------------------

def to_zip(name: str) -> bytes:
    """The dataset as a .zip holding NAME/CLASS/*.png (empty classes kept as folders)."""
    ds = owndata.open_dataset(name)
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
        raise ValueError(f"The zip holds an absolute path ('{shorten(raw)}'): refused, nothing was saved.")
    parts = [p for p in re.split(r"[/\\]", raw) if p not in ("", ".")]
    if ".." in parts:
        raise ValueError(f"The zip holds a path leaving its folder ('{shorten(raw)}'): refused, nothing was saved.")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise ValueError(f"The zip holds a symbolic link ('{shorten(raw)}'): refused, nothing was saved.")
    if info.flag_bits & 0x1:
        raise ValueError(f"The zip is password-protected ('{shorten(raw)}'): refused.")
    return parts


def _zip_entries(zf: zipfile.ZipFile) -> list[tuple[zipfile.ZipInfo, list[str]]]:
    """Every picture entry with its path parts, after the count, size and path checks (nothing read yet)."""
    infos = zf.infolist()
    if len(infos) > MAX_ZIP_FILES + owndata.MAX_CLASSES + 1:
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
            raise ValueError(f"'{shorten(info.filename)}' unpacks to {info.file_size / 2**20:,.1f} MB from "
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
            raise ValueError(f"'{shorten(info.filename)}' {where}: the zip should hold one folder per class, "
                             f"each holding pictures (CLASS/picture.png or NAME/CLASS/picture.png).")
        by_class.setdefault(rest[0], []).append(info)
    owndata.check_classes(list(by_class))
    for cls, infos in by_class.items():
        if len(infos) > owndata.MAX_EXAMPLES:
            raise ValueError(f"Class '{cls}' holds {len(infos)} pictures; at most {owndata.MAX_EXAMPLES} per class.")
    return top, by_class


def _read_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """An entry's bytes, reading at most its declared size (a header that lies about it is refused)."""
    try:
        with zf.open(info) as f:
            blob = f.read(info.file_size + 1)
    except (zipfile.BadZipFile, OSError, EOFError) as err:  # bad CRC, damaged data
        raise ValueError(f"'{shorten(info.filename)}' is damaged in the zip ({err}).") from err
    if len(blob) > info.file_size:
        raise ValueError(f"'{shorten(info.filename)}' is larger than its zip header says: refused.")
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
        pics = examples[owndata.check_name(cls)] = []
        for info in infos:
            blob_i = _read_entry(zf, info)
            try:
                pics.append(owndata.picture_pixels(blob_i))
            except preprocess.EmptyInput as err:
                notes.append(f"{shorten(info.filename)}: {err} Skipped.")
            except ValueError as err:
                if not _looks_like_picture(blob_i):
                    raise ValueError(f"'{shorten(info.filename)}' is not a picture (PNG or JPEG expected): "
                                     "the zip was refused, nothing was saved.") from err
                notes.append(f"{shorten(info.filename)}: {err} Skipped.")  # damaged, huge, too small
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
            wanted = owndata.check_name(candidate or "", "dataset name")
            break
        except ValueError:
            continue
    final = owndata._free(wanted)

    def build(tmp: Path) -> None:
        for cls, pics in examples.items():
            (tmp / cls).mkdir()
            for px in pics:
                owndata._write_png(tmp / cls, px)

    return owndata._publish(build, final, by), notes
