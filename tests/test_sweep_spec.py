"""sweep/spec.py: a TOML spec checked at the edge and expanded into runs with stable keys."""

import pytest

from digitnet import DigitnetError
from digitnet.sweep import load_spec, parse_spec
from digitnet.sweep.runs import Run


def write(tmp_path, text, name="spec.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_grid_is_every_combination_times_every_seed(tmp_path):
    spec = load_spec(write(tmp_path, """
        seeds = 3
        [data]
        train_images = 500
        [grid]
        hidden_layers = [[], [16, 16]]
        activation = ["sigmoid", "relu"]
        learning_rate = [0.001, 0.01]
        epochs = 2
    """))
    assert spec.name == "spec" and spec.seeds == (0, 1, 2)
    assert len(spec.runs) == 2 * 2 * 2 * 3 and len({run.key for run in spec.runs}) == 24
    assert spec.swept == ("hidden_layers", "activation", "learning_rate")
    assert {run.structure.layer_sizes for run in spec.runs} == {(784, 10), (784, 16, 16, 10)}
    assert all(run.settings.epochs == 2 and run.data.train_images == 500 for run in spec.runs)


def test_keys_depend_on_what_is_computed_not_on_names_or_spelling():
    a = parse_spec({"name": "one", "grid": {"hidden_layers": [16, 16], "learning_rate": 1}})
    b = parse_spec({"name": "two", "grid": {"hidden_layers": [[16, 16]], "learning_rate": [1.0]}})
    assert [run.key for run in a.runs] == [run.key for run in b.runs]
    c = parse_spec({"grid": {"hidden_layers": [16, 16], "learning_rate": 1.0}, "seeds": [5]})
    assert c.runs[0].key != a.runs[0].key  # another seed, another run
    assert Run.from_dict(a.runs[0].to_dict()) == a.runs[0]


def test_depth_and_width_make_the_structures():
    spec = parse_spec({"grid": {"depth": [0, 1, 2], "width": [8, 32]}})
    assert sorted(run.structure.hidden_layers for run in spec.runs) == [(), (8,), (8, 8), (32,), (32, 32)]


def test_random_draws_are_seeded_and_in_range():
    table = {"seeds": 2, "random": {"samples": 12, "seed": 4, "depth": {"min": 1, "max": 3},
                                    "width": {"min": 8, "max": 300, "log": True},
                                    "learning_rate": {"min": 1e-4, "max": 1e-2, "log": True},
                                    "activation": ["sigmoid", "relu"]}}
    once, again = parse_spec(table), parse_spec(table)
    assert [run.key for run in once.runs] == [run.key for run in again.runs]
    assert len(once.runs) == 24
    for run in once.runs:
        assert 1 <= len(run.structure.hidden_layers) <= 3
        assert all(8 <= n <= 300 for n in run.structure.hidden_layers)
        assert 1e-4 <= run.settings.learning_rate <= 1e-2
    assert {run.structure.activation for run in once.runs} == {"sigmoid", "relu"}


def test_the_shipped_examples_are_valid_specs():
    from pathlib import Path
    examples = Path(__file__).resolve().parents[1] / "examples"
    small = load_spec(examples / "sweep-small.toml")
    assert 4 <= len(small.runs) <= 20 and small.runs[0].data.train_images <= 5000
    assert all(run.settings.epochs == 1 for run in small.runs)


@pytest.mark.parametrize("text, problem", [
    # unknown keys, at every level
    ("sedes = 3", "unknown key 'sedes' in the top level"),
    ("[grid]\nlearnig_rate = [0.1]", "unknown key 'learnig_rate' in [grid]"),
    ("[data]\nimages = 5", "unknown key 'images' in [data]"),
    ("[random]\nsamples = 2\nlearning_rate = {min = 0.1, max = 1, step = 2}", "unknown key 'step'"),
    # empty ranges
    ("[grid]\nlearning_rate = []", "learning_rate is empty"),
    ("[grid]\nhidden_layers = []", "hidden_layers is empty"),
    ("seeds = []", "seeds is empty"),
    ("seeds = 0", "seeds = 0"),
    ("[random]\nsamples = 3\nlearning_rate = {min = 0.1, max = 0.01}", "the range is empty"),
    ("[random]\nsamples = 0", "samples must be"),
    # impossible sizes
    ("[grid]\nhidden_layers = [[16, 0]]", "at least one neuron"),
    ("[grid]\nhidden_layers = [[-3]]", "at least one neuron"),
    ("[grid]\nhidden_layers = [[100000]]", "more than 65,536"),
    ("[grid]\nhidden_layers = [[1.5]]", "whole numbers"),
    ("[data]\ntrain_images = 60000", "50,000 training images"),
    ("[data]\ntrain_images = 0", "train_images must be"),
    ("[data]\ntrain_images = 100\n[grid]\nbatch_size = 200", "batch_size 200 is more than the 100"),
    ("[grid]\nbatch_size = 0", "batch_size must be"),
    ("[grid]\nepochs = [0]", "epochs must be"),
    # wrong values and types
    ("[grid]\nactivation = ['swish']", "activation must be one of"),
    ("[grid]\nlearning_rate = ['fast']", "learning_rate must be a number"),
    ("[grid]\noptimizer = ['adamw']", "optimizer must be one of"),
    ("[grid]\ndepth = [1]", "depth and width go together"),
    ("[grid]\nhidden_layers = [[4]]\n[random]\nsamples = 1", "not both"),
    ("save_models = 'yes'", "save_models must be true or false"),
    ("[grid]\ndeskew = ['yes']", "deskew must be true or false, not 'yes'"),
    ("[grid]\ndeskew = [1]", "deskew must be true or false, not 1"),
    ("seeds = [1, 1]", "seeds repeat"),
    ("[grid\n", "not valid TOML"),
])
def test_every_mistake_in_a_spec_is_one_line_naming_the_file(tmp_path, text, problem):
    path = write(tmp_path, text)
    with pytest.raises(DigitnetError) as caught:
        load_spec(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and problem in message and "\n" not in message


@pytest.mark.parametrize("make, problem", [
    (lambda p: p, "no such sweep spec"),
    (lambda p: (p.mkdir(), p)[1], "is a folder"),
    (lambda p: (p.write_bytes(b"\xff\xfe\x00bin"), p)[1], "not a text file"),
])
def test_a_spec_that_cannot_be_read_is_one_line(tmp_path, make, problem):
    path = make(tmp_path / "s.toml")
    with pytest.raises(DigitnetError, match=problem):
        load_spec(path)


def test_compare_is_a_preset_of_the_sweep_and_its_spec_says_the_same():
    from dataclasses import replace
    from pathlib import Path

    from digitnet.compare import DEFAULT_SETTINGS, DEFAULT_STRUCTURES, preset_runs

    spec = load_spec(Path(__file__).resolve().parents[1] / "examples" / "compare.toml")
    preset = preset_runs()
    assert [run.structure for run in preset] == list(DEFAULT_STRUCTURES)
    assert all(run.settings == DEFAULT_SETTINGS for run in preset)
    seed_zero = [run for run in spec.runs if run.settings.seed == 0]
    assert [run.key for run in seed_zero] == [run.key for run in preset]
    assert [run.structure.name for run in seed_zero] == [s.name for s in DEFAULT_STRUCTURES]
    assert {run.key for run in spec.runs} == {run.key for seed in (0, 1, 2) for run in
                                              preset_runs(settings=replace(DEFAULT_SETTINGS, seed=seed))}


def test_structures_clash_with_single_structure_keys():
    with pytest.raises(DigitnetError, match="give structures, or activation, not both"):
        parse_spec({"grid": {"structures": [{"hidden_layers": [4]}], "activation": "relu"}})
    with pytest.raises(DigitnetError, match="unknown key 'size'"):
        parse_spec({"grid": {"structures": [{"size": [4]}]}})
    with pytest.raises(DigitnetError, match="needs hidden_layers"):
        parse_spec({"grid": {"structures": [{"activation": "relu"}]}})


def test_a_setting_that_is_off_by_default_can_be_swept_and_reported(tmp_path):
    """deskew = [true, false]: the runs' points differ in their keys (a setting left at its default is
    left out of Run.point), and the report still tells the two points apart by it."""
    from digitnet.sweep.report import Point, swept_settings

    spec = parse_spec({"grid": {"hidden_layers": [[4]], "deskew": [True, False]}})
    assert [run.settings.deskew for run in spec.runs] == [True, False]
    points = [Point(run.point(), (784, 4, 10), 3190) for run in spec.runs]
    assert "deskew" in points[0].point and "deskew" not in points[1].point
    assert swept_settings(points) == ("deskew",)
    assert [p.label(("deskew",)) for p in points] == ["784-4-10 deskew=True", "784-4-10 deskew=False"]
