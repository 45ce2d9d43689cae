"""cnnviz.data: real MNIST as one normalised tensor; a clear message when files are missing."""
from __future__ import annotations

import functools
import http.server
import shutil
import socket
import threading

import pytest
import torch
from torchvision import datasets as tvd

from cnnviz import data


@pytest.fixture(scope="module")
def test_split(data_root):
    return data.load("mnist", "test", root=data_root, download=False)


def test_test_split_is_one_normalised_tensor(test_split):
    assert test_split.images.shape == (10_000, 1, 28, 28)
    assert test_split.images.dtype == torch.float32 and test_split.labels.dtype == torch.int64
    assert set(test_split.labels.unique().tolist()) == set(range(10))
    assert len(test_split) == 10_000
    # normalised with the training set's statistics: the test set is close to mean 0, std 1
    assert abs(float(test_split.images.mean())) < 0.05
    assert abs(float(test_split.images.std()) - 1.0) < 0.05


def test_raw_undoes_the_normalisation(test_split):
    raw = test_split.raw(slice(0, 5))
    assert raw.shape == (5, 1, 28, 28)
    assert float(raw.min()) == 0.0 and float(raw.max()) == 1.0
    assert torch.allclose(data.normalize(raw), test_split.images[:5], atol=1e-5)


def test_subset_and_to_keep_metadata(test_split):
    small = test_split.subset(7).to("cpu")
    assert len(small) == 7 and small.name == "mnist" and small.split == "test"
    assert small.classes == tuple("0123456789")


def test_data_root_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("CNNVIZ_DATA", str(tmp_path))
    assert data.data_root() == tmp_path
    monkeypatch.delenv("CNNVIZ_DATA")
    assert str(data.data_root()) == "data"


def test_available(data_root, tmp_path):
    assert data.available("mnist", data_root)
    assert not data.available("mnist", tmp_path)
    assert not data.available("fashion-mnist", tmp_path)


def test_datasets_table():
    assert set(data.DATASETS) == {"mnist", "fashion-mnist", "kmnist"}
    assert data.DATASETS["mnist"].norm == (0.1307, 0.3081)
    assert data.DATASETS["mnist"].cls is tvd.MNIST and data.DATASETS["kmnist"].cls is tvd.KMNIST
    assert data.DATASETS["fashion-mnist"].folder == "FashionMNIST"


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist", "kmnist"])
def test_the_file_names_are_torchvisions(name):
    """cnnviz names the four files itself (no torchvision import to see what is on disk): the same as torchvision."""
    assert data.info(name).files == tuple(file for file, _ in data.info(name).cls.resources)


def test_asking_what_is_on_disk_does_not_import_torchvision(tmp_path):
    """torchvision imports torch._dynamo (~1.9 s of a cold start): only a download may import it."""
    import subprocess
    import sys
    from pathlib import Path
    code = ("import sys; from cnnviz import checkpoints, data, pagestate, train; data.available('mnist', sys.argv[1]); "
            "data.missing_message('kmnist'); print('torchvision' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.strip() == "False"


def test_missing_says_where_to_put_the_files_without_server_paths(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNVIZ_DATA", str(tmp_path))
    with pytest.raises(data.DatasetMissing) as err:
        data.load("mnist", "train")
    assert isinstance(err.value, ValueError)
    text = str(err.value)
    assert "$CNNVIZ_DATA/MNIST/raw/" in text and "t10k-labels-idx1-ubyte.gz" in text
    assert str(tmp_path) not in text, "a visitor never sees an absolute server path"


def test_reading_never_creates_a_folder(tmp_path):
    root = tmp_path / "empty"
    for name in data.DATASETS:
        assert not data.available(name, root)
        with pytest.raises(data.DatasetMissing):
            data.load(name, "test", root=root)
    assert not root.exists()


def test_gz_files_alone_are_read_like_unpacked_ones(tmp_path, data_root, test_split):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for f in data.info("mnist").files:
        if f.startswith("t10k"):
            shutil.copy(data_root / "MNIST" / "raw" / f, raw / f)
    from_gz = data.load("mnist", "test", root=tmp_path)
    assert torch.equal(from_gz.images, test_split.images) and torch.equal(from_gz.labels, test_split.labels)
    assert sorted(p.name for p in raw.iterdir()) == sorted(f for f in data.info("mnist").files if f.startswith("t10k"))


def test_a_damaged_file_is_named(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for f in data.info("mnist").files:
        (raw / f).write_bytes(b"not gzip at all")
    with pytest.raises(data.DatasetMissing, match="damaged"):
        data.load("mnist", "test", root=tmp_path)


@pytest.fixture
def mirror(data_root):
    """A local HTTP mirror serving the real MNIST .gz files."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(data_root / "MNIST" / "raw"))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture
def silent_mirror():
    """A server that accepts connections and never answers (the issue's hanging network)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/"
    sock.close()


def test_download_fetches_checks_and_places_the_files(tmp_path, mirror, test_split):
    data.download_files("mnist", tmp_path, timeout=10, mirrors=("http://127.0.0.1:9/", mirror))
    assert data.available("mnist", tmp_path)
    assert not list((tmp_path / "MNIST" / "raw").glob("*.part"))
    assert torch.equal(data.load("mnist", "test", root=tmp_path).labels, test_split.labels)


def test_a_wrong_checksum_is_refused_and_leaves_nothing(tmp_path, mirror, monkeypatch):
    monkeypatch.setattr(tvd.MNIST, "resources", [("t10k-labels-idx1-ubyte.gz", "0" * 32)])
    with pytest.raises(data.DatasetMissing, match="checksum mismatch"):
        data.download_files("mnist", tmp_path, mirrors=(mirror,))
    assert list((tmp_path / "MNIST" / "raw").iterdir()) == []


def test_a_hanging_mirror_fails_by_the_timeout_without_blocking_status(tmp_path, silent_mirror):
    loader = data.Downloader(tmp_path, timeout=1.0, mirrors=(silent_mirror,))
    assert loader.status("mnist").state == "missing" and not (tmp_path / "MNIST").exists()
    assert loader.start("mnist").state == "downloading"  # returned while the mirror still says nothing
    assert loader.status("kmnist").state == "missing"  # another dataset, another session: never blocked
    assert loader.start("mnist").state == "downloading"  # a second click starts no second thread
    done = loader.wait("mnist", timeout=120)  # the socket timeout ends it: a mirror that never answers fails
    assert done.state == "failed" and "timed out" in done.message and "MNIST/raw/" in done.message
    assert loader.status("mnist").state == "failed", "the failure is remembered"


def test_a_failure_lasts_until_the_files_appear(tmp_path, silent_mirror, mirror):
    loader = data.Downloader(tmp_path, timeout=0.5, mirrors=(silent_mirror,))
    loader.start("mnist")
    assert loader.wait("mnist", 30).state == "failed"
    data.download_files("mnist", tmp_path, mirrors=(mirror,))  # e.g. a teacher copies the files in
    assert loader.status("mnist").state == "ready"


@pytest.mark.parametrize("name, split, match", [("cifar", "train", "unknown dataset 'cifar'"),
                                                 ("mnist", "valid", "split must be 'train' or 'test', got 'valid'")])
def test_bad_arguments(name, split, match):
    with pytest.raises(ValueError, match=match):
        data.load(name, split)
