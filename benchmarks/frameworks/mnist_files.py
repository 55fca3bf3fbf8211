"""MNIST from its four gzipped IDX files with nothing but gzip and numpy, as a PyTorch or JAX user
reads them: the standalone scripts beside this file use it instead of digitnet's loader.

Same split as digitnet: the first 50,000 training images to train on, the last 10,000 held out.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

VALIDATION_SIZE = 10_000


def read_idx_gz(path: Path) -> np.ndarray:
    """An IDX file of unsigned bytes (type 0x08), gzipped: its header says the shape."""
    with gzip.open(path, "rb") as file:
        data = file.read()
    ndim = data[3]
    shape = np.frombuffer(data, dtype=">u4", count=ndim, offset=4)
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(tuple(int(n) for n in shape))


def load_mnist(directory: Path) -> dict[str, np.ndarray]:
    """{"train_images", "train_labels", "validation_images", ..., "test_labels"}: images float32
    `(n, 784)` in [0, 1], labels int64 `(n,)`."""
    directory = Path(directory)

    def images(stem):
        pixels = read_idx_gz(directory / f"{stem}-images-idx3-ubyte.gz")
        return pixels.reshape(len(pixels), -1).astype(np.float32) / np.float32(255.0)

    def labels(stem):
        return read_idx_gz(directory / f"{stem}-labels-idx1-ubyte.gz").astype(np.int64)

    train_images, train_labels = images("train"), labels("train")
    split = len(train_images) - VALIDATION_SIZE
    return {"train_images": train_images[:split], "train_labels": train_labels[:split],
            "validation_images": train_images[split:], "validation_labels": train_labels[split:],
            "test_images": images("t10k"), "test_labels": labels("t10k")}
