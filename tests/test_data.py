"""cnnviz.data: real MNIST as one normalised tensor; a clear message when files are missing."""
from __future__ import annotations

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
    assert data.DATASETS["mnist"][0] is tvd.MNIST and data.DATASETS["kmnist"].cls is tvd.KMNIST
    assert data.DATASETS["fashion-mnist"].folder == "FashionMNIST"


def test_missing_without_download_says_where_to_put_the_files(tmp_path):
    with pytest.raises(data.DatasetMissing) as err:
        data.load("mnist", "train", root=tmp_path, download=False)
    assert isinstance(err.value, ValueError)
    assert str(tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte.gz") in str(err.value)
    assert "t10k-labels-idx1-ubyte.gz" in str(err.value)


def test_missing_when_the_download_fails(tmp_path, monkeypatch):
    calls = []

    def no_network(self):  # what torchvision raises when every mirror is unreachable
        calls.append(self.raw_folder)
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz: no network")

    monkeypatch.setattr(tvd.KMNIST, "download", no_network)
    with pytest.raises(data.DatasetMissing, match="KMNIST/raw/train-images-idx3-ubyte.gz"):
        data.load("kmnist", "test", root=tmp_path, download=True)
    assert calls, "the real torchvision download path was attempted"


@pytest.mark.parametrize("name, split, match", [("cifar", "train", "unknown dataset 'cifar'"),
                                                 ("mnist", "valid", "split must be 'train' or 'test', got 'valid'")])
def test_bad_arguments(name, split, match):
    with pytest.raises(ValueError, match=match):
        data.load(name, split)
