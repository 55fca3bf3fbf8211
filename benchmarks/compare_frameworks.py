"""The video's network trained side by side by digitnet, PyTorch, JAX, scikit-learn and Nielsen's loop
(issues #5 and #16), per epoch and as whole processes the way a user meets them.

Every trainer gets the same job: 784-16-16-10, sigmoid hidden layers, softmax output with
cross-entropy, Adam (same learning rate, constant schedule, no weight decay, no image shifting),
mini-batches of 32, float32, over MNIST's 50,000 training images. Each run is its own process (so
one trainer's threads and memory cannot slow another), the runs are interleaved (digitnet, torch,
jax, ..., digitnet, ...) so that a busy moment of a shared machine hurts all of them alike, and
every figure is the median of the repeats.

    pip install -e '.[bench]'           # torch (CPU), jax + optax, scikit-learn; never needed to use digitnet
    python benchmarks/compare_frameworks.py            # ~15 minutes on 2 idle cores
    python benchmarks/compare_frameworks.py --quick    # a rough look in ~3 minutes

It prints markdown tables: the targets of issue #16 (met or not), whole processes (`digitnet train`,
`digitnet evaluate`, loading MNIST, the PyTorch and JAX scripts in benchmarks/frameworks/: wall
clock, CPU, max RSS), the marginal epoch from runs of two lengths, training speed and accuracy
per epoch, inference, digitnet's defaults to 96% test accuracy, and larger networks against
PyTorch. This script is never run by the test suite.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
THREADS = 2
# Before numpy or torch is imported: every BLAS and OpenMP pool gets the same 2 threads (the
# whole-process runs inherit these too).
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, str(THREADS))

sys.path.insert(0, str(HERE.parent / "src"))  # run from a checkout without installing
sys.path.insert(0, str(HERE))  # the `frameworks` package beside this file

from digitnet.data import shipped_data_dir  # noqa: E402

from frameworks.common import BATCH_SIZE, LEARNING_RATE, VIDEO_NETWORK, machine_description  # noqa: E402
from frameworks.processes import WholeProcessRuns  # noqa: E402
from frameworks.report import print_in_process, print_targets, print_whole_process  # noqa: E402

BIGGER = ((784, 100, 10), (784, 300, 100, 10))


def run_whole_processes(args, runs: WholeProcessRuns, repeat: int):
    """One repeat of every whole-process run, interleaved across frameworks."""
    runs.interpreter_and_import()
    for epochs in sorted({3, *args.marginal_epochs}):  # 3: the whole-process figure
        if epochs == 3:
            runs.digitnet_train(3, like_the_others=False)
        runs.digitnet_train(epochs, like_the_others=True)
        runs.script("torch", epochs)
        if epochs == 3 and not args.quick:
            runs.script("torch", epochs, threads=None)  # as a user runs it: torch's own thread count
        if not args.no_jax:
            runs.script("jax", epochs)
    runs.evaluate()
    cache_home = tempfile.mkdtemp(prefix="digitnet-cache-")  # an empty user cache: the first use ever
    try:
        runs.load_probe(cache_home, "load-first-use")
        runs.load_probe(cache_home, "load-after-first-use")
    finally:
        shutil.rmtree(cache_home, ignore_errors=True)
    if not args.quick:
        runs.digitnet_train(None, like_the_others=False)  # `digitnet train`, no flags: its peak memory
    print(f"whole processes: repeat {repeat + 1}/{args.repeats} done, load average {os.getloadavg()[0]:.2f}",
          file=sys.stderr)


def run_in_process(args, repeat: int, results: dict):
    """One repeat of every per-epoch job, each in its own process, interleaved."""
    from frameworks.in_process import INFERENCE, run_job
    frameworks = ["digitnet", "digitnet-reference", "torch", "torch-1thread", "jax", "sklearn", "nielsen"]
    torches = ("torch", "torch-1thread")
    if args.quick:  # PyTorch on 1 thread only: on a busy machine its 2 threads crawl (frameworks/torch_mlp.py)
        frameworks.remove("torch")
        torches = ("torch-1thread",)
    if args.no_jax:
        frameworks.remove("jax")
    script = HERE / "compare_frameworks.py"
    def keep(runs, figures):
        if figures is not None:
            runs.append(figures)

    for name in frameworks:
        keep(results["runs"].setdefault(name, []), run_job(script, {
            "kind": "train", "framework": name, "layer_sizes": VIDEO_NETWORK, "epochs": args.epochs,
            "inference": name in INFERENCE, "nielsen_subset": args.nielsen_subset}))
    for sizes in BIGGER[-1:] if args.quick else BIGGER:
        for name in ("digitnet", *torches):
            keep(results["bigger"].setdefault((sizes, name), []), run_job(script, {
                "kind": "train", "framework": name, "layer_sizes": sizes, "epochs": max(2, args.epochs // 2)}))
    if not args.quick:
        keep(results["all_60000"], run_job(script, {
            "kind": "train", "framework": "digitnet-60000", "layer_sizes": VIDEO_NETWORK, "epochs": args.epochs}))
    keep(results["defaults"], run_job(script, {"kind": "defaults", "layer_sizes": VIDEO_NETWORK}))
    print(f"per epoch: repeat {repeat + 1}/{args.repeats} done, load average {os.getloadavg()[0]:.2f}", file=sys.stderr)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3, help="runs of each trainer (the median is shown)")
    parser.add_argument("--epochs", type=int, default=5, help="epochs per in-process training run")
    parser.add_argument("--marginal-epochs", type=int, nargs=2, default=[4, 12], metavar=("SHORT", "LONG"),
                        help="the two whole-process run lengths whose difference gives the marginal epoch")
    parser.add_argument("--nielsen-subset", type=int, default=5000,
                        help="images per epoch actually run through Nielsen's loop (its time is scaled to 50,000)")
    parser.add_argument("--only", choices=("whole-process", "per-epoch"), help="run one half of the benchmark")
    parser.add_argument("--no-jax", action="store_true", help="leave JAX out (it is an optional extra)")
    parser.add_argument("--quick", action="store_true",
                        help="a rough look: 1 repeat, 2 epochs per epoch-timing run, marginal epoch from 3 and 7, "
                             "PyTorch on 1 thread only, fewer side runs")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        import json
        from frameworks.in_process import worker
        print(json.dumps(worker(json.loads(args.worker))))
        return 0
    if args.quick:
        args.repeats, args.epochs, args.marginal_epochs = 1, 2, [3, 7]  # 3: the runs made anyway
    if not args.no_jax and importlib.util.find_spec("jax") is None:
        print("JAX is not installed (pip install -e '.[bench]'): its runs are left out", file=sys.stderr)
        args.no_jax = True

    print("# digitnet vs PyTorch vs JAX vs scikit-learn vs Nielsen's loop\n")
    command = ["python", "benchmarks/compare_frameworks.py", *(argv if argv is not None else sys.argv[1:])]
    print(f"`{' '.join(command)}`\n")
    print("\n".join(machine_description()))
    print(f"- job: {'-'.join(map(str, VIDEO_NETWORK))}, sigmoid hidden, softmax + cross-entropy, Adam "
          f"(learning rate {LEARNING_RATE}), batch {BATCH_SIZE}, float32, over 50,000 images; "
          f"{args.repeats} interleaved repeats, each run in its own process; medians\n")

    whole = WholeProcessRuns(HERE.parent / "src", shipped_data_dir()) if args.only != "per-epoch" else None
    per_epoch = {"runs": {}, "bigger": {}, "all_60000": [], "defaults": []} if args.only != "whole-process" else None
    try:
        for repeat in range(args.repeats):
            if whole is not None:
                run_whole_processes(args, whole, repeat)
            if per_epoch is not None:
                run_in_process(args, repeat, per_epoch)
    finally:
        if whole is not None:
            whole.close()

    print_targets(args, whole.runs if whole else None, per_epoch)
    if whole is not None:
        print_whole_process(args, whole.runs)
    if per_epoch is not None:
        print_in_process(args, per_epoch, BIGGER)
    print(f"\nLoad average when the run ended: {os.getloadavg()[0]:.2f}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
