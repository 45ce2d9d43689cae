"""Own datasets: names, atomic saving, ImageFolder round trip, zip safety, splits, augmentation, training."""
from __future__ import annotations

import io
import os
import stat
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from cnnviz import arch, owndata, ownsplits, ownzip, preprocess, probe, store
from cnnviz import train as tr
from cnnviz.card import Card
from cnnviz.figures import draw as figs
from cnnviz.trainconfig import TrainConfig


@pytest.fixture(autouse=True)
def user_data(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "user_data"
    monkeypatch.setenv("CNNVIZ_USER_DATA", str(folder))
    return folder


def ring(seed: int = 0) -> np.ndarray:
    """A (28, 28) example in [0, 1]: a ring whose radius depends on `seed`."""
    ys, xs = np.mgrid[0:28, 0:28]
    r = np.hypot(ys - 14, xs - 14)
    return ((r > 4 + seed % 6) & (r < 7 + seed % 6)).astype(np.float32)


def bar(seed: int = 0) -> np.ndarray:
    """A (28, 28) example: a vertical bar at a column depending on `seed`."""
    px = np.zeros((28, 28), np.float32)
    px[4:24, 10 + seed % 6:13 + seed % 6] = 1.0
    return px


def png_bytes(pixels: np.ndarray, mode: str = "L") -> bytes:
    buf = io.BytesIO()
    Image.fromarray((np.asarray(pixels) * 255).astype(np.uint8), "L").convert(mode).save(buf, format="PNG")
    return buf.getvalue()


def made(n: int = 5) -> owndata.OwnDataset:
    owndata.create("toy", ["ring", "bar"])
    for i in range(n):
        owndata.add_pixels("toy", "ring", ring(i))
        owndata.add_pixels("toy", "bar", bar(i))
    return owndata.open_dataset("toy")


def tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


# --- names ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, says", [
    ("", "empty"), ("   ", "empty"), ("a/b", "'/'"), ("..", "'.'"), ("../etc", "'/'"),
    ("<b>bold</b>", "'<'"), ("x" * 41, "41 characters"), ("con", "reserved"), ("-dash", "start with"),
    ("tab\there", "\\t"), ("a\\b", "'\\\\'"),
])
def test_bad_names_are_refused_with_the_reason(name, says):
    with pytest.raises(ValueError) as err:
        owndata.check_name(name)
    assert says in str(err.value), str(err.value)


@pytest.mark.parametrize("name", ["circle", "Kreis 2", "círculo", "a_b-c", "三角"])
def test_good_names_pass(name):
    assert owndata.check_name(f"  {name} ") == name


@pytest.mark.parametrize("classes, says", [
    (["only"], "at least 2"), ([], "at least 2"), (["a", "b", "A"], "differ only in capitals"),
    (["a", "a"], "given twice"), ([f"c{i}" for i in range(11)], "at most 10"), (["a", ""], "empty"),
])
def test_bad_class_lists(classes, says):
    with pytest.raises(ValueError, match=says):
        owndata.create("set", classes)
    assert owndata.available() == ["shapes"]  # nothing created


# --- saving and reading --------------------------------------------------------------------------

def _image_folder(name: str):
    """The dataset read by torchvision's own ImageFolder (grey 28x28 PIL images): proof the layout is standard."""
    from PIL import Image
    from torchvision.datasets import ImageFolder

    return ImageFolder(str(owndata.open_dataset(name).folder), loader=lambda p: Image.open(p).convert("L"))


def test_save_then_read_back_with_torchvision_image_folder(user_data):
    ds = made(6)
    assert ds.folder == user_data / "toy" and ds.classes == ("bar", "ring") and ds.counts == {"bar": 6, "ring": 6}
    assert ds.problems() == []
    folder = _image_folder("toy")  # torchvision's own reader
    assert folder.classes == list(ds.classes) and len(folder) == 12
    pixels, labels, notes = ownsplits.read_all(ds)
    assert notes == []
    for (img, label), px, lab in zip(folder, pixels, labels):
        assert label == lab and np.array_equal(np.asarray(img, np.float32) / 255, px)
    expected = {tuple(ring(i).ravel()) for i in range(6)}
    assert {tuple(p.ravel()) for p in pixels[labels == 1]} == expected  # exact: 0/1 pixels survive 8 bits


def test_same_example_twice_is_refused_and_delete_removes_one():
    ds = made(5)
    with pytest.raises(ValueError, match="exactly like an example already in 'bar'"):
        owndata.add_pixels("toy", "bar", bar(0))
    assert owndata.open_dataset("toy").counts["bar"] == 5
    owndata.delete_example("toy", "bar", ds.files[0][0].name)
    assert owndata.open_dataset("toy").counts == {"bar": 4, "ring": 5}
    for bad in ("../ring/" + ds.files[1][0].name, "/etc/passwd", "x.txt"):
        with pytest.raises(ValueError):
            owndata.delete_example("toy", "ring", bad)
    assert owndata.open_dataset("toy").counts == {"bar": 4, "ring": 5}


def test_bad_pictures_are_refused_one_by_one_and_good_ones_kept():
    made(0)
    big = Image.new("L", (300, 200), 255)
    Image.Image.paste(big, 0, (100, 50, 130, 160))  # a dark stroke on white paper
    buf = io.BytesIO()
    big.save(buf, format="PNG")
    good = buf.getvalue()
    uploads = [("notes.txt", b"hello, not a picture"), ("broken.png", good[:60]),
               ("blank.png", png_bytes(np.zeros((28, 28)))),
               ("empty.png", b""), ("stroke.png", good)]
    saved, refused = owndata.add_pictures("toy", "bar", uploads)
    assert len(saved) == 1 and owndata.open_dataset("toy").counts["bar"] == 1
    assert [r.split(":")[0] for r in refused] == ["notes.txt", "broken.png", "blank.png", "empty.png"]
    assert "not a picture" in refused[0] and "no ink" in refused[2].lower()


def test_huge_picture_is_refused_by_its_size():
    made(0)
    buf = io.BytesIO()
    Image.new("1", (8000, 8000)).save(buf, format="PNG")  # 64 megapixels in a few kB
    saved, refused = owndata.add_pictures("toy", "bar", [("huge.png", buf.getvalue())])
    assert saved == [] and refused[0].startswith("huge.png: ") and "megapixels" in refused[0]
    assert owndata.open_dataset("toy").counts["bar"] == 0


def test_blank_drawing_and_dot_are_refused_and_nothing_written():
    made(0)
    canvas = np.zeros((280, 280, 4), np.uint8)
    canvas[..., 3] = 255
    with pytest.raises(preprocess.EmptyInput):
        owndata.add_drawing("toy", "ring", canvas)
    assert owndata.open_dataset("toy").counts == {"bar": 0, "ring": 0}


def test_shipped_example_is_read_only_and_can_be_copied(user_data):
    shapes = owndata.open_dataset("shapes")
    assert shapes.shipped and shapes.classes == ("circle", "square", "triangle")
    assert all(18 <= n <= 25 for n in shapes.counts.values())
    assert sum(f.stat().st_size for fs in shapes.files for f in fs) < 300_000
    with pytest.raises(ValueError, match="read-only"):
        owndata.add_pixels("shapes", "circle", ring())
    with pytest.raises(ValueError, match="read-only"):
        owndata.delete_dataset("shapes")
    mine = owndata.copy("shapes")
    assert mine.name == "my shapes" and not mine.shipped and mine.counts == shapes.counts
    assert owndata.copy("shapes").name == "my shapes-2"
    owndata.add_pixels("my shapes", "circle", ring())
    assert owndata.open_dataset("my shapes").counts["circle"] == shapes.counts["circle"] + 1


def _editors() -> tuple[owndata.Editor, owndata.Editor, owndata.Editor]:
    """Two students' browser sessions and the teacher's."""
    return owndata.Editor("alice-secret"), owndata.Editor("bob-secret"), owndata.Editor("teacher-secret", teacher=True)


def test_a_dataset_belongs_to_the_session_that_made_it(user_data):
    """Only its owner (or the teacher) changes it; anyone else gets a ValueError and may copy it instead."""
    ALICE, BOB, TEACHER = _editors()
    owndata.create("toy", ["ring", "bar"], by=ALICE)
    owndata.add_pixels("toy", "ring", ring(0), by=ALICE)
    ds = owndata.open_dataset("toy")
    assert owndata.can_change(ds, ALICE) and not owndata.can_change(ds, BOB) and owndata.can_change(ds, TEACHER)
    assert "alice-secret" not in (ds.folder / owndata.OWNER_FILE).read_text()  # a hash, never the token
    attempts = [lambda: owndata.add_pixels("toy", "ring", ring(1), by=BOB),
                lambda: owndata.add_drawing("toy", "ring", np.zeros((280, 280, 4), np.uint8), by=BOB),
                lambda: owndata.add_class("toy", "star", by=BOB),
                lambda: owndata.delete_example("toy", "ring", ds.files[1][0].name, by=BOB),
                lambda: owndata.delete_dataset("toy", by=BOB),
                lambda: owndata.delete_dataset("toy", by=owndata.Editor(""))]
    for attempt in attempts:
        with pytest.raises(ValueError, match="'toy' was made by another browser session: only that session and "
                                             "the teacher can change it. Make your own copy"):
            attempt()
    saved, refused = owndata.add_pictures("toy", "bar", [("b.png", png_bytes(bar(0)))], by=BOB)
    assert saved == [] and refused[0].startswith("b.png: 'toy' was made by another browser session")
    assert owndata.open_dataset("toy").counts == {"bar": 0, "ring": 1}
    mine = owndata.copy("toy", by=BOB)
    assert mine.name == "my toy" and owndata.can_change(mine, BOB) and not owndata.can_change(mine, ALICE)
    owndata.add_pixels("my toy", "bar", bar(0), by=BOB)
    assert owndata.label("toy", ALICE) == "toy (yours: bar, ring)"
    assert owndata.label("toy", BOB) == "toy (shared: bar, ring)"
    owndata.add_class("toy", "star", by=TEACHER)
    owndata.delete_dataset("toy", by=TEACHER)
    assert owndata.available() == ["shapes", "my toy"]


def test_imports_are_owned_and_zips_carry_no_owner(user_data):
    ALICE, BOB, _ = _editors()
    owndata.create("toy", ["ring", "bar"], by=ALICE)
    blob = ownzip.to_zip("toy")
    assert owndata.OWNER_FILE not in " ".join(zipfile.ZipFile(io.BytesIO(blob)).namelist())
    owndata.add_pixels("toy", "ring", ring(0), by=ALICE)
    owndata.add_pixels("toy", "bar", bar(0), by=ALICE)
    back, _ = ownzip.import_zip(ownzip.to_zip("toy"), by=BOB)
    assert owndata.can_change(back, BOB) and not owndata.can_change(back, ALICE)


def test_a_dataset_without_an_owner_is_the_teachers(user_data):
    """Made before owners were kept (no .owner file), or by code on the server: students can only copy it."""
    ALICE, _, TEACHER = _editors()
    made(5)
    ds = owndata.open_dataset("toy")
    assert ds.owner is None and not owndata.can_change(ds, ALICE) and owndata.can_change(ds, TEACHER)
    assert owndata.can_change(ds, None)  # tools/ and tests: the server's own code
    with pytest.raises(ValueError, match="no owner on record .* only the teacher can change it"):
        owndata.delete_dataset("toy", by=ALICE)
    (ds.folder / owndata.OWNER_FILE).write_text("not a digest")  # a damaged owner file: nobody's, so the teacher's
    assert owndata.open_dataset("toy").owner is None
    assert "You are the teacher" in owndata.rights(ds, TEACHER) and "is yours" not in owndata.rights(ds, TEACHER)


def test_crash_leftovers_are_invisible_and_swept(user_data):
    ds = made(5)
    (ds.folder / "ring" / ".abc.tmp").write_bytes(b"half a png")  # a crash mid-write of one example
    crashed = user_data / ".tmp-crashed"  # a crash mid-import
    (crashed / "a").mkdir(parents=True)
    assert owndata.available() == ["shapes", "toy"]
    assert owndata.open_dataset("toy").counts == {"bar": 5, "ring": 5}
    assert len(_image_folder("toy")) == 10
    os.utime(crashed, (0, 0))
    owndata.create("next", ["a", "b"])
    assert not crashed.exists()


def test_a_delete_killed_halfway_never_blocks_that_name_again(user_data):
    """SIGKILL during *Delete this dataset*: the folder was renamed away and half removed. Re-creating and
    deleting that name works, and the leftovers go at the next delete or listing, whatever their age."""
    made(5)
    for leftover in (user_data / f"{store.DELETED}toy", user_data / f"{store.DELETED}k1ll3d" / "toy"):
        (leftover / "ring").mkdir(parents=True)
        (leftover / "ring" / "a.png").write_bytes(b"half")
    owndata.delete_dataset("toy")  # before: OSError [Errno 39] Directory not empty, no message
    assert owndata.available() == ["shapes"] and tree(user_data) == []
    made(5)
    half = user_data / f"{store.DELETED}k1ll3d"
    (half / "toy" / "bar").mkdir(parents=True)
    assert owndata.available() == ["shapes", "toy"]  # a listing sweeps what a killed delete left
    assert not half.exists()
    owndata.delete_dataset("toy")
    assert tree(user_data) == []


def test_a_delete_that_fails_says_why(user_data, monkeypatch):
    made(5)

    def refuse(src, dst):
        raise OSError(13, "Permission denied")
    with monkeypatch.context() as patched:
        patched.setattr(owndata.os, "rename", refuse)
        with pytest.raises(ValueError, match="Could not delete the dataset 'toy': Permission denied"):
            owndata.delete_dataset("toy")
    assert owndata.available() == ["shapes", "toy"] and not list(user_data.glob(".*"))


def test_a_failing_build_leaves_nothing(user_data):
    def boom(tmp: Path) -> None:
        (tmp / "a").mkdir()
        raise OSError(28, "No space left on device")
    with pytest.raises(ValueError, match="No space left"):
        owndata._publish(boom, "full")
    assert tree(user_data) == []


def test_unreadable_file_is_skipped_with_a_note():
    ds = made(5)
    (ds.folder / "ring" / "zz.png").write_bytes(b"not a png at all")
    pixels, labels, notes = ownsplits.read_all(owndata.open_dataset("toy"))
    assert len(pixels) == 10 and len(notes) == 1 and "zz.png" in notes[0]


# --- zip out and in -------------------------------------------------------------------------------

def test_zip_round_trip(user_data):
    ds = made(5)
    blob = ownzip.to_zip("toy")
    names = zipfile.ZipFile(io.BytesIO(blob)).namelist()
    assert "toy/ring/" in names and all(n.startswith("toy/") for n in names)
    back, notes = ownzip.import_zip(blob)
    assert notes == [] and back.name == "toy-2" and back.counts == ds.counts
    a, la, _ = ownsplits.read_all(ds)
    b, lb, _ = ownsplits.read_all(back)
    assert np.array_equal(la, lb) and np.array_equal(a, b)


def test_zip_of_class_folders_without_top_folder_takes_the_given_name():
    blob = io.BytesIO()
    with zipfile.ZipFile(blob, "w") as zf:
        for i in range(3):
            zf.writestr(f"up/{i}.png", png_bytes(bar(i)))
            zf.writestr(f"round/{i}.png", png_bytes(ring(i)))
        zf.writestr("__MACOSX/._x", b"junk")
        zf.writestr("round/.DS_Store", b"junk")
    ds, notes = ownzip.import_zip(blob.getvalue(), name="class set")
    assert ds.name == "class set" and ds.counts == {"round": 3, "up": 3} and notes == []


def _zip(entries: list[tuple[str | zipfile.ZipInfo, bytes]], method=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return buf.getvalue()


def _symlink(name: str, target: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def _good(top: str = "") -> list[tuple[str, bytes]]:
    return [(f"{top}a/{i}.png", png_bytes(ring(i))) for i in range(2)] + \
           [(f"{top}b/{i}.png", png_bytes(bar(i))) for i in range(2)]


UNSAFE = {
    "dotdot": (_good() + [("a/../../evil.png", png_bytes(ring()))], "leaving its folder"),
    "dotdot-top": (_good() + [("../evil/x.png", png_bytes(ring()))], "leaving its folder"),
    "absolute": (_good() + [("/tmp/evil/x.png", png_bytes(ring()))], "absolute path"),
    "windows-absolute": (_good() + [("C:\\evil\\x.png", png_bytes(ring()))], "absolute path"),
    "symlink": (_good() + [(_symlink("a/link.png", "/etc/passwd"), b"/etc/passwd")], "symbolic link"),
    "bomb": (_good() + [("a/bomb.png", b"\0" * (12 * 2**20))], "zip bomb"),
    "bomb-ratio": (_good() + [("a/bomb.png", b"\0" * (3 * 2**20))], "zip bomb"),
    "eleven classes": ([(f"c{k}/{i}.png", png_bytes(ring(i))) for k in range(11) for i in range(1)], "at most 10"),
    "one class": ([("a/1.png", png_bytes(ring()))], "at least 2"),
    "html class": (_good() + [("<script>/x.png", png_bytes(ring()))], "'<'"),
    "long class": (_good() + [("x" * 60 + "/x.png", png_bytes(ring()))], "60 characters"),
    "too deep": (_good() + [("a/deeper/x.png", png_bytes(ring()))], "nested too deep"),
    "loose file": (_good() + [("readme.png", png_bytes(ring()))], "not inside a class folder"),
    "not a picture": (_good() + [("a/notes.txt", b"hello")], "not a picture"),
    "empty": ([], "no pictures"),
}


@pytest.mark.parametrize("case", list(UNSAFE))
def test_unsafe_or_bad_zips_are_refused_and_nothing_is_written(case, user_data, tmp_path):
    made(5)
    before = tree(tmp_path)
    entries, says = UNSAFE[case]
    with pytest.raises(ValueError, match=says):
        ownzip.import_zip(_zip(entries))
    assert tree(tmp_path) == before  # nothing written anywhere, nothing of "toy" lost
    assert not Path("/tmp/evil").exists()


def test_too_many_entries_refused_before_reading():
    entries = [(f"a/{i}.png", b"") for i in range(ownzip.MAX_ZIP_FILES + 20)]
    with pytest.raises(ValueError, match="entries"):
        ownzip.import_zip(_zip(entries, zipfile.ZIP_STORED))


def test_not_a_zip_and_too_big_zip():
    with pytest.raises(ValueError, match="not a .zip"):
        ownzip.import_zip(b"PK-ish but not really a zip")
    with pytest.raises(ValueError, match="limit"):
        ownzip.import_zip(b"\0" * (ownzip.MAX_ZIP_BYTES + 1))


def test_zip_pictures_without_ink_are_skipped_with_a_note():
    ds, notes = ownzip.import_zip(_zip(_good("t/") + [("t/a/blank.png", png_bytes(np.zeros((28, 28))))]))
    assert ds.name == "t" and ds.counts == {"a": 2, "b": 2}
    assert len(notes) == 1 and "blank.png" in notes[0]


def _blank_1bit(side: int = 5000) -> bytes:
    buf = io.BytesIO()
    Image.new("1", (side, side)).save(buf, format="PNG")  # 25 megapixels in 3 kB: within every byte limit
    return buf.getvalue()


def test_a_zip_of_too_many_pixels_is_refused_from_the_headers_before_decoding(user_data, monkeypatch):
    """The reported zip bomb, scaled: every byte limit passes, but 10 x 5 pictures of 25 megapixels is 1,250
    megapixels. Refused with the numbers, nothing decoded, nothing written."""
    blob = _zip([(f"bomb/c{k}/{i}.png", _blank_1bit()) for k in range(10) for i in range(5)])
    assert len(blob) < ownzip.MAX_ZIP_BYTES // 100

    def no_decoding(blob: bytes):
        raise AssertionError("a picture was decoded")
    monkeypatch.setattr(owndata, "picture_pixels", no_decoding)
    with pytest.raises(ValueError, match=r"50 pictures would decode to 1,250 megapixels .* at most 500 megapixels"):
        ownzip.import_zip(blob)
    assert tree(user_data) == []


def test_pixels_are_counted_as_they_will_be_decoded():
    """A big JPEG is decoded at reduced scale, so it counts as such; a picture over the per-file limit is
    skipped unread, so it does not count."""
    photo = io.BytesIO()
    Image.new("L", (4000, 3000), 255).save(photo, format="JPEG")
    entries = [(f"a/{i}.jpg", photo.getvalue()) for i in range(3)] + [("b/huge.png", _blank_1bit(8000))] + _good()
    # 3 JPEGs at 1/4 scale (1000 x 750) + 4 drawings of 28 x 28; the 64-megapixel PNG is skipped unread
    with pytest.raises(ValueError, match=r"8 pictures would decode to 2.3 megapixels .* at most 1.0"):
        ownzip.import_zip(_zip(entries), limits=ownzip.ZipLimits(pixels=1_000_000))


@pytest.mark.parametrize("limit", ["cpu_s", "wall_s"])
def test_an_import_past_its_time_stops_and_saves_nothing(limit, user_data):
    made(5)
    before = tree(user_data)
    with pytest.raises(ValueError, match=r"stopped: .* looked at 1 of its 4 pictures. Nothing was saved"):
        ownzip.import_zip(_zip(_good()), limits=ownzip.ZipLimits(**{limit: 0.0}))
    assert tree(user_data) == before and owndata.available() == ["shapes", "toy"]


def test_a_zip_whose_pictures_are_all_skipped_makes_no_dataset(user_data):
    blank = png_bytes(np.zeros((28, 28)))
    with pytest.raises(ValueError, match=r"None of the zip's 4 pictures could be used.*no ink.* \(and 3 more\)"):
        ownzip.import_zip(_zip([(f"{c}/{i}.png", blank) for c in "ab" for i in range(2)]))
    assert owndata.available() == ["shapes"] and tree(user_data) == []


# --- splits, augmentation, training ----------------------------------------------------------------

def test_stratified_split_is_seeded_and_keeps_every_class():
    labels = np.repeat(np.arange(3), [20, 10, 5])
    train, test = ownsplits.stratified_split(labels, 0.2, seed=1)
    assert sorted(np.bincount(labels[test]).tolist()) == [1, 2, 4]
    assert set(train).isdisjoint(test) and len(train) + len(test) == len(labels)
    again = ownsplits.stratified_split(labels, 0.2, seed=1)
    assert np.array_equal(again[1], test)
    assert not np.array_equal(ownsplits.stratified_split(labels, 0.2, seed=2)[1], test)


def test_augment_keeps_originals_first_and_varies_the_copies():
    x = torch.from_numpy(np.stack([ring(0), bar(0)]))[:, None]  # (2, 1, 28, 28)
    out = ownsplits.augment(x, 5, seed=0)
    assert out.shape == (10, 1, 28, 28) and torch.equal(out[:2], x)
    assert float(out.min()) >= 0 and float(out.max()) <= 1
    assert all(not torch.allclose(out[i], x[i % 2], atol=0.05) for i in range(2, 10))
    assert torch.equal(out, ownsplits.augment(x, 5, seed=0))
    ink = out[2:].flatten(1).sum(1)
    assert 0.4 * float(x.sum() / 2) < float(ink.min()) and float(ink.max()) < 2.5 * float(x.sum() / 2)


def test_not_ready_dataset_names_the_classes_short_of_examples():
    made(4)
    owndata.add_pixels("toy", "ring", ring(4))
    with pytest.raises(ValueError, match=r"bar \(4\)"):
        ownsplits.splits("own:toy")


def test_training_on_the_shipped_shapes_reaches_90_percent():
    train_split, test_split = ownsplits.splits("own:shapes", seed=0, copies=25)
    assert train_split.classes == ("circle", "square", "triangle") and len(test_split) == 12
    assert np.bincount(test_split.labels.numpy()).tolist() == [4, 4, 4]
    spec = arch.with_num_classes(arch.PRESETS["keras_small"], 3)
    result = tr.train(spec, TrainConfig(dataset="own:shapes", optimizer="adam", lr=0.005, epochs=2,
                                           val_every=0), train_split, test_split)
    assert result.evaluation.confusion.shape == (3, 3)
    assert result.test_accuracy >= 90.0, result.evaluation.confusion
    card = Card.from_result(result, "shapes-test", "test")
    assert card.classes == ("circle", "square", "triangle") and card.normalize == tuple(owndata.NORMALIZE)
    assert probe.class_labels(card) == ("circle", "square", "triangle")
    look = probe.look(result.model, test_split.images[:1], probe.class_labels(card))  # test image 0 is a circle
    assert look.inspection.verdict.label == "circle"
    captions = [a.text for a in figs.panel_saliency(look, test_split.raw(0)[0].numpy()).layout.annotations]
    assert captions == ["Grad-CAM<br>for circle (conv2)", "input<br>gradient for circle"], captions


def test_plain_pixel_runs_keep_the_class_names():
    train_split, test_split = ownsplits.splits("own:shapes", seed=0, copies=2)
    plain = tr.plain_pixels(train_split)
    assert plain.classes == ("circle", "square", "triangle") and (plain.mean, plain.std) == (0.0, 1.0)
    assert float(plain.images.min()) >= 0.0 and torch.allclose(plain.images, train_split.raw())
    spec = arch.with_num_classes(arch.PRESETS["logistic"], 3)
    result = tr.train(spec, TrainConfig(dataset="own:shapes", normalize=False, max_batches=2, val_every=0),
                      train_split, test_split)
    assert result.classes == ("circle", "square", "triangle") and result.evaluation.confusion.shape == (3, 3)
