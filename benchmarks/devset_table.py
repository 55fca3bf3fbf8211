"""The README's dev-set table: each shipped model's accuracy on tests/devset/, per digit and per pen.

    python benchmarks/devset_table.py
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from digitnet.modelfile import load_model, shipped_models
from digitnet.preprocess import to_network_input

DEVSET = Path(__file__).resolve().parent.parent / "tests" / "devset"
PENS = {"pad pen": "pad's pen", "fine pen": "fine pen", "marker": "marker"}


def main() -> None:
    with open(DEVSET / "labels.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    inputs = np.stack([to_network_input(DEVSET / row["file"]) for row in rows])
    labels = np.array([int(row["digit"]) for row in rows])
    print("| model | " + " | ".join(map(str, range(10))) + " | all | " + " | ".join(PENS) + " |")
    print("| --- " * (12 + len(PENS)) + "|")
    for name in ("video", "record", "strong"):
        model = load_model(shipped_models()[name])
        right = model.network.predict_digit(model.prepare(inputs)) == labels  # deskewed for the record
        digits = [f"{right[labels == d].mean():.0%}" for d in range(10)]
        pens = [f"{right[[key in row['pen'] for row in rows]].mean():.2%}" for key in PENS.values()]
        print(f"| {name} | " + " | ".join(digits) + f" | {right.mean():.2%} | " + " | ".join(pens) + " |")


if __name__ == "__main__":
    main()
