"""scikit-learn: DigitnetClassifier passes scikit-learn's own estimator checks and works in Pipeline,
GridSearchCV and cross_val_score; a fitted MLPClassifier comes in with the same predictions."""

import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("sklearn")
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from digitnet.errors import DigitnetError  # noqa: E402
from digitnet.interop.sklearn_format import from_sklearn  # noqa: E402
from digitnet.modelfile import load_model, save_model  # noqa: E402
from digitnet.sklearn import DigitnetClassifier  # noqa: E402
from interop_helpers import mnist, small_training_set  # noqa: E402

# No check is skipped or expected to fail. (scikit-learn itself skips the pandas check when pandas is
# not installed, and the array-API check unless SCIPY_ARRAY_API is set.)
EXPECTED_FAILED_CHECKS = {}


@parametrize_with_checks([DigitnetClassifier(hidden_layer_sizes=(8,), epochs=40, learning_rate=0.02)],
                         expected_failed_checks=lambda estimator: EXPECTED_FAILED_CHECKS)
def test_scikit_learns_estimator_checks(estimator, check):
    check(estimator)


def test_any_number_of_features_and_classes_with_string_labels():
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 4, (5, 3))
    labels = np.array(["ant", "bee", "cat", "dog", "eel"])[rng.integers(0, 5, 600)]
    X = centres[np.searchsorted(np.unique(labels), labels)] + rng.normal(0, 0.5, (600, 3))
    classifier = DigitnetClassifier(hidden_layer_sizes=(12,), epochs=30).fit(X, labels)
    assert classifier.network_.layer_sizes == (3, 12, 5) and classifier.n_features_in_ == 3
    assert list(classifier.classes_) == ["ant", "bee", "cat", "dog", "eel"]
    assert classifier.score(X, labels) > 0.95
    assert classifier.loss_curve_[-1] < classifier.loss_curve_[0] / 5


def test_on_mnist_in_a_pipeline_grid_search_and_cross_validation():
    images, labels = small_training_set(2000)
    pipeline = make_pipeline(StandardScaler(), DigitnetClassifier(hidden_layer_sizes=(16,), epochs=3))
    scores = cross_val_score(pipeline, images, labels, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.75
    search = GridSearchCV(DigitnetClassifier(epochs=3), {"hidden_layer_sizes": [(4,), (32,)]}, cv=2).fit(images, labels)
    assert search.best_params_ == {"hidden_layer_sizes": (32,)}  # 4 hidden neurons are too few for 10 digits
    test = mnist()
    assert search.score(test.test_images, test.test_labels) > 0.8


def test_partial_fit_continues_and_the_network_is_a_digitnet_model(tmp_path):
    images, labels = small_training_set(2000)
    classifier = DigitnetClassifier(epochs=1)
    with pytest.raises(ValueError, match="classes must be given"):
        classifier.partial_fit(images[:100], labels[:100])
    for _ in range(3):
        classifier.partial_fit(images, labels, classes=np.arange(10))
    assert classifier.n_iter_ == 3 and classifier.loss_curve_[2] < classifier.loss_curve_[0]
    save_model(tmp_path / "sk.safetensors", classifier.network_)
    test = mnist()
    loaded = load_model(tmp_path / "sk.safetensors").network  # float32 now
    agree = (loaded.predict_digit(test.test_images) == classifier.predict(test.test_images)).mean()
    assert agree > 0.999


def test_a_fitted_mlp_classifier_comes_in_with_the_same_predictions():
    images, labels = small_training_set(3000)
    mlp = MLPClassifier(hidden_layer_sizes=(20, 20), activation="relu", max_iter=10, random_state=0)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: 10 iterations are few on purpose
        mlp.fit(images, labels)
    network = from_sklearn(mlp)
    assert (network.layer_sizes, network.activation, network.output) == ((784, 20, 20, 10), "relu", "softmax")
    test = mnist().test_images
    theirs = mlp.predict_proba(test)
    np.testing.assert_allclose(network.predict_probabilities(test), theirs, atol=1e-5)
    top_two = np.sort(theirs, axis=1)[:, -2:]
    clear = top_two[:, 1] - top_two[:, 0] > 1e-5  # where float32 rounding cannot swap the answer
    np.testing.assert_array_equal(network.predict_digit(test)[clear], mlp.predict(test)[clear])
    assert clear.mean() > 0.99


def test_from_sklearn_refuses_what_it_cannot_read():
    images, labels = small_training_set(300)
    two_classes = MLPClassifier(hidden_layer_sizes=(4,), max_iter=2).fit(images, labels % 2)
    with pytest.raises(DigitnetError, match="one output neuron"):
        from_sklearn(two_classes)
    with pytest.raises(DigitnetError, match="not fitted"):
        from_sklearn(MLPClassifier())
    identity = MLPClassifier(hidden_layer_sizes=(4,), activation="identity", max_iter=2).fit(images, labels)
    with pytest.raises(DigitnetError, match="identity between layers"):
        from_sklearn(identity)


def test_without_scikit_learn_the_import_names_the_extra():
    code = "import sys; sys.modules['sklearn'] = None\ntry:\n import digitnet.sklearn\nexcept Exception as e: print(e)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "pip install 'digitnet[sklearn]'" in result.stdout and result.stdout.count("\n") == 1, result
