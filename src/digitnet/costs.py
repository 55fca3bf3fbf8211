"""Costs: how wrong the network's outputs are, and the cost's gradient at the last layer's z.

The video's cost of one example is the quadratic one, 1/2 sum_j (a_j - y_j)^2; cross-entropy (with a
softmax output, the log-likelihood) learns faster and is the default. Both training.backprop and
the fast path (fast_backprop.py) start from `output_delta`.
"""

from __future__ import annotations

import numpy as np

from .network import Network

COSTS = ("cross_entropy", "quadratic")


def one_hot(labels: np.ndarray, n_classes: int = 10, dtype=np.float32) -> np.ndarray:
    """Labels `(n,)` -> desired outputs `(n, n_classes)`: 1 for the right digit, 0 elsewhere."""
    targets = np.zeros((len(labels), n_classes), dtype=dtype)
    targets[np.arange(len(labels)), labels] = 1
    return targets


def cost(network: Network, outputs: np.ndarray, last_weighted_sums: np.ndarray,
         targets: np.ndarray, cost_name: str) -> float:
    """Mean cost over the batch.

    quadratic:      C = 1/2 sum_j (a_j - y_j)^2                (the video's "cost of one example")
    cross_entropy:  softmax output: C = -sum_j y_j log a_j     (log-likelihood)
                    sigmoid output: C = -sum_j [y_j log a_j + (1 - y_j) log(1 - a_j)]
    Logs are computed from z, never from a rounded a, so the value stays finite.
    """
    z = last_weighted_sums
    if cost_name == "quadratic":
        per_example = 0.5 * ((outputs - targets) ** 2).sum(axis=1)
    elif network.output == "softmax":
        shifted = z - z.max(axis=1, keepdims=True)
        log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        per_example = -(targets * log_probabilities).sum(axis=1)
    else:
        # -[y log σ(z) + (1-y) log(1-σ(z))] = log(1 + e^z) - y z
        per_example = (np.logaddexp(0, z) - targets * z).sum(axis=1)
    return float(per_example.mean())


def output_delta(network: Network, outputs: np.ndarray, targets: np.ndarray, cost_name: str) -> np.ndarray:
    """dC/dz for the last layer, `(batch, n_out)`, for each cost x output pair."""
    error = outputs - targets
    if cost_name == "cross_entropy":
        # Softmax + log-likelihood and sigmoid + cross-entropy both reduce to a - y: the cost's
        # curvature cancels the squish's, which is why cross-entropy learns fast from bad guesses.
        return error
    if network.output == "sigmoid":
        return error * outputs * (1 - outputs)
    # Quadratic through softmax: delta = J^T (a - y) with softmax Jacobian J = diag(a) - a a^T.
    return outputs * (error - (error * outputs).sum(axis=1, keepdims=True))
