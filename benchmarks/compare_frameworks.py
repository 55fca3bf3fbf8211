"""The video's network trained side by side by digitnet, PyTorch, scikit-learn and Nielsen's loop (issue #5).

Every trainer gets the same job: 784-16-16-10, sigmoid hidden layers, softmax output with
cross-entropy, Adam (same learning rate, constant schedule, no weight decay, no image shifting),
mini-batches of 32, float32, the same number of epochs over MNIST's 50,000 training images, on 2
threads. Each run is its own process (so one trainer's threads and memory cannot slow another),
the runs are interleaved (digitnet, torch, sklearn, nielsen, digitnet, ...) so that a busy moment
of a shared machine hurts all of them alike, and every figure is the median of the repeats.

    pip install -e '.[bench]'           # torch (CPU) and scikit-learn; never needed to use digitnet
    python benchmarks/compare_frameworks.py            # ~5 minutes on 2 cores
    python benchmarks/compare_frameworks.py --quick    # a rough look in ~1 minute

It prints markdown tables: training speed and accuracy, inference speed, digitnet's defaults
(`digitnet train` with no flags) to 96% test accuracy, and larger networks against PyTorch.
This script is never run by the test suite.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

THREADS = 2
# Before numpy or torch is imported: every BLAS and OpenMP pool gets the same 2 threads.
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, str(THREADS))

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # run from a checkout without installing

from digitnet.data import load_dataset  # noqa: E402
from digitnet.network import Network  # noqa: E402
from digitnet.training import TrainingSettings, backprop, make_optimizer, one_hot, train  # noqa: E402

INFERENCE = ("digitnet", "torch", "sklearn", "nielsen")  # the runs that also time inference
LEARNING_RATE = 0.005  # digitnet's default, here constant for every trainer
BATCH_SIZE = 32
VIDEO_NETWORK = (784, 16, 16, 10)


# ---------------------------------------------------------------------------------------------
# The trainers. Each returns {"epoch_seconds": [...], "test_accuracy": float}; each starts from
# digitnet's initial weights for seed 0 except scikit-learn, which has no way to be given them.

def constant_settings(epochs):
    return TrainingSettings(epochs=epochs, batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE, schedule="constant",
                            optimizer="adam", weight_decay=0.0, shift_pixels=0)


def train_digitnet(data, layer_sizes, epochs):
    network = Network(layer_sizes, "sigmoid", "softmax", seed=0)
    result = train(network, data, constant_settings(epochs))  # each epoch's seconds include its validation pass
    return {"epoch_seconds": [record.seconds for record in result.history],
            "test_accuracy": network.accuracy(data.test_images, data.test_labels)}, network


def train_digitnet_all_60000(data, layer_sizes, epochs):
    """Timing only: `train` on all 60,000 MNIST training images per epoch (the issue counts an epoch so),
    its validation pass then over the 10,000 test images since none are held out."""
    everything = dataclasses.replace(
        data, train_images=np.concatenate([data.train_images, data.validation_images]),
        train_labels=np.concatenate([data.train_labels, data.validation_labels]),
        validation_images=data.test_images, validation_labels=data.test_labels)
    return train_digitnet(everything, layer_sizes, epochs)


def train_digitnet_reference(data, layer_sizes, epochs):
    """digitnet's math as written, no fast path: `backprop` on each mini-batch and an optimizer over the
    list of weight and bias arrays (the loop `train` ran before issue #5, without its validation pass
    and per-batch bookkeeping, so a little faster than it was)."""
    network = Network(layer_sizes, "sigmoid", "softmax", seed=0)
    settings = constant_settings(epochs)
    rng = np.random.default_rng(settings.seed)
    targets = one_hot(data.train_labels)
    optimizer = make_optimizer("adam", network.weights + network.biases, settings.learning_rate, 0.9)
    n, epoch_seconds = len(data.train_images), []
    for _ in range(epochs):
        started = time.perf_counter()
        order = rng.permutation(n)
        images, shuffled_targets = data.train_images[order], targets[order]
        for start in range(0, n, BATCH_SIZE):
            grad_weights, grad_biases, _, _ = backprop(network, images[start:start + BATCH_SIZE],
                                                       shuffled_targets[start:start + BATCH_SIZE])
            optimizer.step(grad_weights + grad_biases)
        epoch_seconds.append(time.perf_counter() - started)
    accuracy = network.accuracy(data.test_images, data.test_labels)
    return {"epoch_seconds": epoch_seconds, "test_accuracy": accuracy}, network


def torch_model(layer_sizes):
    import torch
    start = Network(layer_sizes, "sigmoid", "softmax", seed=0)
    layers = []
    for l, (w, b) in enumerate(zip(start.weights, start.biases)):
        linear = torch.nn.Linear(w.shape[1], w.shape[0])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w))
            linear.bias.copy_(torch.from_numpy(b))
        layers.append(linear)
        if l < len(start.weights) - 1:
            layers.append(torch.nn.Sigmoid())
    return torch.nn.Sequential(*layers)  # logits; softmax + cross-entropy live in the loss


def train_torch(data, layer_sizes, epochs, threads=THREADS):
    import torch
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = torch_model(layer_sizes)
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    images, labels = torch.from_numpy(data.train_images), torch.from_numpy(data.train_labels.astype(np.int64))
    n, epoch_seconds = len(images), []
    for _ in range(epochs):
        started = time.perf_counter()
        order = torch.randperm(n)
        shuffled_images, shuffled_labels = images[order], labels[order]  # contiguous, once per epoch
        for start in range(0, n, BATCH_SIZE):
            optimizer.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(model(shuffled_images[start:start + BATCH_SIZE]),
                                                     shuffled_labels[start:start + BATCH_SIZE])
            loss.backward()
            optimizer.step()
        epoch_seconds.append(time.perf_counter() - started)
    with torch.inference_mode():
        guesses = model(torch.from_numpy(data.test_images)).argmax(dim=1).numpy()
    return {"epoch_seconds": epoch_seconds, "test_accuracy": float((guesses == data.test_labels).mean())}, model


def train_sklearn(data, layer_sizes, epochs):
    from sklearn.neural_network import MLPClassifier
    model = MLPClassifier(hidden_layer_sizes=layer_sizes[1:-1], activation="logistic", solver="adam",
                          alpha=0.0, batch_size=BATCH_SIZE, learning_rate_init=LEARNING_RATE,
                          shuffle=True, random_state=0)
    epoch_seconds = []
    for _ in range(epochs):  # partial_fit: one shuffled pass over the data, keeping Adam's state
        started = time.perf_counter()
        model.partial_fit(data.train_images, data.train_labels, classes=np.arange(10))
        epoch_seconds.append(time.perf_counter() - started)
    accuracy = float((model.predict(data.test_images) == data.test_labels).mean())
    return {"epoch_seconds": epoch_seconds, "test_accuracy": accuracy}, model


class NielsenNetwork:
    """Nielsen's `network.py` (neuralnetworksanddeeplearning.com, chapter 1), as 3Blue1Brown points
    to it: column vectors, one example at a time through feedforward and backprop, gradients summed
    over the mini-batch. Changed only to do the same job as the others: float32, softmax output with
    cross-entropy (so the output delta is a - y), and an Adam step per mini-batch instead of SGD."""

    def __init__(self, start: Network):
        self.weights = [w.copy() for w in start.weights]
        self.biases = [b.reshape(-1, 1).copy() for b in start.biases]
        self.moments = [[np.zeros_like(p) for p in self.weights + self.biases] for _ in range(2)]
        self.steps = 0

    def feedforward(self, a):
        for w, b in zip(self.weights[:-1], self.biases[:-1]):
            a = sigmoid(np.dot(w, a) + b)
        return softmax_column(np.dot(self.weights[-1], a) + self.biases[-1])

    def update_mini_batch(self, mini_batch, eta):
        nabla_b = [np.zeros(b.shape, np.float32) for b in self.biases]
        nabla_w = [np.zeros(w.shape, np.float32) for w in self.weights]
        for x, y in mini_batch:
            delta_nabla_b, delta_nabla_w = self.backprop(x, y)
            nabla_b = [nb + dnb for nb, dnb in zip(nabla_b, delta_nabla_b)]
            nabla_w = [nw + dnw for nw, dnw in zip(nabla_w, delta_nabla_w)]
        self.steps += 1
        step = eta * np.sqrt(1 - 0.999 ** self.steps) / (1 - 0.9 ** self.steps)
        for p, g, m, v in zip(self.weights + self.biases, nabla_w + nabla_b, *self.moments):
            g = g / len(mini_batch)
            m *= 0.9
            m += 0.1 * g
            v *= 0.999
            v += 0.001 * g * g
            p -= step * m / (np.sqrt(v) + 1e-8)

    def backprop(self, x, y):
        nabla_b = [None] * len(self.biases)
        nabla_w = [None] * len(self.weights)
        activation, activations, zs = x, [x], []
        for w, b in zip(self.weights[:-1], self.biases[:-1]):
            z = np.dot(w, activation) + b
            zs.append(z)
            activation = sigmoid(z)
            activations.append(activation)
        activations.append(softmax_column(np.dot(self.weights[-1], activation) + self.biases[-1]))
        delta = activations[-1] - y  # softmax + cross-entropy
        nabla_b[-1] = delta
        nabla_w[-1] = np.dot(delta, activations[-2].transpose())
        for l in range(2, len(self.weights) + 1):
            sp = sigmoid(zs[-l + 1]) * (1 - sigmoid(zs[-l + 1]))
            delta = np.dot(self.weights[-l + 1].transpose(), delta) * sp
            nabla_b[-l] = delta
            nabla_w[-l] = np.dot(delta, activations[-l - 1].transpose())
        return nabla_b, nabla_w


def sigmoid(z):
    return np.float32(1.0) / (np.float32(1.0) + np.exp(-z))


def softmax_column(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def train_nielsen(data, layer_sizes, epochs, subset):
    """Nielsen's loop is slow, so each epoch's time is measured on `subset` images and scaled to 50,000."""
    network = NielsenNetwork(Network(layer_sizes, "sigmoid", "softmax", seed=0))
    rng = np.random.default_rng(0)
    columns = data.train_images[:, :, np.newaxis]  # (n, 784, 1): Nielsen's column vectors
    targets = np.eye(10, dtype=np.float32)[data.train_labels][:, :, np.newaxis]
    n, epoch_seconds = len(columns), []
    for _ in range(epochs):
        order = rng.permutation(n)[:subset]
        started = time.perf_counter()
        for start in range(0, len(order), BATCH_SIZE):
            chosen = order[start:start + BATCH_SIZE]
            network.update_mini_batch(list(zip(columns[chosen], targets[chosen])), LEARNING_RATE)
        epoch_seconds.append((time.perf_counter() - started) * n / len(order))
    guesses = [int(network.feedforward(x[:, np.newaxis]).argmax()) for x in data.test_images]
    return {"epoch_seconds": epoch_seconds, "test_accuracy": float((np.array(guesses) == data.test_labels).mean()),
            "trained_on": len(order)}, network


# ---------------------------------------------------------------------------------------------
# Inference: the 10,000 test images as one batch, and one image through each library's Python API.

def time_calls(call, min_seconds=0.5, repeats=7):
    """Median seconds per call, over `repeats` rounds of as many calls as fill ~min_seconds/repeats."""
    call()
    number, elapsed = 1, 0.0
    while elapsed < min_seconds / repeats:
        number *= 2
        started = time.perf_counter()
        for _ in range(number):
            call()
        elapsed = time.perf_counter() - started
    rounds = []
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(number):
            call()
        rounds.append((time.perf_counter() - started) / number)
    return statistics.median(rounds)


def inference(framework, model, data):
    images, one = data.test_images, data.test_images[:1]
    if framework == "digitnet":
        batch, single = (lambda: model.predict_probabilities(images)), (lambda: model.predict_probabilities(one))
    elif framework == "torch":
        import torch
        tensor = torch.from_numpy(images)

        def batch():
            with torch.inference_mode():
                return torch.softmax(model(tensor), dim=1).numpy()

        def single():
            with torch.inference_mode():
                return torch.softmax(model(torch.from_numpy(one)), dim=1).numpy()
    elif framework == "sklearn":
        batch, single = (lambda: model.predict_proba(images)), (lambda: model.predict_proba(one))
    else:
        columns = images[:, :, np.newaxis]
        batch = lambda: [model.feedforward(x) for x in columns]  # noqa: E731  (Nielsen: one at a time)
        single = lambda: model.feedforward(columns[0])  # noqa: E731
    seconds = time_calls(batch, min_seconds=1.0)
    return {"images_per_second": len(images) / seconds, "one_image_microseconds": time_calls(single) * 1e6}


# ---------------------------------------------------------------------------------------------
# digitnet's defaults, as `digitnet train` runs them, with the test accuracy after every epoch.

def defaults_to_96(data):
    settings, network = TrainingSettings(), Network(output="softmax", seed=TrainingSettings().seed)
    seconds, first = 0.0, None
    per_epoch = []

    def on_epoch(record):
        nonlocal seconds, first
        seconds += record.seconds
        accuracy = network.accuracy(data.test_images, data.test_labels)  # only here, for the benchmark
        per_epoch.append(accuracy)
        if first is None and accuracy >= 0.96:
            first = {"epoch": record.epoch, "training_seconds": seconds}

    result = train(network, data, settings, on_epoch=on_epoch)
    return {"reached_96": first, "total_training_seconds": seconds, "epochs": settings.epochs,
            "best_epoch": result.best_epoch,
            "final_test_accuracy": network.accuracy(data.test_images, data.test_labels),
            "test_accuracy_per_epoch": per_epoch}


# ---------------------------------------------------------------------------------------------
# One job per process; the parent interleaves them and prints the tables.

def worker(job):
    np.seterr(over="ignore")  # Nielsen's 1 / (1 + e^-z) overflows harmlessly for very negative z
    data = load_dataset()
    layer_sizes = tuple(job["layer_sizes"])
    if job["kind"] == "defaults":
        return defaults_to_96(data)
    framework, epochs = job["framework"], job["epochs"]
    if framework == "digitnet":
        figures, model = train_digitnet(data, layer_sizes, epochs)
    elif framework == "digitnet-60000":
        figures, model = train_digitnet_all_60000(data, layer_sizes, epochs)
    elif framework == "digitnet-reference":
        figures, model = train_digitnet_reference(data, layer_sizes, epochs)
    elif framework == "torch":
        figures, model = train_torch(data, layer_sizes, epochs)
    elif framework == "torch-1thread":
        figures, model = train_torch(data, layer_sizes, epochs, threads=1)
    elif framework == "sklearn":
        figures, model = train_sklearn(data, layer_sizes, epochs)
    else:
        figures, model = train_nielsen(data, layer_sizes, epochs, job["nielsen_subset"])
    if job.get("inference"):
        figures.update(inference(framework.split("-")[0], model, data))
    return figures


def run_job(job):
    output = subprocess.run([sys.executable, __file__, "--worker", json.dumps(job)], check=True,
                            capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def machine_description():
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or "unknown")
    import torch
    import sklearn
    from threadpoolctl import threadpool_info
    blas = ", ".join(sorted({f"{pool['internal_api']} {pool['version']}" for pool in threadpool_info()
                             if pool["user_api"] == "blas"}))
    return [f"- CPU: {model}; {os.cpu_count()} logical cores, {len(os.sched_getaffinity(0))} usable",
            f"- Python {platform.python_version()}, numpy {np.__version__} ({blas}), torch {torch.__version__}, "
            f"scikit-learn {sklearn.__version__}",
            f"- threads: OMP/OPENBLAS/MKL_NUM_THREADS={THREADS}, torch.set_num_threads({THREADS})",
            f"- load average when the run started: {os.getloadavg()[0]:.2f} (other work on the machine adds noise)"]


def median(runs, key):
    return statistics.median(statistics.median(run[key]) if isinstance(run[key], list) else run[key] for run in runs)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs of each trainer (the median is shown)")
    parser.add_argument("--epochs", type=int, default=5, help="epochs per training run")
    parser.add_argument("--nielsen-subset", type=int, default=5000,
                        help="images per epoch actually run through Nielsen's loop (its time is scaled to 50,000)")
    parser.add_argument("--quick", action="store_true", help="1 repeat, 2 epochs: a rough look")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return 0
    if args.quick:
        args.repeats, args.epochs = 1, 2

    print("# digitnet vs PyTorch vs scikit-learn vs Nielsen's loop\n")
    command = ["python", "benchmarks/compare_frameworks.py", *(argv if argv is not None else sys.argv[1:])]
    print(f"`{' '.join(command)}`\n")
    print("\n".join(machine_description()))
    print(f"- job: {'-'.join(map(str, VIDEO_NETWORK))}, sigmoid hidden, softmax + cross-entropy, Adam "
          f"(learning rate {LEARNING_RATE}, constant), batch {BATCH_SIZE}, float32, {args.epochs} epochs over "
          f"50,000 images; {args.repeats} interleaved repeats, each in its own process; medians\n")

    frameworks = ["digitnet", "digitnet-reference", "torch", "torch-1thread", "sklearn", "nielsen"]
    runs = {name: [] for name in frameworks}
    bigger = {(sizes, name): [] for sizes in ((784, 100, 10), (784, 300, 100, 10)) for name in ("digitnet", "torch")}
    defaults, all_60000 = [], []
    for repeat in range(args.repeats):
        for name in frameworks:
            runs[name].append(run_job({"kind": "train", "framework": name, "layer_sizes": VIDEO_NETWORK,
                                       "epochs": args.epochs, "inference": name in INFERENCE,
                                       "nielsen_subset": args.nielsen_subset}))
        for sizes, name in bigger:
            bigger[sizes, name].append(run_job({"kind": "train", "framework": name, "layer_sizes": sizes,
                                                "epochs": max(2, args.epochs // 2)}))
        all_60000.append(run_job({"kind": "train", "framework": "digitnet-60000", "layer_sizes": VIDEO_NETWORK,
                                  "epochs": args.epochs}))
        defaults.append(run_job({"kind": "defaults", "layer_sizes": VIDEO_NETWORK}))
        print(f"repeat {repeat + 1}/{args.repeats} done, load average {os.getloadavg()[0]:.2f}", file=sys.stderr)

    base = median(runs["digitnet"], "epoch_seconds")
    labels = {"digitnet": "digitnet `train`",
              "digitnet-reference": "digitnet's reference loop: `backprop` + optimizer per array, no fast path",
              "torch": "PyTorch, nn.Sequential loop", "torch-1thread": "PyTorch on 1 thread (for comparison)",
              "sklearn": "scikit-learn MLPClassifier", "nielsen": "Nielsen's per-example loop"}
    print("## Training the video's network\n")
    print("| trainer | seconds per epoch | training images/s | test accuracy | time vs digitnet |")
    print("|---|---:|---:|---:|---:|")
    for name in frameworks:
        seconds = median(runs[name], "epoch_seconds")
        note = f" (timed on {args.nielsen_subset:,} images per epoch, scaled)" if name == "nielsen" else ""
        print(f"| {labels[name]}{note} | {seconds:.3f} | {50_000 / seconds:,.0f} | "
              f"{median(runs[name], 'test_accuracy'):.2%} | {seconds / base:.1f}x |")
    print("\ndigitnet `train`'s seconds include its validation pass over 10,000 images at the end of every"
          " epoch; every trainer's include its shuffling. `train` runs BLAS on one thread (its matrix products"
          " are too small to share) and copies the next epoch's shuffled images on a second thread."
          f" Nielsen's accuracy is after training on {args.nielsen_subset:,} images per epoch.\n")
    print(f"With all 60,000 MNIST training images in an epoch (none held out; the validation pass then"
          f" runs over the 10,000 test images, for timing only), digitnet `train` takes"
          f" {median(all_60000, 'epoch_seconds'):.3f} s per epoch.\n")

    print("## Inference\n")
    print("| library | 10,000 test images as one batch: images/s | one image: microseconds |")
    print("|---|---:|---:|")
    library = {"digitnet": "digitnet", "torch": "PyTorch", "sklearn": "scikit-learn", "nielsen": "Nielsen's loop"}
    for name in INFERENCE:
        print(f"| {library[name]} | {median(runs[name], 'images_per_second'):,.0f} | "
              f"{median(runs[name], 'one_image_microseconds'):.1f} |")
    print("\ndigitnet: `Network.predict_probabilities`; PyTorch: softmax of the model under `torch.inference_mode()`;"
          " scikit-learn: `predict_proba`; Nielsen: `feedforward` on each column vector.\n")

    print("## digitnet's defaults: `digitnet train` with no flags\n")
    reached = [run["reached_96"] for run in defaults]
    last = defaults[-1]
    print("| | |\n|---|---:|")
    if all(reached):
        print(f"| first epoch with >= 96% test accuracy | {reached[-1]['epoch']} of {last['epochs']} |")
        print(f"| training seconds to get there | {statistics.median(r['training_seconds'] for r in reached):.2f} |")
    else:
        print("| first epoch with >= 96% test accuracy | not reached |")
    print(f"| training seconds, all {last['epochs']} epochs (shifting and validation included) | "
          f"{statistics.median(run['total_training_seconds'] for run in defaults):.2f} |")
    print(f"| test accuracy of the kept (best validation) epoch {last['best_epoch']} | "
          f"{last['final_test_accuracy']:.2%} |")
    print("\nThe test accuracy is measured after every epoch here only; training itself never looks at"
          " the test images.\n")

    print("## Larger networks against PyTorch (seconds per epoch)\n")
    print("| network | digitnet | PyTorch | PyTorch / digitnet |")
    print("|---|---:|---:|---:|")
    for sizes in ((784, 100, 10), (784, 300, 100, 10)):
        mine = median(bigger[sizes, "digitnet"], "epoch_seconds")
        theirs = median(bigger[sizes, "torch"], "epoch_seconds")
        print(f"| {'-'.join(map(str, sizes))} | {mine:.3f} | {theirs:.3f} | {theirs / mine:.1f}x |")
    print(f"\nSame job otherwise (sigmoid hidden, softmax, Adam, batch 32), {max(2, args.epochs // 2)} epochs per run.")
    print(f"\nLoad average when the run ended: {os.getloadavg()[0]:.2f}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
