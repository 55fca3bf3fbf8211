"""`DigitnetClassifier`: digitnet's network and backpropagation as a scikit-learn estimator.

    from digitnet.sklearn import DigitnetClassifier
    classifier = DigitnetClassifier(hidden_layer_sizes=(16, 16), epochs=10).fit(X, y)
    classifier.predict_proba(X)          # (n, n_classes), rows summing to 1
    classifier.network_                  # the digitnet Network: save_model it, look inside it

Any number of features and classes (not only 784 and 10), any labels (strings too: output neuron i
stands for `classes_[i]`). It works in `Pipeline`, `GridSearchCV` and `cross_val_score`, and passes
scikit-learn's `parametrize_with_checks` (tests/test_sklearn.py). Training is `fast_backprop`'s
mini-batch backpropagation with digitnet's optimizers, in float64 (so that a row's answer does not
depend on the rows around it, as scikit-learn's checks require); every epoch sees the rows in a
new order drawn from `numpy.random.default_rng(random_state)`.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np

from .interop.extras import require

# scikit-learn is the `sklearn` extra: without it, importing this module says which to install.
base = require("sklearn.base", "digitnet.sklearn")
validation = require("sklearn.utils.validation", "digitnet.sklearn")
multiclass = require("sklearn.utils.multiclass", "digitnet.sklearn")
param_validation = require("sklearn.utils._param_validation", "digitnet.sklearn")

from .costs import COSTS, cost, one_hot  # noqa: E402
from .errors import DigitnetError  # noqa: E402
from .fast_backprop import Workspace  # noqa: E402
from .network import ACTIVATIONS, OUTPUTS, Network  # noqa: E402
from .optimizers import OPTIMIZERS, make_optimizer  # noqa: E402

Interval, StrOptions = param_validation.Interval, param_validation.StrOptions
FLOATS = (np.float64, np.float32)  # float32 input stays float32 (no copy of a big X); batches become float64


class DigitnetClassifier(base.ClassifierMixin, base.BaseEstimator):
    """A fully connected network trained by mini-batch gradient descent with backpropagation.

    Parameters (each with its default)
    ----------------------------------
    hidden_layer_sizes : tuple of int, default (16, 16)  the video's two hidden layers of 16; () for none
    activation : {"sigmoid", "relu", "tanh"}, default "sigmoid"  the hidden layers' squish
    output : {"softmax", "sigmoid"}, default "softmax"  the output layer's squish
    cost : {"cross_entropy", "quadratic"}, default "cross_entropy"  ("quadratic" is the video's)
    optimizer : {"adam", "momentum", "sgd"}, default "adam"
    learning_rate : float > 0, default 0.005  step size
    momentum : float in [0, 1), default 0.9  for optimizer="momentum"
    weight_decay : float >= 0, default 1e-4  L2 penalty on the weights (not the biases)
    batch_size : int >= 1, default 32  examples per gradient step
    epochs : int >= 1, default 20  passes over the data in `fit` (`partial_fit` makes one)
    random_state : int >= 0 or None, default 0  initial weights and shuffling; None: fresh each fit

    Attributes
    ----------
    classes_ : (n_classes,) the labels, sorted;  n_features_in_ : int;  feature_names_in_ (from a DataFrame)
    network_ : digitnet.Network  with layer_sizes (n_features_in_, *hidden_layer_sizes, n_classes)
    loss_curve_ : list of float, the mean cost per epoch;  n_iter_ : epochs trained
    """

    _parameter_constraints = {
        "hidden_layer_sizes": [tuple, list],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "output": [StrOptions(set(OUTPUTS))],
        "cost": [StrOptions(set(COSTS))],
        "optimizer": [StrOptions(set(OPTIMIZERS))],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "random_state": [Interval(Integral, 0, None, closed="left"), None],
    }

    def __init__(self, hidden_layer_sizes=(16, 16), activation="sigmoid", output="softmax", cost="cross_entropy",
                 optimizer="adam", learning_rate=0.005, momentum=0.9, weight_decay=1e-4, batch_size=32,
                 epochs=20, random_state=0):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.output = output
        self.cost = cost
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.epochs = epochs
        self.random_state = random_state

    # -- fitting ---------------------------------------------------------------------------------

    def fit(self, X, y):
        """Learn from X `(n_samples, n_features)` and labels y `(n_samples,)`; `epochs` passes. Returns self."""
        self._validate_params()
        X, y = validation.validate_data(self, X, y, dtype=FLOATS, reset=True)
        multiclass.check_classification_targets(y)
        self.classes_ = np.unique(y)
        self._start()
        self._train(X, np.searchsorted(self.classes_, y), self.epochs)
        return self

    def partial_fit(self, X, y, classes=None):
        """One epoch over X, y, continuing from the current weights. The first call needs `classes`,
        every label that will ever come (as scikit-learn's other partial_fit estimators)."""
        first = not hasattr(self, "network_")
        if first:
            self._validate_params()
            if classes is None:
                raise ValueError("classes must be given at the first call to partial_fit (every label that will come)")
        X, y = validation.validate_data(self, X, y, dtype=FLOATS, reset=first)
        multiclass.check_classification_targets(y)
        if first:
            self.classes_ = np.unique(classes)
            self._start()
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(f"classes {np.unique(classes)} differ from the first call's {self.classes_}")
        unknown = np.setdiff1d(y, self.classes_)
        if unknown.size:
            raise ValueError(f"labels {unknown[:5]} are not among classes {self.classes_}")
        self._train(X, np.searchsorted(self.classes_, y), 1)
        return self

    def _start(self):
        """A fresh network, optimizer and random generator for n_features_in_ inputs and the classes."""
        if len(self.classes_) < 2:
            raise ValueError(f"DigitnetClassifier needs samples of at least 2 classes; got 1 class ({self.classes_[0]!r})")
        hidden = tuple(self.hidden_layer_sizes)
        if not all(isinstance(n, Integral) and n >= 1 for n in hidden):
            raise ValueError(f"hidden_layer_sizes {self.hidden_layer_sizes!r}: each layer needs a whole number >= 1 of neurons")
        self._rng = np.random.default_rng(self.random_state)
        self.network_ = Network((self.n_features_in_, *hidden, len(self.classes_)), self.activation, self.output,
                                seed=int(self._rng.integers(2**32)), dtype=np.float64)
        self._workspace = Workspace(self.network_, self.cost)
        self._optimizer = make_optimizer(self.optimizer, [self._workspace.parameters], self.learning_rate,
                                         self.momentum)
        self.loss_curve_, self.n_iter_ = [], 0

    def __getstate__(self):
        """Without the workspace (its squishes are lambdas, which pickle cannot save); `_train` makes
        it again from network_, and the optimizer keeps its state (Adam's moments)."""
        state = dict(self.__dict__)
        state.pop("_workspace", None)
        return state

    def _train(self, X, class_indices, epochs):
        """`epochs` passes of mini-batch gradient descent over X `(n, n_features)`; class_indices `(n,)`."""
        if getattr(self, "_workspace", None) is None:  # unpickled: the weights are in network_
            self._workspace = Workspace(self.network_, self.cost)
            self._optimizer.parameters = [self._workspace.parameters]
        workspace, network = self._workspace, self.network_
        targets = one_hot(class_indices, len(self.classes_), dtype=np.float64)  # (n, n_classes)
        size = min(self.batch_size, len(X))
        weighted_sums, outputs = np.empty((size, len(self.classes_))), np.empty((size, len(self.classes_)))
        row_max, row_sum = np.empty((size, 1)), np.empty((size, 1))
        for _ in range(epochs):
            order = self._rng.permutation(len(X))
            total = 0.0
            with np.errstate(over="ignore", invalid="ignore"):
                for start in range(0, len(X), size):
                    rows = order[start:start + size]
                    m = len(rows)
                    batch_targets = targets[rows]
                    inputs = np.asarray(X[rows], np.float64)  # (m, n_features)
                    workspace.backprop(inputs, batch_targets, weighted_sums[:m], outputs[:m], row_max[:m], row_sum[:m])
                    total += cost(network, outputs[:m], weighted_sums[:m], batch_targets, self.cost) * m
                    if self.weight_decay:
                        workspace.add_weight_decay(self.weight_decay)
                    self._optimizer.step([workspace.gradient])
            if not np.isfinite(total) or not np.isfinite(workspace.parameters).all():
                raise DigitnetError(f"training diverged (the cost became {total}); try a smaller learning_rate "
                                    f"than {self.learning_rate}")
            self.loss_curve_.append(total / len(X))
            self.n_iter_ += 1
        workspace.copy_to(network)

    # -- answering -------------------------------------------------------------------------------

    def predict_proba(self, X):
        """`(n_samples, n_features)` -> `(n_samples, n_classes)` rows summing to 1, columns in classes_ order."""
        validation.check_is_fitted(self)
        X = validation.validate_data(self, X, dtype=FLOATS, reset=False)
        with np.errstate(over="ignore"):
            return self.network_.predict_probabilities(X)

    def predict(self, X):
        """`(n_samples, n_features)` -> `(n_samples,)` the label of the brightest output neuron."""
        guesses = self.predict_proba(X).argmax(axis=1)  # before classes_: unfitted is a NotFittedError
        return self.classes_[guesses]
