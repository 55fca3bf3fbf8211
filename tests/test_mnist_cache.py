"""The shipped MNIST's cache: built on first use, memory-mapped after, and every kind of damage or
staleness found and rebuilt, with the data always the published bytes (SHA256SUMS.raw)."""

from __future__ import annotations

import json
import multiprocessing
import pickle

import numpy as np
import pytest

from digitnet import mnist_cache
from digitnet.data import FILE_NAMES, Dataset, _decoded, load_dataset, shipped_data_dir
from digitnet.errors import DigitnetError
from digitnet.mnist_cache import CACHE_NAME, MAGIC


@pytest.fixture(scope="module")
def published():
    """The four files decoded straight from the shipped gzips (and checked against their SHA-256)."""
    arrays, checksum = _decoded(shipped_data_dir())
    return arrays, checksum


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("DIGITNET_CACHE_DIR", str(folder))
    return folder


def assert_is_published(dataset: Dataset, published):
    arrays, checksum = published
    assert dataset.checksum == checksum
    np.testing.assert_array_equal(np.concatenate([dataset.train_pixels, dataset.validation_pixels]),
                                  arrays["train_images"])
    np.testing.assert_array_equal(np.concatenate([dataset.train_labels, dataset.validation_labels]),
                                  arrays["train_labels"])
    np.testing.assert_array_equal(dataset.test_pixels, arrays["test_images"])
    np.testing.assert_array_equal(dataset.test_labels, arrays["test_labels"])


def header_of(path):
    data = path.read_bytes()
    length = int.from_bytes(data[len(MAGIC):len(MAGIC) + 8], "little")
    header = json.loads(data[len(MAGIC) + 8:len(MAGIC) + 8 + length])
    start = -(-(len(MAGIC) + 8 + length) // mnist_cache.ALIGN) * mnist_cache.ALIGN
    return header, start


def test_the_first_load_writes_the_cache_and_the_next_maps_it(cache_dir, published):
    first = load_dataset()
    assert_is_published(first, published)
    cache = cache_dir / CACHE_NAME
    assert cache.is_file() and cache.stat().st_size > 47_000_000
    second = load_dataset()
    assert_is_published(second, published)
    # mapped from the file, not copied: read-only views whose memory is the file's
    assert not second.train_pixels.flags.writeable and not second.test_pixels.flags.owndata
    assert second.train_images.dtype == np.float32 and second.train_images.max() == 1.0


def test_a_command_that_uses_the_test_set_checks_only_that_part(cache_dir):
    load_dataset().test_labels  # builds the cache
    dataset = load_dataset()
    dataset.test_pixels, dataset.test_labels
    parts = dataset._part.__self__
    assert set(parts.checked) == {"test_images", "test_labels"}


def flip_byte(path, offset):
    with open(path, "r+b") as file:
        file.seek(offset)
        byte = file.read(1)
        file.seek(offset)
        file.write(bytes([byte[0] ^ 0x5A]))


def damage_a_part(key, position):
    def damage(path):
        header, start = header_of(path)
        part = header["parts"][key]
        size = int(np.prod(part["shape"]))
        flip_byte(path, start + part["at"] + int(size * position))
    return damage


def truncate(fraction):
    def damage(path):
        data = path.read_bytes()
        path.write_bytes(data[:int(len(data) * fraction)])
    return damage


def rewrite_header(change):
    def damage(path):
        data = path.read_bytes()
        length = int.from_bytes(data[len(MAGIC):len(MAGIC) + 8], "little")
        header = json.loads(data[len(MAGIC) + 8:len(MAGIC) + 8 + length])
        change(header)
        text = json.dumps(header).encode().ljust(length)[:length]  # the same length: the parts stay put
        path.write_bytes(data[:len(MAGIC) + 8] + text + data[len(MAGIC) + 8 + length:])
    return damage


def other_sums(header):
    header["sums"]["t10k-labels-idx1-ubyte"] = "0" * 64


def other_chunk_size(header):
    header["chunk_bytes"] = header["chunk_bytes"] // 2


DAMAGE = {
    "a flipped byte in the training images": damage_a_part("train_images", 0.7),
    "a flipped byte in the validation images": damage_a_part("train_images", 0.95),
    "a flipped byte in the test labels": damage_a_part("test_labels", 0.5),
    "cut in the middle": truncate(0.5),
    "cut one byte short": lambda path: path.write_bytes(path.read_bytes()[:-1]),
    "empty": lambda path: path.write_bytes(b""),
    "not a cache (wrong magic)": lambda path: flip_byte(path, 0),
    "a header that is not JSON": lambda path: flip_byte(path, len(MAGIC) + 8),
    "a header length past the file": lambda path: path.write_bytes(
        path.read_bytes()[:len(MAGIC)] + (10**6).to_bytes(8, "little") + path.read_bytes()[len(MAGIC) + 8:]),
    "made for other files (stale sums)": rewrite_header(other_sums),
    "another chunk size": rewrite_header(other_chunk_size),
    "a missing part": rewrite_header(lambda header: header["parts"].pop("test_images")),
    "a part said to be elsewhere": rewrite_header(lambda header: header["parts"]["test_labels"].update(at=10**9)),
}


@pytest.mark.parametrize("damage", DAMAGE.values(), ids=DAMAGE.keys())
def test_every_kind_of_damage_is_found_and_the_cache_rebuilt(cache_dir, published, damage):
    load_dataset().test_labels
    cache = cache_dir / CACHE_NAME
    damage(cache)
    assert_is_published(load_dataset(), published)  # the published data, whatever was in the file
    assert_is_published(load_dataset(), published)  # and from the rebuilt cache
    header, _ = header_of(cache)
    assert set(header["parts"]) == set(FILE_NAMES)


def test_a_cache_path_that_is_a_folder_or_unwritable_falls_back_to_the_gzips(tmp_path, monkeypatch, published):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("DIGITNET_CACHE_DIR", str(blocked / "cache"))  # cannot be made: its parent is a file
    assert_is_published(load_dataset(), published)
    folder = tmp_path / "cache"
    (folder / CACHE_NAME).mkdir(parents=True)  # a folder where the file should be
    monkeypatch.setenv("DIGITNET_CACHE_DIR", str(folder))
    assert_is_published(load_dataset(), published)


def load_in_another_process(folder, queue):
    import os
    os.environ["DIGITNET_CACHE_DIR"] = folder
    dataset = load_dataset()
    queue.put((dataset.checksum, int(dataset.train_pixels.sum(dtype=np.int64)), int(dataset.test_labels.sum())))


def test_two_processes_building_the_cache_at_once_both_get_the_data(cache_dir, published):
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    processes = [context.Process(target=load_in_another_process, args=(str(cache_dir), queue)) for _ in range(2)]
    for process in processes:
        process.start()
    results = [queue.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    arrays, checksum = published
    expected = (checksum, int(arrays["train_images"][:50_000].sum(dtype=np.int64)), int(arrays["test_labels"].sum()))
    assert results == [expected, expected]
    assert_is_published(load_dataset(), published)


def test_a_dataset_travels_to_a_worker_process_with_its_subset(cache_dir, published):
    dataset = load_dataset().subset(train=1234, validation=56)
    copy = pickle.loads(pickle.dumps(dataset))
    assert (len(copy.train_labels), len(copy.validation_labels), len(copy.test_labels)) == (1234, 56, 10_000)
    np.testing.assert_array_equal(copy.train_pixels, published[0]["train_images"][:1234])
    arrays = Dataset.from_arrays(dataset.train_pixels[:100], dataset.train_labels[:100], dataset.validation_pixels,
                                 dataset.validation_labels, dataset.test_pixels[:10], dataset.test_labels[:10])
    again = pickle.loads(pickle.dumps(arrays))
    assert again.checksum == arrays.checksum and len(again.validation_labels) == 56
    np.testing.assert_array_equal(again.test_pixels, arrays.test_pixels)


@pytest.mark.parametrize("counts", [dict(train=50_001), dict(validation=-1), dict(test=10_001)])
def test_a_subset_larger_than_the_data_is_refused_in_one_line(counts):
    with pytest.raises(DigitnetError, match="images, not the") as error:
        load_dataset().subset(**counts)
    assert "\n" not in str(error.value)


def test_arrays_that_are_not_uint8_images_are_refused():
    good = np.zeros((3, 784), np.uint8), np.zeros(3, np.uint8)
    with pytest.raises(DigitnetError, match="uint8"):
        Dataset.from_arrays(good[0].astype(np.float32), good[1], *good, *good)
