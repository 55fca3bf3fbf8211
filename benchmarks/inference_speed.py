"""Batch inference, digitnet against PyTorch, interleaved: the 10,000 test images through the video's
network (784-16-16-10, sigmoid hidden, softmax), as `compare_frameworks.py` measures it, but alone and
quick (~1 minute), for a change in `fast_inference.py`. Last run (2-core Xeon, OpenBLAS SkylakeX):
digitnet 1.88 ms, PyTorch 2.23 ms, 1.19x.

    python benchmarks/inference_speed.py            # needs torch (pip install -e '.[bench]')

Each round times digitnet's `predict_probabilities` and PyTorch's softmax of the model under
`inference_mode` (2 threads, its faster setting here) with timeit, best of 9 x 50 calls; the medians
over the rounds are printed. Never run by the test suite.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import timeit
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # run from a checkout without installing

from digitnet.data import load_dataset  # noqa: E402
from digitnet.network import Network  # noqa: E402


def milliseconds(call) -> float:
    return min(timeit.repeat(call, number=50, repeat=9)) / 50 * 1e3


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args(argv)
    import torch

    images = np.ascontiguousarray(load_dataset().test_images, np.float32)
    network = Network(seed=0, output="softmax")
    torch.set_num_threads(2)
    model = torch.nn.Sequential(torch.nn.Linear(784, 16), torch.nn.Sigmoid(), torch.nn.Linear(16, 16),
                                torch.nn.Sigmoid(), torch.nn.Linear(16, 10))
    tensor = torch.from_numpy(images)

    def pytorch():
        with torch.inference_mode():
            return torch.softmax(model(tensor), dim=1).numpy()

    ours, theirs = [], []
    for _ in range(args.rounds):
        ours.append(milliseconds(lambda: network.predict_probabilities(images)))
        theirs.append(milliseconds(pytorch))
    mine, other = statistics.median(ours), statistics.median(theirs)
    print(f"`python benchmarks/inference_speed.py` ({args.rounds} rounds; load average {os.getloadavg()[0]:.2f})\n")
    print("| 10,000 test images | ms (median) | images/s |\n|---|---:|---:|")
    print(f"| digitnet `predict_probabilities` | {mine:.3f} | {len(images) / mine * 1e3:,.0f} |")
    print(f"| PyTorch, 2 threads | {other:.3f} | {len(images) / other * 1e3:,.0f} |")
    print(f"\ndigitnet / PyTorch images/s: {other / mine:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
