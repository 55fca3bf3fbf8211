"""scikit-learn in: a fitted `MLPClassifier` as a digitnet Network.

MLPClassifier keeps `coefs_[l]` as `(n_in, n_out)`, the transpose of digitnet's `weights[l]`, and
`intercepts_[l]` as the biases; its `activation` squishes every hidden layer and `out_activation_`
the last ("softmax" for several classes, "logistic" = sigmoid for multilabel). Output neuron i
stands for `classes_[i]`.
"""

from __future__ import annotations

import numpy as np

from ..errors import DigitnetError
from ..network import Network
from .chain import INPUT_SIZE, OUTPUT_SIZE, Dense, Squish, network_from_chain
from .extras import require

SKLEARN_SQUISHES = {"logistic": "sigmoid", "relu": "relu", "tanh": "tanh", "identity": "identity",
                    "softmax": "softmax"}


def from_sklearn(classifier, input_size: int | None = INPUT_SIZE, output_size: int | None = OUTPUT_SIZE,
                 source="the MLPClassifier") -> Network:
    """A fitted `sklearn.neural_network.MLPClassifier` -> Network (float32) with the same outputs.
    input_size and output_size (784 and 10, for digitnet's commands) may be None to accept any."""
    neural_network = require("sklearn.neural_network", "from_sklearn")
    if not isinstance(classifier, neural_network.MLPClassifier):
        raise DigitnetError(f"{source}: a {type(classifier).__name__}; from_sklearn reads a fitted MLPClassifier")
    if not hasattr(classifier, "coefs_"):
        raise DigitnetError(f"{source}: not fitted yet; call fit first")
    if getattr(classifier, "n_outputs_", None) == 1:
        raise DigitnetError(f"{source}: a two-class MLPClassifier has one output neuron (the chance of "
                            f"{classifier.classes_[-1]!r}); digitnet needs one output neuron per class")
    steps = []
    hidden = SKLEARN_SQUISHES.get(classifier.activation, classifier.activation)
    last = len(classifier.coefs_) - 1
    for l, (coefs, intercepts) in enumerate(zip(classifier.coefs_, classifier.intercepts_)):
        steps.append(Dense(np.asarray(coefs).T, np.asarray(intercepts), f"layer {l} (coefs_[{l}])"))
        if l < last:
            steps.append(Squish(hidden, f"activation={classifier.activation!r}"))
    output = SKLEARN_SQUISHES.get(classifier.out_activation_, classifier.out_activation_)
    steps.append(Squish(output, f"out_activation_={classifier.out_activation_!r}"))
    return network_from_chain(steps, source, input_size, output_size)[0]
