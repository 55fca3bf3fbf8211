"""IDX files, the shipped MNIST, and its training/validation/test split.

MNIST (Y. LeCun, C. Cortes, C. J. C. Burges) ships inside the package, so digitnet works offline.
Any data set laid out like MNIST (four IDX files with the same names, gzipped or not), such as
Fashion-MNIST, can be used instead with `load_dataset(directory)`.

A Dataset holds images as uint8 rows `(n, 784)` and gives them as float32 rows of pixel brightness
in [0, 1] on demand; labels are uint8 `(n,)`. The shipped MNIST is decoded once into a cache file
and memory-mapped from there (mnist_cache.py).
"""

from __future__ import annotations

import hashlib
import math
import zlib
from functools import cached_property
from importlib import resources
from pathlib import Path

import numpy as np

from .errors import DigitnetError
from .files import read_bytes
from .validation import check_memory

# IDX type codes -> numpy dtypes (big-endian, as the format stores them).
IDX_DTYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
GZIP_MAGIC = b"\x1f\x8b"
MAX_IDX_BYTES = 1 << 31  # 2 GiB decompressed: far beyond MNIST, small enough to refuse a bomb
# Memory per byte of an IDX file while a data set loads: the bytes themselves and, for images, their
# float32 copy (4 bytes per pixel byte). Checked against what the machine has before inflating.
BYTES_IN_MEMORY_PER_BYTE = 5

FILE_NAMES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
VALIDATION_SIZE = 10_000  # the last 10,000 training images, as Nielsen holds out
MNIST_TRAINING_IMAGES = 60_000


class Dataset:
    """Training, validation and test sets.

    `train_pixels`, `validation_pixels`, `test_pixels`: images `(n, 784)` uint8, as MNIST stores them
    (0 black .. 255 white), and `train_images` etc. the same as float32 network inputs in [0, 1]
    (made on first use: 4 bytes per pixel, so only for what a command uses); labels `(n,)` uint8.
    Each part is loaded when it is first used: `digitnet evaluate` never reads the training images.
    `checksum` identifies the data (SHA-256 over the four decompressed files' SHA-256) and is stored
    with every model trained on it.
    """

    def __init__(self, part, checksum: str, source: str, validation_size: int = VALIDATION_SIZE,
                 counts: tuple[int | None, int | None, int | None] = (None, None, None)):
        # part(key) -> that part's uint8 array, key in FILE_NAMES ("train_images" (n, 784), ...);
        # counts: how many of the training, validation and test images to use (None: all)
        self._part, self.checksum, self.source = part, checksum, source
        self.validation_size, self._counts = validation_size, counts

    @classmethod
    def from_arrays(cls, train_pixels, train_labels, validation_pixels, validation_labels, test_pixels, test_labels,
                    source: str = "arrays") -> "Dataset":
        """A Dataset of given uint8 images `(n, 784)` and labels `(n,)`; its checksum is of their bytes."""
        arrays = {"train_images": np.concatenate([train_pixels, validation_pixels]),
                  "train_labels": np.concatenate([train_labels, validation_labels]),
                  "test_images": np.asarray(test_pixels), "test_labels": np.asarray(test_labels)}
        for key, array in arrays.items():
            if array.dtype != np.uint8 or array.ndim != (2 if key.endswith("images") else 1):
                raise DigitnetError(f"{source}: {key} must be uint8, images (n, 784) and labels (n,)")
        digest = hashlib.sha256()
        for array in arrays.values():
            digest.update(hashlib.sha256(np.ascontiguousarray(array).data).hexdigest().encode())
        return cls(arrays.__getitem__, digest.hexdigest(), source, len(validation_labels))

    def subset(self, train: int | None = None, validation: int | None = None, test: int | None = None) -> "Dataset":
        """The same data with only the first `train` training, `validation` validation and `test`
        test images (None: as before), e.g. for a quick run."""
        counts = tuple(old if new is None else new for old, new in zip(self._counts, (train, validation, test)))
        for asked, have, kind in zip(counts, (len(self.train_labels), len(self.validation_labels),
                                              len(self.test_labels)), ("training", "validation", "test")):
            if asked is not None and not 0 <= asked <= have:
                raise DigitnetError(f"{self.source}: has {have:,} {kind} images, not the {asked:,} asked for")
        return Dataset(self._part, self.checksum, self.source, self.validation_size, counts)

    def __reduce__(self):
        """For worker processes (joblib, Dask): the shipped MNIST is opened again there (its cache
        is mapped, not copied); other data travels as its arrays."""
        from .mnist_cache import ShippedParts

        if isinstance(getattr(self._part, "__self__", None), ShippedParts):
            return _reopened_shipped, (self.validation_size, self._counts)
        arrays = {key: self._part(key) for key in FILE_NAMES}
        return Dataset, (arrays.__getitem__, self.checksum, self.source, self.validation_size, self._counts)

    @cached_property
    def _train_split(self) -> int:
        return len(self._part("train_labels")) - self.validation_size

    def _training(self, key: str) -> np.ndarray:
        return self._part(key)[:self._train_split][:self._counts[0]]

    def _validation(self, key: str) -> np.ndarray:
        return self._part(key)[self._train_split:][:self._counts[1]]

    def _test(self, key: str) -> np.ndarray:
        return self._part(key)[:self._counts[2]]

    @cached_property
    def train_pixels(self) -> np.ndarray:
        return self._training("train_images")

    @cached_property
    def train_labels(self) -> np.ndarray:
        return self._training("train_labels")

    @cached_property
    def validation_pixels(self) -> np.ndarray:
        return self._validation("train_images")

    @cached_property
    def validation_labels(self) -> np.ndarray:
        return self._validation("train_labels")

    @cached_property
    def test_pixels(self) -> np.ndarray:
        return self._test("test_images")

    @cached_property
    def test_labels(self) -> np.ndarray:
        return self._test("test_labels")

    @cached_property
    def train_images(self) -> np.ndarray:
        return to_inputs(self.train_pixels)

    @cached_property
    def validation_images(self) -> np.ndarray:
        return to_inputs(self.validation_pixels)

    @cached_property
    def test_images(self) -> np.ndarray:
        return to_inputs(self.test_pixels)

    @cached_property
    def deskewed(self) -> "Dataset":
        """The same data with each image's slant taken out (deskew.py), each part when first used:
        what a network trained with TrainingSettings(deskew=True) sees. Same checksum: the data is
        the same; the model's settings record the deskewing. A deskewed view is its own view."""
        if isinstance(self._part, _DeskewedParts):
            return self
        return Dataset(_DeskewedParts(self._part), self.checksum, f"{self.source} (deskewed)", self.validation_size,
                       self._counts)


class _DeskewedParts:
    """part(key) of a Dataset with its images deskewed, each file's images deskewed once."""

    def __init__(self, part):
        self._part, self._done = part, {}

    def __call__(self, key: str) -> np.ndarray:
        if key not in self._done:  # two threads may both deskew a part once: the same result
            from .deskew import deskew

            array = self._part(key)
            self._done[key] = deskew(array) if key.endswith("images") else array
        return self._done[key]


def _declared_bytes(header: bytes) -> int | None:
    """The length of the whole IDX file its first 4 + 4 * ndim bytes declare, or None if they do
    not start an IDX file (parse_idx then says what is wrong)."""
    if len(header) < 4 or header[:2] != b"\0\0" or header[2] not in IDX_DTYPES or not 1 <= header[3] <= 4:
        return None
    ndim = header[3]
    if len(header) < 4 + 4 * ndim:
        return None
    shape = np.frombuffer(header, dtype=">u4", count=ndim, offset=4)
    return 4 + 4 * ndim + math.prod(int(size) for size in shape) * IDX_DTYPES[header[2]].itemsize


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, decompressed if it is gzipped (detected by content, not by name).

    A gzip is inflated in two steps: first the IDX header, whose dimensions say how long the data
    is, then at most that many bytes (and one more): a bomb (a few MB inflating to gigabytes) is
    refused after inflating no more than what its header admits, and a header admitting more than
    MAX_IDX_BYTES, or more than this machine's memory, is refused before inflating anything more."""
    raw = read_bytes(path, MAX_IDX_BYTES, "file")
    if raw[:2] != GZIP_MAGIC:
        return raw
    try:
        decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        header = decompressor.decompress(raw, 4)
        if len(header) == 4 and 1 <= header[3] <= 4:
            header += decompressor.decompress(decompressor.unconsumed_tail, 4 * header[3])
        declared = _declared_bytes(header)
        if declared is None:  # not IDX: inflate a little more, enough for parse_idx's message
            return header + decompressor.decompress(decompressor.unconsumed_tail, 64)
        if declared > MAX_IDX_BYTES:
            raise DigitnetError(f"{path}: its header declares {declared:,} bytes, more than the {MAX_IDX_BYTES:,} "
                                "digitnet reads; not an IDX file digitnet can read")
        check_memory(declared * BYTES_IN_MEMORY_PER_BYTE, f"{path} ({declared:,} bytes once decompressed)")
        data = header + decompressor.decompress(decompressor.unconsumed_tail, declared - len(header) + 1)
        if len(data) > declared or decompressor.unconsumed_tail:
            raise DigitnetError(f"{path}: decompresses to more than the {declared:,} bytes its header declares "
                                "(a compression bomb, or not an IDX file); refusing")
        if not decompressor.eof:
            raise DigitnetError(f"{path}: gzip data is truncated (the download may be incomplete)")
    except zlib.error as error:
        raise DigitnetError(f"{path}: not valid gzip data ({error})") from None
    return data


def parse_idx(data: bytes, name: str = "<bytes>") -> np.ndarray:
    """Parse IDX bytes: magic (0, 0, type, ndim), ndim big-endian uint32 sizes, then the values.

    Raises DigitnetError naming `name` if the magic, the dimensions or the length are wrong.
    """
    if len(data) < 4:
        raise DigitnetError(f"{name}: too short to be an IDX file ({len(data)} bytes)")
    zero1, zero2, type_code, ndim = data[0], data[1], data[2], data[3]
    if zero1 != 0 or zero2 != 0 or type_code not in IDX_DTYPES or not 1 <= ndim <= 4:
        raise DigitnetError(
            f"{name}: wrong magic number 0x{data[:4].hex()} (an IDX file starts with 00 00, a type "
            f"code among {sorted(hex(c) for c in IDX_DTYPES)} and 1-4 dimensions)"
        )
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise DigitnetError(f"{name}: truncated header ({len(data)} bytes, need {header_size})")
    shape = tuple(int(s) for s in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_DTYPES[type_code]
    # Python integers: np.prod wraps around at 2^64; and numpy refuses a shape whose nonzero
    # dimensions multiply past its limit even when another dimension is 0.
    if math.prod(max(size, 1) for size in shape) * dtype.itemsize > MAX_IDX_BYTES:
        raise DigitnetError(f"{name}: dimensions {shape} describe more than {MAX_IDX_BYTES:,} bytes; "
                            "not an IDX file digitnet can read")
    expected = header_size + math.prod(shape) * dtype.itemsize
    if len(data) != expected:
        problem = "truncated" if len(data) < expected else "has trailing bytes"
        raise DigitnetError(
            f"{name}: {problem}: dimensions {shape} need {expected} bytes, the file has {len(data)}"
        )
    return np.frombuffer(data, dtype=dtype, offset=header_size).reshape(shape)


def read_idx(path: str | Path) -> np.ndarray:
    """Read any IDX file, gzipped or not. A bad file raises DigitnetError naming it."""
    path = Path(path)
    return parse_idx(_read_bytes(path), str(path))


def _find(directory: Path, stem: str) -> Path:
    for candidate in (directory / stem, directory / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    raise DigitnetError(f"{directory}: missing {stem} (or {stem}.gz); expected MNIST's four IDX files")


def _check_pair(images: np.ndarray, labels: np.ndarray, images_path: Path, labels_path: Path):
    if images.ndim != 3:
        raise DigitnetError(f"{images_path}: expected images (n, rows, cols), got shape {images.shape}")
    if images.shape[1:] != (28, 28):
        raise DigitnetError(f"{images_path}: images are {images.shape[1]}x{images.shape[2]}, need 28x28")
    if labels.ndim != 1:
        raise DigitnetError(f"{labels_path}: expected labels (n,), got shape {labels.shape}")
    if len(images) == 0:
        raise DigitnetError(f"{images_path}: holds no images")
    if len(images) != len(labels):
        raise DigitnetError(
            f"{labels_path}: {len(labels)} labels for {len(images)} images in {images_path.name}"
        )
    if images.dtype != np.uint8 or labels.dtype != np.uint8:
        raise DigitnetError(f"{images_path}: images and labels must be unsigned bytes (IDX type 0x08)")
    if labels.size and labels.max() > 9:
        raise DigitnetError(f"{labels_path}: label {labels.max()} is not a digit 0-9")


def shipped_data_dir() -> Path:
    """The folder inside the installed package that holds MNIST."""
    return Path(str(resources.files("digitnet") / "data"))


def expected_checksums(directory: Path) -> dict[str, str] | None:
    """Published SHA-256 of the decompressed files, from SHA256SUMS.raw if the folder has one."""
    sums = directory / "SHA256SUMS.raw"
    if not sums.is_file():
        return None
    try:
        text = sums.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise DigitnetError(f"{sums}: not a readable list of SHA-256 sums (one 'HASH  FILE' per line)") from None
    result = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2:
            result[parts[1]] = parts[0]
    return result


def load_dataset(directory: str | Path | None = None, validation_size: int = VALIDATION_SIZE) -> Dataset:
    """Load MNIST (the shipped copy by default) or any IDX set laid out like it, from `directory`.

    The last `validation_size` training images are held out for validation; the test set is for
    the final evaluation only. Where the folder has SHA256SUMS.raw (the shipped one does), every
    decompressed file is checked against it. The shipped copy comes from a verified cache
    (mnist_cache.py), each part when first used; another folder is read and checked at once.
    """
    if directory is None:
        return _shipped_dataset(validation_size)
    directory = Path(directory)
    if not directory.is_dir():
        raise DigitnetError(f"{directory}: not a directory (give a folder with MNIST's four IDX files)")
    arrays, checksum = _decoded(directory)
    _check_split(directory, len(arrays["train_labels"]), validation_size)
    return Dataset(arrays.__getitem__, checksum, str(directory), validation_size)


def _check_split(directory: Path, n_train: int, validation_size: int) -> None:
    if not 0 <= validation_size < n_train:
        raise DigitnetError(
            f"{directory}: cannot hold out {validation_size} validation images from {n_train} training images"
        )


def _decoded(directory: Path) -> tuple[dict[str, np.ndarray], str]:
    """The folder's four IDX files decoded and checked (against SHA256SUMS.raw where it has one):
    images `(n, 784)` and labels `(n,)` uint8, and the checksum of the four."""
    expected = expected_checksums(directory)
    arrays, digest_of_all = {}, hashlib.sha256()
    paths = {key: _find(directory, stem) for key, stem in FILE_NAMES.items()}
    for key, path in paths.items():
        raw = _read_bytes(path)
        digest = hashlib.sha256(raw).hexdigest()
        stem = FILE_NAMES[key]
        if expected is not None and stem in expected and expected[stem] != digest:
            raise DigitnetError(
                f"{path}: SHA-256 of the decompressed data is {digest[:16]}..., SHA256SUMS.raw says "
                f"{expected[stem][:16]}...; the file is damaged or not the published one"
            )
        digest_of_all.update(digest.encode())
        arrays[key] = parse_idx(raw, str(path))
    for kind in ("train", "test"):
        _check_pair(arrays[f"{kind}_images"], arrays[f"{kind}_labels"],
                    paths[f"{kind}_images"], paths[f"{kind}_labels"])
        images = arrays[f"{kind}_images"]
        arrays[f"{kind}_images"] = images.reshape(len(images), -1)
    return arrays, digest_of_all.hexdigest()


def _shipped_dataset(validation_size: int) -> Dataset:
    """The shipped MNIST, its parts from the cache (see mnist_cache.py). Its checksum follows from
    SHA256SUMS.raw, which every part is checked against before it is used."""
    from .mnist_cache import ShippedParts

    directory = shipped_data_dir()
    sums = expected_checksums(directory)
    if sums is None or any(stem not in sums for stem in FILE_NAMES.values()):
        raise DigitnetError(f"{directory}: SHA256SUMS.raw is missing or incomplete; reinstall digitnet")
    sums = {stem: sums[stem] for stem in FILE_NAMES.values()}
    checksum = hashlib.sha256("".join(sums.values()).encode()).hexdigest()
    parts = ShippedParts(sums, lambda: _decoded(directory)[0])
    _check_split(directory, MNIST_TRAINING_IMAGES, validation_size)
    return Dataset(parts.part, checksum, "MNIST shipped with digitnet", validation_size)


def _reopened_shipped(validation_size: int, counts) -> Dataset:
    dataset = _shipped_dataset(validation_size)
    return Dataset(dataset._part, dataset.checksum, dataset.source, validation_size, counts)


def to_inputs(images: np.ndarray) -> np.ndarray:
    """uint8 images `(n, 28, 28)` or `(n, 784)` -> float32 input rows `(n, 784)` of brightness in [0, 1]."""
    return (images.reshape(len(images), math.prod(images.shape[1:])).astype(np.float32)) / np.float32(255.0)
