"""Fixtures the API tests share (pytest finds them here; nothing imports this file)."""

import pytest

from digitnet.data import load_dataset
from digitnet.modelfile import default_model_path, load_model


@pytest.fixture(scope="module")
def network():
    """The shipped video network, as the explorer serves it by default."""
    return load_model(default_model_path()).network


@pytest.fixture(scope="module")
def test_set():
    """MNIST's test images `(10000, 784)` and labels."""
    data = load_dataset()
    return data.test_images, data.test_labels


LONGEST_FIRST = ("test_strong_rebuild.py",)  # minutes of training: started first, so the runner's other
# process works through the rest of the suite meanwhile instead of waiting for it at the end


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: item.path.name not in LONGEST_FIRST)  # a stable sort: the rest keep their order
