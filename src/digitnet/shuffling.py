"""Each epoch's training images: in a new random order, each moved by up to a few pixels.

A digit moved by a pixel is still the same digit; showing the network its examples slightly moved
every epoch teaches it that, instead of exact pixel positions (`TrainingSettings.shift_pixels`).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .interruptible import result_of


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
    that, and keeps it from memorising exact pixel positions. (`train` does the same to each chunk
    of an epoch as the Shuffler makes it: see `_move_into`.)"""
    shifts = _draw_shifts(rng, len(images), max_shift)
    _move_into(images, _framed(images, max_shift, side), np.arange(len(images)), shifts, max_shift)


BLOCK_ROWS = 4096  # distortions are drawn for this many images at a time (see Shuffler)


class Shuffler:
    """Each epoch's training set in a new random order, each image moved by up to `max_shift`
    pixels (see shift_images) and, with a `distortion`, freshly distorted (augment.py).

    The images stay uint8 `(n, 784)` as the data set holds them; an epoch's network inputs are made
    a chunk at a time, `chunk_rows` rows of float inputs each followed by a 1 (fast_backprop's bias
    trick), into one of two buffers: while `train` works through one chunk, a second thread fills
    the other with the next (numpy lets go of the GIL while it copies and converts). So the float
    copy of an epoch never exists whole (it was 157 MB for MNIST, twice, plus a framed copy).
    Per epoch, `targets` `(n, 10)` and `labels` `(n,)` hold the targets and labels in its order.

    The random draws are made as they always were, per epoch: the order, then each image's move,
    then the seed of the epoch's distortions, which are drawn BLOCK_ROWS images at a time in the
    epoch's order: the same images whatever the chunk size.
    """

    def __init__(self, pixels: np.ndarray, targets: np.ndarray, labels: np.ndarray, rng: np.random.Generator,
                 max_shift: int, distortion=None, dtype=np.float32, chunk_rows: int = 2048):
        self.pixels, self.sources, self.rng, self.max_shift = pixels, (targets, labels), rng, max_shift
        self.distortion, self.dtype = distortion, np.dtype(dtype)
        self.chunk_rows = min(chunk_rows, len(pixels))
        self.buffers = [np.ones((self.chunk_rows, pixels.shape[1] + 1), dtype) for _ in range(2)]
        self.targets, self.labels = np.empty_like(targets), np.empty_like(labels)
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="digitnet-shuffle")
        self.pending = None     # (chunk index, the thread's work on it)
        self.order = self.shifts = self.distortions = None
        self.block = (None, None)  # (block index, its distorted rows) for the distortions

    @property
    def chunks(self) -> int:
        return -(-len(self.pixels) // self.chunk_rows)

    def start_epoch(self) -> None:
        """Draw the next epoch's order, moves and distortions; put its targets and labels in order;
        start on its first chunk."""
        self._wait()
        self.order = self.rng.permutation(len(self.pixels))
        self.shifts = _draw_shifts(self.rng, len(self.order), self.max_shift) if self.max_shift else None
        # the distortions come from a generator of their own, seeded here: the same order of draws
        self.distortions = np.random.default_rng(self.rng.integers(2**63)) if self.distortion is not None else None
        self.block = (None, None)
        np.take(self.sources[0], self.order, axis=0, out=self.targets, mode="clip")
        np.take(self.sources[1], self.order, out=self.labels, mode="clip")
        self._submit(0)

    def chunk(self, index: int) -> np.ndarray:
        """Chunk `index` of this epoch: its rows `(chunk_rows, n_0 + 1)` (the last may use fewer),
        once filled; the next chunk is started into the other buffer."""
        assert self.pending is not None and self.pending[0] == index, "chunks are taken in order"
        self._wait()
        if index + 1 < self.chunks:
            self._submit(index + 1)
        return self.buffers[index % 2]

    def _submit(self, index: int) -> None:
        start = index * self.chunk_rows
        stop = min(start + self.chunk_rows, len(self.pixels))
        self.pending = (index, self.executor.submit(self._fill, self.buffers[index % 2][:stop - start], start, stop))

    def _wait(self) -> None:
        if self.pending is not None:
            result_of(self.pending[1])

    def _fill(self, out: np.ndarray, start: int, stop: int) -> None:
        """out[:, :-1] = the epoch's network inputs for rows start..stop (the column of 1s stays)."""
        if self.distortion is None:
            self._moved_inputs(out[:, :-1], start, stop)
            return
        row = start
        while row < stop:  # from the distorted blocks, made in order as the chunks reach them
            index = row // BLOCK_ROWS
            if self.block[0] != index:
                self.block = (index, self._distorted_block(index))
            take = min(stop, (index + 1) * BLOCK_ROWS) - row
            out[row - start:row - start + take, :-1] = self.block[1][row - index * BLOCK_ROWS:][:take]
            row += take

    def _distorted_block(self, index: int) -> np.ndarray:
        from .augment import distort

        start = index * BLOCK_ROWS
        stop = min(start + BLOCK_ROWS, len(self.pixels))
        inputs = np.empty((stop - start, self.pixels.shape[1]), self.dtype)
        self._moved_inputs(inputs, start, stop)
        return distort(inputs, self.distortions, self.distortion)

    def _moved_inputs(self, out: np.ndarray, start: int, stop: int) -> None:
        """out `(stop - start, n_0)` = float inputs of the epoch's images start..stop, moved."""
        chosen = np.take(self.pixels, self.order[start:stop], axis=0)  # uint8 (rows, 784)
        if self.shifts is not None:
            moved = np.empty_like(chosen)
            _move_into(moved, _framed(chosen, self.max_shift), np.arange(len(chosen)), self.shifts[start:stop],
                       self.max_shift)
            chosen = moved
        # as data.to_inputs: the float32 quotient, whatever the network's dtype
        np.divide(chosen, np.float32(255.0), out=out, dtype=np.float32, casting="unsafe")

    def close(self):
        self.executor.shutdown(wait=True, cancel_futures=True)
