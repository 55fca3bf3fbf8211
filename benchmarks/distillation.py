"""Distillation (Hinton, Vinyals and Dean 2015) for the video's 784-16-16-10: does learning from the
strong model's softened outputs beat learning from the labels?

The teacher is the shipped 784-800-10 (`--model strong`, 99.27%). Each training image's target is
(1 - alpha) * its one-hot label + alpha * softmax(z_teacher / T), computed once (the one-pixel shifts
of training do not change the digit, so its target stays); the student trains with digitnet train's
defaults otherwise (`train(..., targets=...)`). Test accuracy, mean and spread over the seeds.

    python benchmarks/distillation.py                       # ~4 minutes on 2 cores
    python benchmarks/distillation.py --epochs 100 --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # run from a checkout without installing

from digitnet.costs import one_hot  # noqa: E402
from digitnet.data import load_dataset  # noqa: E402
from digitnet.modelfile import load_model, shipped_models  # noqa: E402
from digitnet.network import Network, softmax  # noqa: E402
from digitnet.training import TrainingSettings, train  # noqa: E402

CHOICES = [(None, 0.0), (1.0, 0.5), (2.0, 0.3), (2.0, 0.5), (4.0, 0.7)]  # (temperature, alpha); None: labels only


def teacher_logits(images: np.ndarray) -> np.ndarray:
    """The strong model's last-layer z for each image `(n, 10)`, float64, 2,048 rows at a time."""
    teacher = load_model(shipped_models()["strong"]).network
    return np.concatenate([teacher.trace(images[start:start + 2048]).weighted_sums[-1].astype(np.float64)
                           for start in range(0, len(images), 2048)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--activation", default="sigmoid", choices=["sigmoid", "relu"])
    args = parser.parse_args()
    mnist = load_dataset()
    logits = teacher_logits(mnist.train_images)
    print(f"teacher: {np.mean(logits.argmax(axis=1) == mnist.train_labels):.2%} on the training images")
    print(f"\n784-16-16-10 {args.activation}, {args.epochs} epochs, seeds {args.seeds}\n")
    print("| targets | test accuracy (mean ± half the range) |\n| --- | --- |")
    labels = one_hot(mnist.train_labels, dtype=np.float64)
    for temperature, alpha in CHOICES:
        targets = labels if temperature is None else (1 - alpha) * labels + alpha * softmax(logits / temperature)
        accuracies = []
        for seed in args.seeds:
            network = Network((784, 16, 16, 10), args.activation, "softmax", seed=seed)
            settings = TrainingSettings(epochs=args.epochs, seed=seed,
                                        learning_rate=0.005 if args.activation == "sigmoid" else 0.003)
            train(network, mnist, settings, targets=targets)
            accuracies.append(network.accuracy(mnist.test_images, mnist.test_labels))
        name = "labels (digitnet train)" if temperature is None else f"T = {temperature:g}, alpha = {alpha:g}"
        spread = (max(accuracies) - min(accuracies)) / 2
        print(f"| {name} | {np.mean(accuracies):.2%} ± {spread:.2%} ({', '.join(f'{a:.2%}' for a in accuracies)}) |",
              flush=True)


if __name__ == "__main__":
    main()
