"""cnnviz.classwall: the store of each session's latest drawing, the wall's order, counts and accuracy, saving it
as a dataset, and a thumbnail put back on the Draw page's canvas. Real MNIST test digits are the drawings."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from cnnviz import classwall, data, owndata, ownsplits, preprocess
from cnnviz.probe import DIGITS


@pytest.fixture(scope="module")
def digits() -> list[tuple[np.ndarray, str]]:
    """Twenty real MNIST test digits, prepared as Draw prepares them: ((28, 28) in [0, 1], label)."""
    split = data.load("mnist", "test")
    return [(preprocess.from_mnist(split.raw(i)[0]).pixels, str(int(split.labels[i]))) for i in range(20)]


@pytest.fixture
def wall(tmp_path):
    w = classwall.folder(tmp_path)
    classwall.start(w, None, now=1000.0)
    return w


def _send(wall, i, pixels, answer, confidence=0.9, unsure=False, name="", now=1000.0):
    return classwall.submit(wall, f"{i:016x}", pixels, answer, confidence, unsure, name, now=now)


def test_a_drawing_comes_back_as_sent(wall, digits):
    pixels, label = digits[0]
    assert _send(wall, 1, pixels, label, 0.97, False, "Ada", now=1000.0)
    [d] = classwall.read(wall, now=1001.0)
    assert d.session == f"{1:016x}" and d.name == "Ada" and d.answer == label and d.confidence == pytest.approx(0.97)
    assert d.pixels.dtype == np.uint8 and np.abs(d.pixels / 255.0 - pixels).max() <= 0.5 / 255 + 1e-9


def test_one_file_per_session_holding_only_its_latest_drawing(wall, digits):
    _send(wall, 1, digits[0][0], "7", now=1000.0)
    _send(wall, 1, digits[1][0], "2", now=1005.0)
    _send(wall, 2, digits[2][0], "1", now=1006.0)
    drawings = classwall.read(wall, now=1010.0)
    assert [d.answer for d in drawings] == ["2", "1"]
    assert drawings[0].joined == 1000.0 and drawings[0].sent == 1005.0  # joined is kept
    assert sorted(p.name for p in wall.glob("*.json")) == [f"{1:016x}.json", f"{2:016x}.json", "collecting.json"]
    assert not list(wall.glob(".*.tmp"))  # written whole, then renamed


def test_nothing_is_sent_while_the_wall_does_not_collect(wall, digits):
    classwall.stop(wall)
    assert classwall.collecting(wall) == (False, None)
    assert not _send(wall, 1, *digits[0])
    assert classwall.read(wall) == []
    classwall.start(wall, "7")
    assert classwall.collecting(wall) == (True, "7")


def test_at_most_200_sessions_a_newcomer_beyond_is_refused_a_known_one_is_not(wall, digits, monkeypatch):
    monkeypatch.setattr(classwall, "MAX_SESSIONS", 3)
    for i in range(3):
        assert _send(wall, i, *digits[i], now=1000.0)
    assert not _send(wall, 99, *digits[5], now=1001.0)
    assert _send(wall, 1, *digits[6], now=1002.0)  # already on the wall: may change its drawing
    assert len(classwall.read(wall, now=1003.0)) == 3


def test_stale_sessions_are_dropped_after_ten_minutes(wall, digits):
    _send(wall, 1, *digits[0], now=1000.0)
    _send(wall, 2, *digits[1], now=1500.0)
    assert [d.session for d in classwall.read(wall, now=1000.0 + classwall.STALE_S + 1)] == [f"{2:016x}"]
    assert not (wall / f"{1:016x}.json").exists()  # deleted, not only hidden


def test_damaged_and_foreign_files_never_break_the_wall(wall, digits):
    _send(wall, 1, *digits[0])
    (wall / f"{2:016x}.json").write_text("{not json")
    (wall / f"{3:016x}.json").write_text(json.dumps({"session": f"{3:016x}", "pixels": "AAAA"}))
    (wall / "../../etc.json").resolve()  # a name is never taken from a visitor: the id is checked instead
    assert [d.session for d in classwall.read(wall, now=1001.0)] == [f"{1:016x}"]
    for bad in ("../../x", "ABCDEF0123456789", "", "0" * 17):
        with pytest.raises(ValueError, match="session id"):
            classwall.submit(wall, bad, digits[0][0], "1", 0.9, False)


@pytest.mark.parametrize("pixels", [np.zeros((27, 28)), np.full((28, 28), np.nan), np.zeros((28, 28, 3))])
def test_bad_pixels_are_refused_by_name(wall, pixels):
    with pytest.raises(ValueError, match="28x28"):
        classwall.submit(wall, "0" * 16, pixels, "1", 0.9, False)


def test_nicknames_are_one_line_of_at_most_20_characters(wall, digits):
    assert classwall.check_nickname("  Ada\nLovelace ") == "Ada Lovelace"
    with pytest.raises(ValueError, match="at most 20 characters"):
        classwall.check_nickname("x" * 21)
    _send(wall, 1, *digits[0], name="<b>[x](http://e.vil)")
    assert classwall.read(wall, now=1001.0)[0].name == "<b>[x](http://e.vil)"  # kept as typed; escaped where shown


def test_students_without_a_nickname_are_numbered_by_when_they_joined(wall, digits):
    _send(wall, 7, *digits[0], now=1003.0)
    _send(wall, 3, *digits[1], name="Ada", now=1001.0)
    _send(wall, 5, *digits[2], now=1002.0)
    assert classwall.names(classwall.read(wall, now=1004.0)) == {
        f"{3:016x}": "Ada", f"{5:016x}": "student 2", f"{7:016x}": "student 3"}


def _d(session, answer, confidence, unsure=False, joined=0.0):
    return classwall.Drawing(session, "", np.zeros((28, 28), np.uint8), answer, confidence, unsure, joined, joined)


def test_wrong_then_unsure_then_least_sure_first():
    ds = [_d("a", "7", 0.99), _d("b", "1", 0.95), _d("c", "7", 0.40, unsure=True), _d("d", "7", 0.80),
          _d("e", "2", 0.60, unsure=True)]
    assert [d.session for d in classwall.ordered(ds, "7")] == ["e", "b", "c", "d", "a"]
    assert [d.session for d in classwall.ordered(ds, None)] == ["c", "e", "d", "b", "a"]


def test_summary_counts_accuracy_on_the_target_and_answers_per_digit():
    ds = [_d("a", "7", 0.99), _d("b", "1", 0.95), _d("c", "7", 0.4), _d("d", "7", 0.8)]
    s = classwall.summary(ds, "7", DIGITS)
    assert s.count == "4 drawings from 4 students" and s.right == 3 and s.accuracy == 0.75
    assert s.per_class["7"] == 3 and s.per_class["1"] == 1 and s.per_class["0"] == 0
    assert list(s.per_class)[:2] == ["0", "1"]
    none = classwall.summary(ds[:1], None, DIGITS)
    assert none.count == "1 drawing from 1 student" and none.accuracy is None and none.right == 0
    assert classwall.summary([], "7", DIGITS).accuracy is None


def test_clear_empties_the_wall_but_keeps_collecting(wall, digits):
    for i in range(3):
        _send(wall, i, *digits[i])
    assert classwall.clear(wall) == 3
    assert classwall.read(wall) == [] and classwall.collecting(wall) == (True, None)


def test_saved_as_a_dataset_make_a_dataset_reads(wall, digits, tmp_path, monkeypatch):
    monkeypatch.setenv("CNNVIZ_USER_DATA", str(tmp_path / "datasets"))
    for i, (pixels, label) in enumerate(digits[:10]):
        _send(wall, i, pixels, label, now=1000.0 + i)
    drawings = classwall.read(wall, now=1100.0)
    ds, saved, notes = classwall.save(drawings, "our class", None)
    assert saved == 10 and notes == [] and sorted(ds.classes) == sorted({label for _, label in digits[:10]})
    reread = owndata.open_dataset("our class")
    pixels, labels, unreadable = ownsplits.read_all(reread)
    assert unreadable == []
    got = sorted((reread.classes[int(y)], p.astype(np.float32).round(3).tobytes()) for p, y in zip(pixels, labels))
    sent = sorted((d.answer, (d.pixels / 255.0).astype(np.float32).round(3).tobytes()) for d in drawings)
    assert got == sent
    with pytest.raises(ValueError, match="already exists"):
        classwall.save(drawings, "our class", None)
    with pytest.raises(ValueError, match="at least two"):
        classwall.save(drawings, "one class", "7")


def test_nothing_but_the_walls_own_files_is_written(wall, digits, tmp_path):
    _send(wall, 1, *digits[0])
    classwall.read(wall, now=1001.0)
    written = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert written == {"classwall/collecting.json", f"classwall/{1:016x}.json", "classwall/.join.lock"}


def test_a_thumbnail_back_on_the_canvas_is_seen_as_the_same_digit(digits):
    """The canvas drawing of a thumbnail, prepared again as Draw prepares a canvas, gives the same 28x28 back."""
    for pixels, _ in digits[:5]:
        thumb = np.round(pixels * 255).astype(np.uint8)
        drawing = classwall.canvas_drawing(thumb)
        assert all(o["type"] == "rect" for o in drawing["objects"]) and len(drawing["objects"]) < 28 * 28
        rgba = classwall.render(drawing)
        assert rgba.shape == (280, 280, 4)
        again = preprocess.to_mnist(rgba).pixels
        assert np.abs(again - thumb / 255.0).mean() < 0.03, np.abs(again - thumb / 255.0).mean()
    with pytest.raises(ValueError, match="uint8"):
        classwall.canvas_drawing(digits[0][0])


def test_writes_are_atomic_replacements(wall, digits, monkeypatch):
    seen = []
    real = os.replace
    monkeypatch.setattr(classwall.os, "replace", lambda a, b: (seen.append((a, b)), real(a, b)))
    _send(wall, 1, *digits[0])
    assert seen and seen[-1][1] == wall / f"{1:016x}.json"
