"""The video's network in JAX, as JAX's users write it: parameters as a list of (W, b) pairs, a
pure loss function, `jax.value_and_grad`, optax's Adam, and the whole epoch as ONE `jax.jit`ted
function that runs `jax.lax.scan` over the epoch's mini-batches, so Python is not visited per step.

The training images go to the device once; each epoch draws a permutation from its own key and
gathers each mini-batch's rows inside the scan. `lax.scan` needs equal-sized steps, so an epoch is
the 1,562 whole batches of 32 (49,984 of the 50,000 images), as a JAX user would write it.

    python benchmarks/frameworks/jax_mlp.py --data src/digitnet/data --epochs 3

prints one line per epoch, then the run's figures as one JSON line. Needs `jax`, `jaxlib`, `optax`
(the `bench` extra). XLA compiles `train_epoch` at the first epoch; that compile is in the
first epoch's seconds and in the whole process's time.
"""

from __future__ import annotations

import argparse
import json
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax


def init_params(key, layer_sizes):
    """[(W (n_in, n_out), b (n_out,)), ...], W ~ N(0, 1/n_in) as digitnet starts."""
    params = []
    for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:]):
        key, subkey = jax.random.split(key)
        params.append((jax.random.normal(subkey, (n_in, n_out), jnp.float32) / jnp.sqrt(n_in),
                       jnp.zeros(n_out, jnp.float32)))
    return params


def logits(params, images):
    """(batch, 784) -> (batch, 10): sigmoid hidden layers; softmax lives in the loss."""
    a = images
    for w, b in params[:-1]:
        a = jax.nn.sigmoid(a @ w + b)
    w, b = params[-1]
    return a @ w + b


def loss(params, images, labels):
    return optax.softmax_cross_entropy_with_integer_labels(logits(params, images), labels).mean()


def make_train_epoch(optimizer, batch_size):
    @jax.jit
    def train_epoch(params, opt_state, images, labels, key):
        n_batches = images.shape[0] // batch_size
        order = jax.random.permutation(key, images.shape[0])[:n_batches * batch_size]

        def step(carry, batch):
            params, opt_state = carry
            value, grads = jax.value_and_grad(loss)(params, images[batch], labels[batch])
            updates, opt_state = optimizer.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state), value

        (params, opt_state), losses = jax.lax.scan(step, (params, opt_state),
                                                   order.reshape(n_batches, batch_size))
        return params, opt_state, losses.mean()

    return train_epoch


@jax.jit
def accuracy(params, images, labels):
    return (logits(params, images).argmax(axis=1) == labels).mean()


def train(data, layer_sizes, epochs, learning_rate, batch_size, initial=None, seed=0, on_epoch=None):
    """Train on data["train_images"] (numpy, (n, 784) float32); `initial` is an optional list of
    (W (n_out, n_in), b) numpy pairs (digitnet's layout) to start from. Returns (figures, params)."""
    key = jax.random.PRNGKey(seed)
    key, init_key = jax.random.split(key)
    params = ([(jnp.asarray(w.T), jnp.asarray(b)) for w, b in initial] if initial is not None
              else init_params(init_key, layer_sizes))
    optimizer = optax.adam(learning_rate)
    opt_state = optimizer.init(params)
    train_epoch = make_train_epoch(optimizer, batch_size)
    images = jax.device_put(data["train_images"])  # on the device once
    labels = jax.device_put(data["train_labels"].astype(np.int32))
    epoch_seconds = []
    for epoch in range(1, epochs + 1):
        started = time.perf_counter()
        key, epoch_key = jax.random.split(key)
        params, opt_state, mean_loss = train_epoch(params, opt_state, images, labels, epoch_key)
        mean_loss = float(mean_loss)  # waits for the epoch to finish
        epoch_seconds.append(time.perf_counter() - started)
        if on_epoch is not None:
            on_epoch(epoch, mean_loss, params)
    test = float(accuracy(params, data["test_images"], data["test_labels"].astype(np.int32)))
    return {"epoch_seconds": epoch_seconds, "test_accuracy": test}, params


def main(argv=None):
    parser = argparse.ArgumentParser(description="Train 784-16-16-10 on MNIST with JAX (jit + lax.scan).")
    parser.add_argument("--data", required=True, help="folder with MNIST's four gzipped IDX files")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=0.005)
    parser.add_argument("--layers", type=int, nargs="*", default=[16, 16], help="hidden layer sizes")
    args = parser.parse_args(argv)
    from mnist_files import load_mnist  # beside this file: run as a script, its folder is on sys.path

    data = load_mnist(args.data)
    validation = (jax.device_put(data["validation_images"]), jax.device_put(data["validation_labels"].astype(np.int32)))

    def report(epoch, mean_loss, params):
        print(f"epoch {epoch}: loss {mean_loss:.4f}, validation accuracy {float(accuracy(params, *validation)):.2%}",
              flush=True)

    figures, _ = train(data, (784, *args.layers, 10), args.epochs, args.learning_rate, args.batch_size,
                       on_epoch=report)
    print(f"test accuracy {figures['test_accuracy']:.2%}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
