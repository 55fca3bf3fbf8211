"""The video's network in PyTorch, as its users write it: `nn.Sequential` of Linear and Sigmoid,
`F.cross_entropy` on the logits, `torch.optim.Adam`, a Python loop over mini-batches.

Each epoch shuffles with `torch.randperm` and slices the shuffled tensors (faster than a
`DataLoader` over a `TensorDataset`, which collates every batch from single rows: this is the
stronger of the two usual ways, so the comparison does not flatter digitnet).

    python benchmarks/frameworks/torch_mlp.py --data src/digitnet/data --epochs 3

prints one line per epoch, then the run's figures as one JSON line. Needs torch (the `bench` extra).
compare_frameworks.py runs it with `--threads 1`: on an idle machine one thread is as fast as two
for this network (its products are too small to share), and when another process holds a core,
two threads collapse (OpenMP's threads wait for each other at every operation: 12.7 s instead of
2.0 s per epoch, measured here under a load average of 4.5).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch


def make_model(layer_sizes, initial=None):
    """Linear layers with Sigmoid between them (logits out). `initial`: optional list of
    (W (n_out, n_in), b) numpy pairs to start from (digitnet's layout is torch's)."""
    layers = []
    for l, (n_in, n_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:])):
        linear = torch.nn.Linear(n_in, n_out)
        if initial is not None:
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(initial[l][0]))
                linear.bias.copy_(torch.from_numpy(initial[l][1]))
        layers.append(linear)
        if l < len(layer_sizes) - 2:
            layers.append(torch.nn.Sigmoid())
    return torch.nn.Sequential(*layers)


def accuracy(model, images, labels):
    with torch.inference_mode():
        return float((model(images).argmax(dim=1) == labels).float().mean())


def train(data, layer_sizes, epochs, learning_rate, batch_size, initial=None, seed=0, on_epoch=None):
    """Train on data["train_images"] (numpy, (n, 784) float32). Returns (figures, model)."""
    torch.manual_seed(seed)
    model = make_model(layer_sizes, initial)
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    images, labels = torch.from_numpy(data["train_images"]), torch.from_numpy(data["train_labels"].astype(np.int64))
    n, epoch_seconds = len(images), []
    for epoch in range(1, epochs + 1):
        started = time.perf_counter()
        order = torch.randperm(n)
        shuffled_images, shuffled_labels = images[order], labels[order]  # contiguous, once per epoch
        for start in range(0, n, batch_size):
            optimizer.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(model(shuffled_images[start:start + batch_size]),
                                                     shuffled_labels[start:start + batch_size])
            loss.backward()
            optimizer.step()
        epoch_seconds.append(time.perf_counter() - started)
        if on_epoch is not None:
            on_epoch(epoch, loss.item(), model)  # the last mini-batch's loss
    test = accuracy(model, torch.from_numpy(data["test_images"]), torch.from_numpy(data["test_labels"].astype(np.int64)))
    return {"epoch_seconds": epoch_seconds, "test_accuracy": test}, model


def main(argv=None):
    parser = argparse.ArgumentParser(description="Train 784-16-16-10 on MNIST with PyTorch.")
    parser.add_argument("--data", required=True, help="folder with MNIST's four gzipped IDX files")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=0.005)
    parser.add_argument("--layers", type=int, nargs="*", default=[16, 16], help="hidden layer sizes")
    parser.add_argument("--threads", type=int, help="torch.set_num_threads (default: torch's, one per core)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    from mnist_files import load_mnist  # beside this file: run as a script, its folder is on sys.path

    data = load_mnist(args.data)
    validation = (torch.from_numpy(data["validation_images"]), torch.from_numpy(data["validation_labels"]))

    def report(epoch, last_loss, model):
        print(f"epoch {epoch}: last batch's loss {last_loss:.4f}, validation accuracy {accuracy(model, *validation):.2%}",
              flush=True)

    figures, _ = train(data, (784, *args.layers, 10), args.epochs, args.learning_rate, args.batch_size,
                           on_epoch=report)
    print(f"test accuracy {figures['test_accuracy']:.2%}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
