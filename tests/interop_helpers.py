"""Helpers shared by the interop tests: the CLI as a subprocess, the one-line-refusal check, a small
MNIST subset."""

import os
import subprocess
import sys

import numpy as np

from digitnet.data import load_dataset


def run_cli(*args, cwd=None, prelude: str = ""):
    """`digitnet ARGS` in a subprocess; `prelude` is Python run first (e.g. to hide a package)."""
    code = f"{prelude}\nimport sys\nfrom digitnet.cli import main\nsys.exit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=300, env={**os.environ, "PYTHONWARNINGS": "ignore"})


def assert_refused_in_one_line(result, *words):
    """A failed command that said so in one line holding every one of `words`, without a traceback."""
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    for word in words:
        assert str(word) in lines[0], (word, lines[0])
    return lines[0]


_MNIST = []


def mnist():
    """The shipped MNIST, loaded once per test process."""
    if not _MNIST:
        _MNIST.append(load_dataset())
    return _MNIST[0]


def small_training_set(n=3000, seed=0):
    """`n` training images `(n, 784)` float32 and labels `(n,)`, a seeded random subset."""
    data = mnist()
    rows = np.random.default_rng(seed).choice(len(data.train_images), n, replace=False)
    return data.train_images[rows], data.train_labels[rows].astype(np.int64)
