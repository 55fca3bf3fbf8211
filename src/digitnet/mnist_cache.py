"""The shipped MNIST, decoded once into a cache file and memory-mapped after that.

Inflating the four gzipped IDX files and checking their SHA-256 costs ~0.7 s, more than three
epochs of training, at every start. So the first load writes the decoded bytes (images `(n, 784)`
and labels `(n,)`, uint8, as the IDX files hold them) into one file in the user's cache folder,
and later loads map that file into memory: nothing is copied, and a part no command touches (the
training images, for `digitnet evaluate`) is never read from disk.

The promise stays that the data is the published MNIST (SHA256SUMS.raw): the cache is written only
from bytes that matched it, its header records those sums (a cache made for other files is stale
and rebuilt), and every part is checked again when it is first used, against the SHA-256 of each of
its 4 MB chunks recorded at writing time, hashed on all cores (hashlib lets go of the GIL). A cache
that is truncated, damaged or unreadable is rebuilt; one that cannot be written (a read-only home,
a full disk) is skipped, and the data comes from the gzipped files as before.

Layout: MAGIC, the header's length (8 bytes, little-endian), the header (JSON), then each part's
bytes at an offset that is a multiple of 4,096 (the page size), in FILE order.
"""

from __future__ import annotations

import hashlib
import json
import mmap
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from .errors import DigitnetError
from .files import write_atomically

MAGIC = b"digitnet MNIST\x00\x01"  # 16 bytes: the name and this layout's version
CHUNK_BYTES = 4 << 20
ALIGN = 4096
MAX_HEADER_BYTES = 1 << 16
CACHE_NAME = "mnist-uint8.cache"


def cache_folder() -> Path:
    """$DIGITNET_CACHE_DIR, else $XDG_CACHE_HOME/digitnet, else ~/.cache/digitnet."""
    if os.environ.get("DIGITNET_CACHE_DIR"):
        return Path(os.environ["DIGITNET_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "digitnet"


def _chunk_digests(buffer) -> list[str]:
    """SHA-256 of each CHUNK_BYTES piece of `buffer`, computed on up to 4 threads."""
    view = memoryview(buffer).cast("B")  # bytes, whatever the array's shape
    pieces = [view[start:start + CHUNK_BYTES] for start in range(0, len(view), CHUNK_BYTES)]
    if len(pieces) <= 1:
        return [hashlib.sha256(piece).hexdigest() for piece in pieces]
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1, len(pieces))) as pool:
        return list(pool.map(lambda piece: hashlib.sha256(piece).hexdigest(), pieces))


def write_cache(path: Path, sums: dict[str, str], arrays: dict[str, np.ndarray]) -> None:
    """Write `arrays` (uint8, already checked against `sums`) as a cache file at `path`, atomically."""
    parts, offset = {}, 0
    for key, array in arrays.items():
        parts[key] = {"shape": list(array.shape), "at": offset, "chunks": _chunk_digests(np.ascontiguousarray(array))}
        offset += -(-array.nbytes // ALIGN) * ALIGN
    header = json.dumps({"sums": sums, "chunk_bytes": CHUNK_BYTES, "parts": parts}).encode()
    start = -(-(len(MAGIC) + 8 + len(header)) // ALIGN) * ALIGN

    def write(file):
        file.write(MAGIC + len(header).to_bytes(8, "little") + header)
        for key, array in arrays.items():
            file.seek(start + parts[key]["at"])
            file.write(np.ascontiguousarray(array).data)
        file.truncate(start + offset)

    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, write, "MNIST cache")


class StaleOrDamaged(Exception):
    """The cache file does not hold what it should: rebuild it."""


class CacheFile:
    """An open cache file: `part(key)` is that part's uint8 array, mapped read-only and checked."""

    def __init__(self, path: Path, sums: dict[str, str]):
        try:
            with open(path, "rb") as file:
                self.map = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError) as error:  # missing, unreadable, or empty (mmap refuses 0 bytes)
            raise StaleOrDamaged(str(error)) from None
        if self.map[:len(MAGIC)] != MAGIC:
            raise StaleOrDamaged("not a digitnet MNIST cache")
        length = int.from_bytes(self.map[len(MAGIC):len(MAGIC) + 8], "little")
        if length > MAX_HEADER_BYTES:
            raise StaleOrDamaged("header too long")
        try:
            header = json.loads(self.map[len(MAGIC) + 8:len(MAGIC) + 8 + length])
            self.parts, chunk_bytes = dict(header["parts"]), header["chunk_bytes"]
            if header["sums"] != sums:
                raise StaleOrDamaged("made for other files")
        except (ValueError, KeyError, TypeError):
            raise StaleOrDamaged("header unreadable") from None
        if chunk_bytes != CHUNK_BYTES:
            raise StaleOrDamaged("another chunk size")
        self.start = -(-(len(MAGIC) + 8 + length) // ALIGN) * ALIGN

    def part(self, key: str) -> np.ndarray:
        try:
            entry = self.parts[key]
            shape, at, chunks = tuple(int(n) for n in entry["shape"]), int(entry["at"]), list(entry["chunks"])
            count = int(np.prod(shape))
            array = np.frombuffer(self.map, np.uint8, count=count, offset=self.start + at).reshape(shape)
        except (KeyError, TypeError, ValueError):  # a missing part, or a file shorter than its header says
            raise StaleOrDamaged(f"part {key} missing or cut short") from None
        if _chunk_digests(array) != chunks:
            raise StaleOrDamaged(f"part {key} damaged")
        return array


class ShippedParts:
    """The shipped MNIST's parts, from the cache file when it can be used, else from `build()`.

    `build()` returns every part, decoded from the gzipped files and checked against `sums`. It is
    called only to (re)write the cache, or when no cache can be written here; its arrays are then
    kept only as long as no cache file holds them."""

    def __init__(self, sums: dict[str, str], build):
        self.sums, self.build, self.built = sums, build, None
        self.checked = {}  # key -> its array, once checked
        self.path = cache_folder() / CACHE_NAME
        try:
            self.cache = CacheFile(self.path, sums)
        except StaleOrDamaged:
            self.cache = self._rebuilt()

    def _rebuilt(self) -> CacheFile | None:
        if self.built is None:
            self.built = self.build()
        try:
            write_cache(self.path, self.sums, self.built)
            cache = CacheFile(self.path, self.sums)
        except (OSError, DigitnetError, StaleOrDamaged):
            return None  # not writable or not readable here: keep the decoded arrays instead
        self.built = None
        return cache

    def part(self, key: str) -> np.ndarray:
        """One part (e.g. "train_images" `(60000, 784)`, "test_labels" `(10000,)`), uint8, read-only."""
        if key not in self.checked:
            self.checked[key] = self._checked_part(key)
        return self.checked[key]

    def _checked_part(self, key: str) -> np.ndarray:
        for _ in range(2):  # as found, then once rebuilt
            if self.cache is None:
                break
            try:
                return self.cache.part(key)
            except StaleOrDamaged:
                self.cache = self._rebuilt()
        if self.built is None:
            self.built = self.build()
        return self.built[key]
