"""Where one training step's time goes: the compiled steps `train` runs where Numba is, the NumPy
fast path's backprop and the optimizer, and the first layer's two large matrix products on their own
(issues #5 and #16: measure before and after each change).

    python benchmarks/step_profile.py               # the video's network, batch 32, Adam
    python benchmarks/step_profile.py --layers 100  # another structure

Every figure is the median over `--repeats` passes through one epoch of MNIST's 50,000 training
images, on one BLAS thread, as `train` runs them. The two products alone read each mini-batch from
memory, as the step's first product does; inside a step the second finds it in the cache. This
script is never run by the test suite.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # run from a checkout without installing

from digitnet import compiled_steps  # noqa: E402
from digitnet.costs import one_hot  # noqa: E402
from digitnet.data import load_dataset  # noqa: E402
from digitnet.fast_backprop import Workspace, with_ones_column  # noqa: E402
from digitnet.network import Network  # noqa: E402
from digitnet.optimizers import make_optimizer  # noqa: E402


def microseconds_per_call(calls, repeats: int) -> float:
    """Median over `repeats` passes of the seconds per call of `calls` (a list of functions), in µs."""
    passes = []
    for _ in range(repeats):
        started = time.perf_counter()
        for call in calls:
            call()
        passes.append((time.perf_counter() - started) / len(calls))
    return statistics.median(passes) * 1e6


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--layers", type=int, nargs="*", default=[16, 16], help="hidden layer sizes (default: 16 16)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--optimizer", default="adam", choices=["adam", "momentum", "sgd"])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)

    data = load_dataset()
    network = Network((784, *args.layers, 10), "sigmoid", "softmax", seed=0)
    size, n = args.batch_size, len(data.train_images) // args.batch_size * args.batch_size
    images, targets = with_ones_column(data.train_images[:n]), one_hot(data.train_labels[:n])
    weighted_sums, outputs = np.empty_like(targets), np.empty_like(targets)
    row_max, row_sum = np.empty((n, 1), np.float32), np.empty((n, 1), np.float32)
    workspace = Workspace(network, "cross_entropy")
    batches = [slice(start, start + size) for start in range(0, n, size)]
    backprop_steps = [workspace.step_function(images[b], targets[b], weighted_sums[b], outputs[b], row_max[b],
                                              row_sum[b]) for b in batches]
    optimizer = make_optimizer(args.optimizer, [workspace.parameters], 0.005, 0.9)
    optimizer_step = optimizer.step_function([workspace.gradient])

    def both(step):
        return lambda: (step(), optimizer_step())

    first_weights, first_gradient = workspace.weights_and_biases[0], workspace.gradients[0]
    first_delta = np.random.default_rng(0).standard_normal((first_weights.shape[0], size)).astype(np.float32)
    first_activations = np.empty((first_weights.shape[0], size), np.float32)
    forward = [lambda b=b: np.dot(first_weights, images[b].T, out=first_activations) for b in batches]
    gradient = [lambda b=b: np.dot(first_delta, images[b], out=first_gradient) for b in batches]

    # the compiled steps as train runs them: the whole epoch as one buffer, 50 steps per call
    compiled_workspace = Workspace(network, "cross_entropy")
    compiled_optimizer = make_optimizer(args.optimizer, [compiled_workspace.parameters], 0.005, 0.9)
    run = compiled_steps.runner(compiled_workspace, compiled_optimizer, 0.0, size, [images, images], n, targets,
                                np.empty_like(targets), np.empty_like(targets), np.empty((n, 1), np.float32),
                                np.empty((n, 1), np.float32))
    runs = [lambda first=first: run(0, first, min(50, len(batches) - first)) for first in range(0, len(batches), 50)]

    with threadpool_limits(limits=1, user_api="blas"), np.errstate(over="ignore", invalid="ignore"):
        microseconds_per_call(backprop_steps, 1)  # warm up: caches, the optimizer's first steps
        compiled = []
        if run is not None:
            microseconds_per_call(runs, 1)
            compiled = [("compiled steps (compiled_steps.py, what train runs): one step, backprop + optimizer",
                         microseconds_per_call(runs, args.repeats) * len(runs) / len(batches))]
        rows = compiled + [("NumPy fast path's step: backprop + optimizer (the optimizer compiled unless DIGITNET_COMPILED=0)", microseconds_per_call([both(s) for s in backprop_steps],
                                                                                  args.repeats)),
                ("  backprop alone (fast path)", microseconds_per_call(backprop_steps, args.repeats)),
                (f"  {args.optimizer} alone, over {workspace.parameters.size:,} weights and biases",
                 microseconds_per_call([optimizer_step] * len(batches), args.repeats)),
                (f"  first layer's product z = [W | b] [x; 1]^T alone ({'x'.join(map(str, first_weights.shape))} by "
                 f"{first_weights.shape[1]}x{size})",
                 microseconds_per_call(forward, args.repeats)),
                (f"  first layer's gradient product delta^T [x, 1] alone ({first_weights.shape[0]}x{size} by "
                 f"{size}x{first_weights.shape[1]})",
                 microseconds_per_call(gradient, args.repeats))]
    command = " ".join(["python benchmarks/step_profile.py", *(argv if argv is not None else sys.argv[1:])])
    print(f"`{command}`")
    print(f"\n{network.describe()}, batch {size}, {len(batches):,} steps per epoch, 1 BLAS thread\n")
    print("| part | µs per step |\n|---|---:|")
    for label, microseconds in rows:
        print(f"| {label} | {microseconds:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
