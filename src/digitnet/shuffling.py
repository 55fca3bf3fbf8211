"""Each epoch's training images: in a new random order, each moved by up to a few pixels.

A digit moved by a pixel is still the same digit; showing the network its examples slightly moved
every epoch teaches it that, instead of exact pixel positions (`TrainingSettings.shift_pixels`).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np


def _draw_shifts(rng: np.random.Generator, n: int, max_shift: int) -> np.ndarray:
    """Each of n images' move `(n, 2)`: (dy, dx), each in [-max_shift, max_shift]."""
    return rng.integers(-max_shift, max_shift + 1, size=(n, 2))


def _framed(images: np.ndarray, max_shift: int, side: int = 28) -> np.ndarray:
    """Images `(n, side*side)` -> `(n, side + 2 s, side + 2 s)`, each inside a frame of background
    `s = max_shift` pixels wide, so that every move by up to s pixels is a plain window of it."""
    frame = np.zeros((len(images), side + 2 * max_shift, side + 2 * max_shift), images.dtype)
    frame[:, max_shift:max_shift + side, max_shift:max_shift + side] = images.reshape(len(images), side, side)
    return frame


def _move_into(out: np.ndarray, frame: np.ndarray, chosen: np.ndarray, shifts: np.ndarray, max_shift: int) -> None:
    """out[i] = image chosen[i] moved by shifts[i] = (dy, dx), read from `frame` (see `_framed`).

    Moving an image down by dy shows the window whose top row is dy rows above its own; the frame
    supplies the background that comes in. One numpy copy per distinct move, not per image.
    out `(n, side*side)`, chosen `(n,)` indices into frame, shifts `(n, 2)` as from `_draw_shifts`.
    """
    side = frame.shape[1] - 2 * max_shift
    grid = out.reshape(len(out), side, side)
    for dy in range(-max_shift, max_shift + 1):
        for dx in range(-max_shift, max_shift + 1):
            rows = np.flatnonzero((shifts[:, 0] == dy) & (shifts[:, 1] == dx))
            top, left = max_shift - dy, max_shift - dx
            grid[rows] = frame[chosen[rows], top:top + side, left:left + side]


def shift_images(images: np.ndarray, rng: np.random.Generator, max_shift: int, side: int = 28) -> None:
    """Move each image `(n, 784)` in place by a random (dy, dx) in [-max_shift, max_shift], filling
    with background. A digit moved by a pixel is still the same digit: this teaches the network
    that, and keeps it from memorising exact pixel positions. (`train` does the same while it
    shuffles, from a frame it makes once: see `_move_into`.)"""
    shifts = _draw_shifts(rng, len(images), max_shift)
    _move_into(images, _framed(images, max_shift, side), np.arange(len(images)), shifts, max_shift)


class Shuffler:
    """The training set in a new random order each epoch, each image moved by up to `max_shift`
    pixels (see shift_images), in contiguous arrays that the mini-batches are views of. Each image
    row there is followed by a 1, the input the biases multiply (fast_backprop's bias trick):
    `arrays[k]` is (images `(n, 785)`, targets `(n, 10)`, labels `(n,)`).

    Copying 50,000 images is memory-bound work that would stall training for a tenth of an epoch
    or more, so the next epoch's copy is made on a second thread (numpy lets go of the GIL while it
    copies) into a second set of arrays, while `train` works through this epoch's. The random
    draws are made in the same order as drawing them at the start of every epoch would make them.
    """

    def __init__(self, images: np.ndarray, targets: np.ndarray, labels: np.ndarray,
                 rng: np.random.Generator, max_shift: int, distortion=None):
        self.sources, self.rng, self.max_shift = (images, targets, labels), rng, max_shift
        self.distortion = distortion  # an augment.Distortion: each epoch's images freshly distorted too
        self.frame = None       # the images framed for shifting (see _framed), made by the thread at first use
        self.arrays = [(np.ones((len(images), images.shape[1] + 1), images.dtype), np.empty_like(targets),
                        np.empty_like(labels)) for _ in range(2)]
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="digitnet-shuffle")
        self.prepared = 0       # epochs drawn and handed to the thread so far
        self.pending = None     # the thread's work on the latest of them

    def _prepare_next(self):
        order = self.rng.permutation(len(self.sources[0]))
        shifts = _draw_shifts(self.rng, len(order), self.max_shift) if self.max_shift else None
        # The thread draws the distortions from a generator of its own, seeded here: the same order of draws.
        distortions = np.random.default_rng(self.rng.integers(2**63)) if self.distortion is not None else None
        self.pending = self.executor.submit(self._copy, self.arrays[self.prepared % 2], order, shifts, distortions)
        self.prepared += 1

    def _copy(self, arrays, order, shifts, distortions=None):
        images, targets, labels = arrays[0][:, :-1], arrays[1], arrays[2]  # the column of 1s stays
        if shifts is not None:
            if self.frame is None:
                self.frame = _framed(self.sources[0], self.max_shift)
            _move_into(images, self.frame, order, shifts, self.max_shift)
        else:
            # take writes straight into a contiguous `out` with mode="clip" (order is a valid permutation
            # anyway) but buffers a strided one like these rows, each followed by its 1: so a block of
            # rows at a time through a small contiguous buffer, which is faster than either.
            block = np.empty((1024, images.shape[1]), images.dtype)
            for start in range(0, len(order), len(block)):
                chosen = order[start:start + len(block)]
                images[start:start + len(chosen)] = np.take(self.sources[0], chosen, axis=0,
                                                            out=block[:len(chosen)], mode="clip")
        if distortions is not None:
            from .augment import distort
            for start in range(0, len(order), 4096):  # in blocks: distort's temporaries stay small
                images[start:start + 4096] = distort(images[start:start + 4096], distortions, self.distortion)
        np.take(self.sources[1], order, axis=0, out=targets, mode="clip")
        np.take(self.sources[2], order, out=labels, mode="clip")

    def next_epoch(self, another: bool) -> int:
        """Wait for this epoch's arrays and, if `another` epoch follows, start on its copy.
        Returns which set of `arrays` (0 or 1) holds this epoch's images, targets and labels."""
        if self.prepared == 0:
            self._prepare_next()
        self.pending.result()
        current = (self.prepared - 1) % 2
        if another:
            self._prepare_next()
        return current

    def close(self):
        self.executor.shutdown(wait=True, cancel_futures=True)
