"""compare.py: structures trained side by side in worker processes, and their table."""

import dataclasses

import pytest

from digitnet import DigitnetError, Network, load_dataset
from digitnet.compare import (DEFAULT_SETTINGS, DEFAULT_STRUCTURES, ComparisonRow, Structure, compare,
                              comparison_table)
from digitnet.training import TrainingSettings


@pytest.fixture(scope="module")
def small_dataset():
    """The first 5,000 training images, the full validation and test sets."""
    dataset = load_dataset()
    return dataset_subset(dataset, 5_000)


def dataset_subset(dataset, n):
    return dataset.subset(train=n)


def test_default_structures_are_the_videos_and_its_alternatives():
    sizes = {(s.layer_sizes, s.activation) for s in DEFAULT_STRUCTURES}
    assert ((784, 16, 16, 10), "sigmoid") in sizes and ((784, 16, 16, 10), "relu") in sizes
    assert ((784, 30, 10), "sigmoid") in sizes and ((784, 100, 10), "sigmoid") in sizes
    assert ((784, 300, 100, 10), "relu") in sizes
    assert len({s.name for s in DEFAULT_STRUCTURES}) == len(DEFAULT_STRUCTURES)
    for structure in DEFAULT_STRUCTURES:
        assert structure.parameter_count == Network(structure.layer_sizes).parameter_count
    assert DEFAULT_SETTINGS.epochs >= 1


def test_bigger_network_ranks_no_worse_on_a_short_run(small_dataset):
    structures = [Structure("tiny 4", (4,)), Structure("100 sigmoid", (100,))]
    finished = []
    rows = compare(structures, TrainingSettings(epochs=2), small_dataset, n_jobs=2, on_done=finished.append)
    assert [row.name for row in rows] == ["tiny 4", "100 sigmoid"]  # the order asked for
    assert sorted(row.name for row in finished) == ["100 sigmoid", "tiny 4"]
    tiny, big = rows
    assert tiny.layer_sizes == (784, 4, 10) and tiny.activation == "sigmoid"
    assert (tiny.parameter_count, big.parameter_count) == (3_190, 79_510)
    for row in rows:
        assert len(row.validation_curve) == 2 and 1 <= row.best_epoch <= 2
        assert 0.1 < row.test_accuracy <= 1 and row.training_seconds > 0
    # Seen on this data: about 71% for 784-4-10 and 90% for 784-100-10 after two epochs.
    assert big.test_accuracy >= tiny.test_accuracy
    assert max(big.validation_curve) >= max(tiny.validation_curve)


def test_same_seed_same_result_in_any_worker(small_dataset):
    structure = Structure("tiny relu", (4,), "relu")
    settings = TrainingSettings(epochs=1, seed=3)
    once, twice = compare([structure, structure], settings, dataset_subset(small_dataset, 2_000), n_jobs=2)
    assert once.validation_curve == twice.validation_curve
    assert once.test_accuracy == twice.test_accuracy


def test_workers_load_the_shipped_data_themselves():
    (row,) = compare([Structure("no hidden layer", ())], TrainingSettings(epochs=1), dataset=None, n_jobs=1)
    assert row.layer_sizes == (784, 10) and row.test_accuracy > 0.8


def test_comparison_table_lists_every_structure_and_marks_the_best():
    rows = [ComparisonRow("16-16 sigmoid", (784, 16, 16, 10), "sigmoid", 13_002, 0.9512, 8.04, [0.9, 0.95], 2),
            ComparisonRow("100 sigmoid", (784, 100, 10), "sigmoid", 79_510, 0.9733, 12.5, [0.93, 0.97], 2)]
    lines = comparison_table(rows).splitlines()
    assert len(lines) == 4
    assert "16-16 sigmoid" in lines[2] and "13,002" in lines[2] and "95.12%" in lines[2] and "8.0s" in lines[2]
    assert lines[3].startswith("*") and "784-100-10" in lines[3] and "97.33%" in lines[3]


def test_bad_structures_are_user_errors():
    with pytest.raises(DigitnetError, match="activation"):
        Structure("x", (16,), "swish")
    with pytest.raises(DigitnetError, match="at least one neuron"):
        Structure("x", (16, 0))
    with pytest.raises(DigitnetError, match="Structure"):
        compare([((16, 16), "sigmoid")])
    with pytest.raises(DigitnetError):
        compare([])
