"""cnnviz.byreference: big tensors travel by reference (an unlinked file the receiver maps), small ones by value."""
from __future__ import annotations

import gc
import os
import pickle

import pytest
import torch

from cnnviz import byreference

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="by reference needs /proc (Linux)")


@pytest.fixture
def shelf(tmp_path):
    return byreference.Shelf(folder=str(tmp_path), min_bytes=1 << 16)


def test_a_big_tensor_goes_by_reference_and_comes_back_equal(shelf, tmp_path):
    images = torch.randn(500, 1, 28, 28)  # 1.5 MB
    labels = torch.randint(0, 10, (500,))  # 4 kB: by value
    blob = shelf.dumps({"images": images, "labels": labels, "name": "mnist"})
    assert len(blob) < 10_000 < len(pickle.dumps(images))  # the bytes did not travel in the pickle
    back = byreference.loads(blob)
    assert torch.equal(back["images"], images) and back["images"].dtype == images.dtype
    assert torch.equal(back["labels"], labels) and back["name"] == "mnist"
    assert list(tmp_path.iterdir()) == []  # unlinked at once: nothing in the folder, even if the server is killed


def test_the_receivers_copy_is_its_own(shelf):
    images = torch.zeros(300, 28, 28)
    back = byreference.loads(shelf.dumps(images))
    back += 1  # copy-on-write: the sender's tensor and its file stay as they were
    assert float(images.sum()) == 0.0 and float(byreference.loads(shelf.dumps(images)).sum()) == 0.0


def test_the_same_tensor_is_written_once_and_again_after_a_change(shelf):
    images = torch.randn(200, 28, 28)
    shelf.dumps(images)
    shelf.dumps((images, images))
    assert shelf.writes == 1
    images.mul_(2)  # changed in place: the file would be stale
    assert torch.equal(byreference.loads(shelf.dumps(images)), images) and shelf.writes == 2


def test_views_and_other_dtypes(shelf):
    base = torch.arange(200 * 28 * 28, dtype=torch.int64).view(200, 28, 28)
    for t in (base[::2], base.transpose(1, 2), base.to(torch.bfloat16), base.to(torch.uint8)):
        assert torch.equal(byreference.loads(shelf.dumps(t)), t)


def test_a_tensor_gone_closes_its_file(shelf):
    images = torch.randn(200, 28, 28)
    shelf.dumps(images)
    assert shelf.open_files() == 1
    del images
    gc.collect()
    assert shelf.open_files() == 0


def test_a_reference_to_a_file_that_changed_is_refused(shelf):
    blob = shelf.dumps(torch.randn(200, 28, 28))
    gc.collect()  # the tensor is gone, its file closed: the reference now points at nothing
    with pytest.raises(RuntimeError, match="could not be read|changed"):
        byreference.loads(blob)


def test_without_proc_everything_goes_by_value(shelf):
    shelf.enabled = False
    images = torch.randn(200, 28, 28)
    blob = shelf.dumps(images)
    assert len(blob) > images.numel() * 4 and torch.equal(byreference.loads(blob), images)
