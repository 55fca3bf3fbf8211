"""What each technique adds to the video's 784-16-16-10 network: test accuracy over 3 seeds.

    python benchmarks/record_table.py [--epochs 10] [--train-images 50000] [--seeds 0 1 2] [--jobs 2] [--rows 6 7]

Each row trains the same 13,002 weights and biases with one more technique than the row above
(sigmoid and ReLU side by side), for --epochs epochs with each seed, and prints a Markdown table of
test accuracy: mean and spread (half the range) over the seeds. The test set is only used for
these figures; each run keeps its best validation epoch. Short runs (the default 10 epochs) rank
the techniques; the record recipes themselves run longer (see recipes.py and the README).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace

import numpy as np
from joblib import Parallel, delayed

from digitnet.data import load_dataset
from digitnet.network import Network
from digitnet.recipes import SMALL_NETWORK_DISTORTION
from digitnet.training import TrainingSettings, seen_by, train

BASE = TrainingSettings()  # digitnet train's defaults: Adam, cosine, weight decay 1e-4, 1-pixel shifts
ROWS = [  # (name, activation, settings change)
    ("video defaults (sigmoid)", "sigmoid", {}),
    ("ReLU instead of sigmoid", "relu", {}),
    ("sigmoid + distortions (affine + elastic)", "sigmoid", dict(distortion=SMALL_NETWORK_DISTORTION, shift_pixels=0, weight_decay=0.0)),
    ("ReLU + distortions (affine + elastic)", "relu", dict(distortion=SMALL_NETWORK_DISTORTION, shift_pixels=0, weight_decay=0.0, learning_rate=0.003)),
    ("ReLU + distortions + label smoothing 0.1", "relu", dict(distortion=SMALL_NETWORK_DISTORTION, shift_pixels=0, weight_decay=0.0, learning_rate=0.003, label_smoothing=0.1)),
    # Deskewing (deskew.py): the slant taken out of every digit, in training and after
    ("sigmoid, deskewed digits", "sigmoid", dict(deskew=True)),
    ("sigmoid, deskewed digits, no shifts", "sigmoid", dict(deskew=True, shift_pixels=0)),
    ("ReLU, deskewed digits", "relu", dict(deskew=True)),
    ("ReLU, deskewed digits, no shifts", "relu", dict(deskew=True, shift_pixels=0)),
    ("the record: sigmoid, deskewed, no shifts, 100 epochs", "sigmoid", dict(deskew=True, shift_pixels=0, epochs=100)),
    ("ReLU, deskewed, 100 epochs", "relu", dict(deskew=True, epochs=100)),
]


def run(activation: str, change: dict, epochs: int, seed: int, train_images: int) -> tuple[float, float]:
    dataset = load_dataset()
    dataset = dataset.subset(train=train_images)
    settings = replace(BASE, **{"epochs": epochs, "seed": seed, **change})  # a row may set its own epochs
    network = Network((784, 16, 16, 10), activation, "softmax", seed=seed)
    started = time.perf_counter()
    train(network, dataset, settings)
    seen = seen_by(dataset, settings)  # deskewed test digits for a deskewed network
    return network.accuracy(seen.test_images, seen.test_labels), time.perf_counter() - started


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--rows", type=int, nargs="+", help="only these rows (1 = the first); default: all")
    parser.add_argument("--train-images", type=int, default=50_000, help="learn from the first N training images only (short runs)")
    args = parser.parse_args(argv)
    rows = [row - 1 for row in args.rows] if args.rows else range(len(ROWS))
    tasks = [(row, seed) for row in rows for seed in args.seeds]
    results = Parallel(n_jobs=args.jobs)(delayed(run)(ROWS[row][1], ROWS[row][2], args.epochs, seed, args.train_images) for row, seed in tasks)
    print(f"784-16-16-10, {args.epochs} epochs on {args.train_images:,} training images, seeds {args.seeds}; "
          "test accuracy, mean ± half the range")
    print()
    print("| technique | test accuracy | seconds per run |")
    print("|---|---|---|")
    for row in rows:
        name = ROWS[row][0]
        accuracies = np.array([results[i][0] for i, (r, _) in enumerate(tasks) if r == row])
        seconds = np.mean([results[i][1] for i, (r, _) in enumerate(tasks) if r == row])
        spread = (accuracies.max() - accuracies.min()) / 2
        print(f"| {name} | {accuracies.mean():.2%} ± {spread:.2%} | {seconds:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
