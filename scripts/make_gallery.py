#!/usr/bin/env python3
"""Draw the README's gallery from the shipped model into docs/gallery/, then print the markdown to paste.

    python scripts/make_gallery.py                  # all pictures, with a 3-epoch structure comparison
    python scripts/make_gallery.py --compare-epochs 0   # skip the comparison (the slow part, ~15 s)

Progress goes to stderr, the markdown to stdout.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

from digitnet import default_model_path, load_dataset, load_model
from digitnet import plots
from digitnet.compare import DEFAULT_SETTINGS, compare, comparison_table
from digitnet.evaluation import evaluate

REPO = Path(__file__).resolve().parent.parent

CAPTIONS = {
    "weights": "What each of the 16 first-layer neurons looks for: its 784 weights drawn as a 28x28 "
               "picture (green positive, red negative).",
    "activations": "One image's cascade: the pixels light up the first hidden layer, which lights up the "
                   "second, which lights up the answer.",
    "training": "Learning: the cost falls and the accuracy on held-out images climbs, epoch by epoch.",
    "confusion": "Which digits it confuses with which, on the 10,000 test images it never trained on.",
    "mistakes": "Its most confident mistakes: some are fair, some show what 784 pixels and 16 neurons miss.",
    "explain": "Why that answer: which inked pixels pushed the output up (green) or down (red).",
    "dream": "What the network wants to see: pixels climbed by gradient ascent until each output is sure. "
             "Not digits.",
    "noise": "Random noise still gets a digit for an answer: the network has no way to say \"not a digit\".",
    "compare": "Is 16-16 the right structure? Same data, same seed, same training; more neurons buy accuracy.",
}


def pick_example(network, images, labels) -> int:
    """The first test image answered right but with a real runner-up (10-60% of the outputs beside it)."""
    probabilities = network.predict_probabilities(images)
    ranked = np.sort(probabilities, axis=1)
    right = probabilities.argmax(axis=1) == labels
    interesting = np.flatnonzero(right & (ranked[:, -2] > 0.1) & (ranked[:, -2] < 0.6))
    return int(interesting[0]) if len(interesting) else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "gallery", help="folder for the pictures")
    parser.add_argument("--compare-epochs", type=int, default=3, help="epochs per structure; 0 skips it")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes for the comparison")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    model = load_model(default_model_path())
    network = model.network
    dataset = load_dataset()
    images, labels = dataset.test_images, dataset.test_labels
    print(f"model: {model.path} ({network.describe()})", file=sys.stderr)
    example = images[pick_example(network, images, labels)]  # one image for the cascade and the why

    drawings = {
        "weights": lambda path: plots.plot_weights(network, path),
        "activations": lambda path: plots.plot_activations(network, example, path),
        "training": lambda path: plots.plot_training(model.metadata.get("history") or [], path),
        "confusion": lambda path: plots.plot_confusion(evaluate(network, images, labels), path),
        "mistakes": lambda path: plots.plot_mistakes(network, images, labels, path),
        "explain": lambda path: plots.plot_explain(network, example, path),
        "dream": lambda path: plots.plot_dream(network, path),
        "noise": lambda path: plots.plot_noise(network, path),
    }
    if args.compare_epochs > 0:
        def draw_comparison(path):
            settings = dataclasses.replace(DEFAULT_SETTINGS, epochs=args.compare_epochs)
            rows = compare(settings=settings, dataset=dataset, n_jobs=args.jobs,
                           on_done=lambda row: print(f"  trained {row.name}", file=sys.stderr))
            print(comparison_table(rows), file=sys.stderr)
            return plots.plot_comparison(rows, path)
        drawings["compare"] = draw_comparison

    written = []
    for name, draw in drawings.items():
        started = time.perf_counter()
        path = draw(args.out / f"{name}.png")
        print(f"wrote {path} ({time.perf_counter() - started:.1f} s)", file=sys.stderr)
        written.append(name)

    try:
        folder = args.out.resolve().relative_to(REPO).as_posix()
    except ValueError:
        folder = args.out.as_posix()
    print("## Gallery\n")
    print(f"Drawn from the shipped model, {network.describe()}, by `python scripts/make_gallery.py`.\n")
    for name in written:
        print(f"![{name}]({folder}/{name}.png)\n")
        print(f"{CAPTIONS[name]}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
