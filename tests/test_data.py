"""The IDX reader on good and broken files, and the shipped MNIST against its published facts."""

import gzip

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digitnet import data as data_module
from digitnet.data import load_dataset, parse_idx, read_idx, shipped_data_dir
from digitnet.errors import DigitnetError
from helpers import idx_bytes, write_idx_set


def test_shipped_mnist_matches_published_facts():
    dataset = load_dataset()
    assert dataset.train_images.shape == (50_000, 784)
    assert dataset.validation_images.shape == (10_000, 784)
    assert dataset.test_images.shape == (10_000, 784)
    assert dataset.train_images.dtype == np.float32
    assert list(dataset.train_labels[:10]) == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert list(dataset.test_labels[:10]) == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    all_train_labels = np.concatenate([dataset.train_labels, dataset.validation_labels])
    assert list(np.bincount(all_train_labels)) == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert list(np.bincount(dataset.test_labels)) == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    all_train = np.concatenate([dataset.train_images, dataset.validation_images])
    assert all_train.mean() * 255 == pytest.approx(33.318, abs=1e-3)
    assert 0.0 <= all_train.min() and all_train.max() == 1.0


def test_validation_set_is_the_last_10000_training_images():
    raw = read_idx(shipped_data_dir() / "train-images-idx3-ubyte.gz")
    dataset = load_dataset()
    np.testing.assert_array_equal(dataset.validation_images[-1] * 255, raw[-1].reshape(-1).astype(np.float32))
    np.testing.assert_array_equal(dataset.train_images[0] * 255, raw[0].reshape(-1).astype(np.float32))


def test_shipped_files_are_checked_against_sha256(tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    for path in shipped_data_dir().iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    labels = read_idx(folder / "t10k-labels-idx1-ubyte.gz").copy()
    labels[0] = (labels[0] + 1) % 10  # one changed label: same format, different data
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(labels)))
    with pytest.raises(DigitnetError, match="t10k-labels-idx1-ubyte.gz.*SHA-256"):
        load_dataset(folder)


@pytest.mark.parametrize("gzipped", [True, False])
def test_another_idx_set_loads(tmp_path, gzipped):
    folder = write_idx_set(tmp_path / "other", gzipped=gzipped)
    dataset = load_dataset(folder, validation_size=10)
    assert dataset.train_images.shape == (50, 784)
    assert dataset.validation_images.shape == (10, 784)
    assert dataset.test_images.shape == (20, 784)
    assert dataset.source == str(folder)


@given(st.lists(st.integers(1, 5), min_size=1, max_size=3), st.sampled_from([0x08, 0x0B, 0x0D]))
@settings(max_examples=40, deadline=None)
def test_idx_round_trip(shape, type_code):
    dtype = {0x08: np.uint8, 0x0B: np.int16, 0x0D: np.float32}[type_code]
    array = np.arange(np.prod(shape)).reshape(shape).astype(dtype)
    np.testing.assert_array_equal(parse_idx(idx_bytes(array, type_code)), array)


def test_truncated_file_is_named(tmp_path):
    path = tmp_path / "images.idx"
    path.write_bytes(idx_bytes(np.zeros((3, 28, 28), np.uint8))[:-5])
    with pytest.raises(DigitnetError, match=r"images\.idx: truncated"):
        read_idx(path)


def test_wrong_magic_is_named(tmp_path):
    path = tmp_path / "bad.idx"
    path.write_bytes(b"\x12\x34\x08\x01" + bytes(8))
    with pytest.raises(DigitnetError, match=r"bad\.idx: wrong magic number"):
        read_idx(path)


def test_truncated_gzip_is_named(tmp_path):
    path = tmp_path / "cut.gz"
    whole = gzip.compress(idx_bytes(np.random.default_rng(0).integers(0, 256, (100, 28, 28), dtype=np.uint8)))
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(DigitnetError, match=r"cut\.gz: gzip data is truncated"):
        read_idx(path)


def test_not_gzip_though_named_gz(tmp_path):
    path = tmp_path / "plain.gz"
    path.write_bytes(b"this is not gzip and not idx")
    with pytest.raises(DigitnetError, match=r"plain\.gz: wrong magic number"):
        read_idx(path)


def test_corrupt_gzip_is_named(tmp_path):
    path = tmp_path / "corrupt.gz"
    data = bytearray(gzip.compress(idx_bytes(np.arange(1000, dtype=np.uint8).reshape(10, 100))))
    data[20:30] = b"\xff" * 10
    path.write_bytes(bytes(data))
    with pytest.raises(DigitnetError, match=r"corrupt\.gz"):
        read_idx(path)


def test_count_mismatch_between_images_and_labels(tmp_path):
    folder = write_idx_set(tmp_path / "set")
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.zeros(19, np.uint8))))
    with pytest.raises(DigitnetError, match="19 labels for 20 images"):
        load_dataset(folder, validation_size=10)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(DigitnetError, match="not a directory"):
        load_dataset(tmp_path / "nowhere")
    folder = write_idx_set(tmp_path / "set")
    (folder / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DigitnetError, match="missing train-labels-idx1-ubyte"):
        load_dataset(folder)


def test_an_endless_device_is_refused_after_the_size_limit(monkeypatch):
    # /dev/zero never ends; the reader stops one byte past the limit instead of filling memory.
    monkeypatch.setattr(data_module, "MAX_IDX_BYTES", 1 << 20)
    with pytest.raises(DigitnetError, match="/dev/zero: more than 1,048,576 bytes is too large"):
        read_idx("/dev/zero")
