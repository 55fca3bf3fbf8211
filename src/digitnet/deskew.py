"""Taking the slant out of a digit (deskewing), as LeCun's MNIST table does before some classifiers.

People slant their digits by different amounts; a network that must learn every slant of every
digit spends neurons on it. Deskewing shears each image so that its ink's principal axis stands
upright: with the ink's centre of mass (r0, c0) and its second moments

    mu_rr = E[(r - r0)^2],   mu_rc = E[(r - r0)(c - c0)]     (weighted by brightness)

the slant is alpha = mu_rc / mu_rr (columns drift by alpha per row), and the output pixel at
(r, c), measured from the image centre, reads the source at

    (r0 + r,  c0 + c + alpha r)

which undoes the drift and puts the centre of mass in the middle. LeCun et al. report a 300-unit
MLP at 4.7% test error without it and 1.6% with it; for the video's 784-16-16-10 it is worth about
a point (README). A model trained on deskewed digits must see deskewed digits everywhere: its
metadata says so (`modelfile.Model.deskews`) and `Model.prepare` applies this.
"""

from __future__ import annotations

import numpy as np

from .augment import CENTRE, SIDE, resample
from .errors import DigitnetError

# Images per block: each block's positions and weights take ~40 bytes per pixel. Blocks of 1,024
# (~30 MB of temporaries, reused) deskewed MNIST's test set in 0.50 s in a fresh process, blocks of
# 4,096 in 1.14 s (their fresh 100 MB were page faults); 256 gained little more.
BLOCK_IMAGES = 1024
FLAT_VARIANCE = 1e-3  # rows^2: ink this flat (one horizontal line, or none) has no slant to take out

_ROWS = np.repeat(np.arange(SIDE, dtype=np.float64), SIDE)  # (784,) each pixel's row
_COLUMNS = np.tile(np.arange(SIDE, dtype=np.float64), SIDE)  # (784,) and column
# The sums the moments need, as one product: ink, ink x row, ink x column, ink x row^2, ink x row x column
_MOMENTS = np.stack([np.ones(SIDE * SIDE), _ROWS, _COLUMNS, _ROWS**2, _ROWS * _COLUMNS], axis=1)  # (784, 5)


def _checked(images) -> np.ndarray:
    """images as an array `(n, 784)` or `(784,)` of finite numbers; DigitnetError (one line) otherwise."""
    images = np.asarray(images)
    if images.ndim not in (1, 2) or images.shape[-1] != SIDE * SIDE or images.dtype.kind not in "uif":
        raise DigitnetError(f"deskew: images must be numbers, (n, 784) or one (784,), not {images.dtype} "
                            f"{images.shape}")
    if images.dtype.kind == "f" and not np.isfinite(images).all():
        raise DigitnetError("deskew: the images hold NaN or infinite values")
    return images


def slants(images: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Images `(n, 784)` or one `(784,)` (any brightness scale) -> (alpha `(n,)`, centre row r0 `(n,)`,
    centre column c0 `(n,)`). A blank image gets alpha 0 and the image centre."""
    return _slants_of(_checked(images).reshape(-1, SIDE * SIDE))


def _slants_of(batch: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`slants` of a checked batch `(n, 784)`."""
    sums = batch.astype(np.float64) @ _MOMENTS  # (n, 5)
    ink = sums[:, 0]
    has_ink = ink > 0
    mass = np.where(has_ink, ink, 1.0)
    r0 = np.where(has_ink, sums[:, 1] / mass, CENTRE)
    c0 = np.where(has_ink, sums[:, 2] / mass, CENTRE)
    mu_rr = sums[:, 3] / mass - r0**2
    mu_rc = sums[:, 4] / mass - r0 * c0
    alpha = np.where(has_ink & (mu_rr > FLAT_VARIANCE), mu_rc / np.maximum(mu_rr, FLAT_VARIANCE), 0.0)
    return alpha, r0, c0


def source_positions(batch: np.ndarray) -> np.ndarray:
    """Where each output pixel of the deskewed images `(n, 784)` (checked by deskew) reads from:
    `(n, 2, 28, 28)` (row, column)."""
    alpha, r0, c0 = _slants_of(batch)
    pixel = np.arange(SIDE, dtype=np.float64) - CENTRE  # (28,) from the centre
    rows = np.broadcast_to(r0[:, None, None] + pixel[None, :, None], (len(batch), SIDE, SIDE))
    cols = c0[:, None, None] + alpha[:, None, None] * pixel[None, :, None] + pixel[None, None, :]
    return np.stack([rows, cols], axis=1).astype(np.float32)


def deskew(images: np.ndarray) -> np.ndarray:
    """Images `(n, 784)` or one `(784,)`, uint8 pixels or float inputs -> the same upright, their
    centre of mass in the middle; same shape and dtype (uint8 rounded)."""
    images = _checked(images)
    batch = images.reshape(-1, SIDE * SIDE)
    out = np.empty_like(batch)
    for start in range(0, len(batch), BLOCK_IMAGES):
        block = batch[start:start + BLOCK_IMAGES]
        resample(block, source_positions(block), out[start:start + BLOCK_IMAGES])
    return out.reshape(images.shape)
