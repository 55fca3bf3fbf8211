"""A sweep's spec: a small TOML file saying which structures and settings to try, and how often.

    name = "structures"                 # labels the sweep's rows (default: the file's name)
    seeds = 3                           # seeds 0, 1, 2 for every point; or a list: [0, 7]
    save_models = false                 # true: keep each run's model next to the database

    [data]
    train_images = 5000                 # learn from the first 5,000 of the 50,000 (default: all)
    # folder = "/path/to/fashion-mnist" # any IDX set laid out like MNIST (default: the shipped MNIST)

    [grid]                              # every combination of these lists ...
    hidden_layers = [[], [16], [16, 16], [100]]
    activation = ["sigmoid", "relu"]
    epochs = 3
    # structures = [{hidden_layers = [16, 16]}, {hidden_layers = [300, 100], activation = "relu"}]
    #                                 # whole structures, each with its own squish, instead of the two above

    # [random]                          # ... or `samples` random draws from these
    # samples = 20
    # seed = 0
    # depth = {min = 1, max = 3}                  # hidden layers, each of a random width
    # width = {min = 8, max = 300, log = true}
    # learning_rate = {min = 1e-4, max = 1e-2, log = true}
    # activation = ["sigmoid", "relu"]

A value is a list of choices (a single value means one choice); in [random] a number may also be
a range {min, max, log}. Settings not named keep TrainingSettings' defaults (a structure's defaults:
two hidden layers of 16, sigmoid, softmax output). `expand` turns a spec into its list of runs.
"""

from __future__ import annotations

import itertools
import math
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np

from ..errors import DigitnetError
from ..training import TrainingSettings
from .runs import SHIPPED_TRAINING_IMAGES, DataChoice, Run, Structure

STRUCTURE_KEYS = ("structures", "hidden_layers", "depth", "width", "activation", "output")
STRUCTURE_TABLE_KEYS = ("name", "hidden_layers", "activation", "output")
SETTING_KEYS = tuple(f.name for f in fields(TrainingSettings) if f.name != "seed")
SWEPT_KEYS = STRUCTURE_KEYS + SETTING_KEYS
TOP_KEYS = ("name", "seeds", "save_models", "data", "grid", "random")
DATA_KEYS = ("folder", "train_images")
RANGE_KEYS = ("min", "max", "log")
FLOAT_SETTINGS = {f.name for f in fields(TrainingSettings) if f.type in ("float", float)}
BOOL_SETTINGS = {f.name for f in fields(TrainingSettings) if f.type in ("bool", bool)}  # deskew
INT_KEYS = {"depth", "width", "epochs", "batch_size", "shift_pixels"}
MAX_SPEC_BYTES = 1 << 20
MAX_RUNS = 100_000


@dataclass(frozen=True)
class SweepSpec:
    """A parsed, checked spec. runs: every run it asks for, seeds included, in the spec's order."""

    name: str
    runs: tuple[Run, ...]
    seeds: tuple[int, ...]
    save_models: bool
    swept: tuple[str, ...]  # the settings that take more than one value (the report's axes)
    path: Path | None = None


def load_spec(path: str | Path) -> SweepSpec:
    """Read and check a TOML spec file; every mistake is a DigitnetError naming the file."""
    path = Path(path)
    try:
        if path.is_file() and path.stat().st_size > MAX_SPEC_BYTES:
            raise DigitnetError(f"{path}: more than {MAX_SPEC_BYTES:,} bytes is too large for a sweep spec")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DigitnetError(f"{path}: no such sweep spec") from None
    except IsADirectoryError:
        raise DigitnetError(f"{path}: is a folder, not a sweep spec (a .toml file)") from None
    except UnicodeDecodeError:
        raise DigitnetError(f"{path}: not a text file; a sweep spec is TOML") from None
    except OSError as error:
        raise DigitnetError(f"{path}: cannot read ({error.strerror})") from None
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise DigitnetError(f"{path}: not valid TOML ({error})") from None
    return parse_spec(table, name=path.stem, where=str(path), path=path)


def parse_spec(table: dict, name: str = "sweep", where: str = "spec", path: Path | None = None) -> SweepSpec:
    """Check a spec already read into a dict (as tomllib gives it) and expand it into runs."""
    def fail(message):
        raise DigitnetError(f"{where}: {message}")

    _check_keys(table, TOP_KEYS, "the top level", fail)
    if "grid" in table and "random" in table:
        fail("give [grid] or [random], not both")
    name = table.get("name", name)
    if not isinstance(name, str) or not name.strip():
        fail("name must be a non-empty string")
    seeds = _seeds(table.get("seeds", 1), fail)
    save_models = table.get("save_models", False)
    if not isinstance(save_models, bool):
        fail("save_models must be true or false")
    data = _data(table.get("data", {}), fail)
    if "random" in table:
        points = _random_points(table["random"], fail)
    else:
        points = _grid_points(table.get("grid", {}), fail)
    runs, keys = [], set()
    for point in points:
        structure, settings = _point_to_run(point, fail)
        if data.train_images is not None and settings.batch_size > data.train_images:
            fail(f"batch_size {settings.batch_size} is more than the {data.train_images:,} training images "
                 "of [data] train_images")
        for seed in seeds:
            run = Run(structure, replace(settings, seed=seed), data, name)
            if run.key not in keys:  # random draws may repeat a point
                keys.add(run.key)
                runs.append(run)
    if len(runs) > MAX_RUNS:
        fail(f"asks for {len(runs):,} runs; split it into sweeps of at most {MAX_RUNS:,}")
    swept = tuple(key for key in ("hidden_layers", "activation", "output", *SETTING_KEYS)
                  if len({_value_of(run, key) for run in runs}) > 1)
    return SweepSpec(name, tuple(runs), seeds, save_models, swept, path)


def _value_of(run: Run, key: str):
    if key == "hidden_layers":
        return run.structure.hidden_layers
    if key in ("activation", "output"):
        return getattr(run.structure, key)
    return getattr(run.settings, key)


def _check_keys(table, known, where, fail):
    if not isinstance(table, dict):
        fail(f"{where} must be a table")
    unknown = [key for key in table if key not in known]
    if unknown:
        fail(f"unknown key {unknown[0]!r} in {where}; known keys: {', '.join(known)}")


def _seeds(value, fail) -> tuple[int, ...]:
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 1:
            fail(f"seeds = {value}: give how many seeds (>= 1) or a list of seeds")
        return tuple(range(value))
    if isinstance(value, list):
        if not value:
            fail("seeds is empty; give at least one seed")
        if not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in value):
            fail("seeds must be whole numbers >= 0")
        if len(set(value)) != len(value):
            fail("seeds repeat; each seed once")
        return tuple(value)
    fail("seeds must be a count (3) or a list ([0, 1, 2])")


def _data(table, fail) -> DataChoice:
    _check_keys(table, DATA_KEYS, "[data]", fail)
    folder = table.get("folder")
    if folder is not None and (not isinstance(folder, str) or not folder):
        fail("[data] folder must be a path (a string)")
    count = table.get("train_images")
    if count is not None:
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            fail(f"[data] train_images must be a whole number >= 1, not {count!r}")
        if folder is None and count > SHIPPED_TRAINING_IMAGES:
            fail(f"[data] train_images = {count:,}: the shipped MNIST has {SHIPPED_TRAINING_IMAGES:,} "
                 "training images (the other 10,000 are kept for validation)")
    return DataChoice(folder, count)


def _choices(key, value, fail, where) -> list:
    """A list of choices; a lone value is a list of one."""
    if key == "hidden_layers":  # a list of structures; one structure [16, 16] alone means itself
        if isinstance(value, list) and value and all(isinstance(v, int) for v in value):
            value = [value]
    values = value if isinstance(value, list) else [value]
    if not values:
        fail(f"{where} {key} is empty; give at least one value")
    return values


def _grid_points(table, fail) -> list[dict]:
    _check_keys(table, SWEPT_KEYS, "[grid]", fail)
    axes = {key: _choices(key, value, fail, "[grid]") for key, value in table.items()}
    if "hidden_layers" in axes and ("depth" in axes or "width" in axes):
        fail("[grid] give hidden_layers, or depth and width, not both")
    if ("depth" in axes) != ("width" in axes):
        fail("[grid] depth and width go together (each hidden layer gets the width)")
    if "depth" in axes:
        depths, widths = axes.pop("depth"), axes.pop("width")
        for v in depths + widths:
            _whole(v, "depth" if v in depths else "width", fail, "[grid]")
        structures, seen = [], set()
        for depth, width in itertools.product(depths, widths):
            layers = [width] * depth
            if tuple(layers) not in seen:
                seen.add(tuple(layers))
                structures.append(layers)
        axes["hidden_layers"] = structures
    if "structures" in axes:
        axes["structures"] = _structure_tables(axes["structures"], axes, fail, "[grid]")
    names = list(axes)
    points = [dict(zip(names, combination)) for combination in itertools.product(*axes.values())]
    for point in points:
        point.update(point.pop("structures", {}))
    return points


def _structure_tables(tables, axes, fail, where) -> list[dict]:
    """`structures = [{hidden_layers = [16, 16], activation = "relu"}, ...]`: whole structures to try,
    each with its own squish (and optionally a name for tables), as `digitnet compare`'s five."""
    clash = [key for key in ("hidden_layers", "depth", "width", "activation", "output") if key in axes]
    if clash:
        fail(f"{where} give structures, or {clash[0]}, not both")
    for table in tables:
        _check_keys(table, STRUCTURE_TABLE_KEYS, f"{where} structures", fail)
        if "hidden_layers" not in table:
            fail(f"{where} each of structures needs hidden_layers, like [16, 16] or [] for none")
        if "name" in table and not isinstance(table["name"], str):
            fail(f"{where} a structure's name must be a string")
    return tables


def _whole(value, key, fail, where):
    if isinstance(value, bool) or not isinstance(value, int):
        fail(f"{where} {key} must be whole numbers, not {value!r}")
    return value


def _random_points(table, fail) -> list[dict]:
    _check_keys(table, SWEPT_KEYS + ("samples", "seed"), "[random]", fail)
    table = dict(table)
    samples, seed = table.pop("samples", None), table.pop("seed", 0)
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        fail("[random] samples must be a whole number >= 1 (how many points to draw)")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        fail("[random] seed must be a whole number >= 0")
    if "hidden_layers" in table and ("depth" in table or "width" in table):
        fail("[random] give hidden_layers, or depth and width, not both")
    if ("depth" in table) != ("width" in table):
        fail("[random] depth and width go together")
    draws = {}
    if "structures" in table:
        draws["structures"] = ("choice", _structure_tables(_choices("structures", table.pop("structures"), fail,
                                                                    "[random]"), table, fail, "[random]"))
    for key, value in table.items():
        if isinstance(value, dict):
            draws[key] = _range(key, value, fail)
        else:
            draws[key] = ("choice", _choices(key, value, fail, "[random]"))
    rng = np.random.default_rng(seed)
    points = []
    for _ in range(samples):
        point = {}
        for key, draw in draws.items():
            if key in ("depth", "width"):
                continue
            point[key] = _draw(rng, draw)
        point.update(point.pop("structures", {}))
        if "depth" in draws:
            depth = _draw(rng, draws["depth"])
            _whole(depth, "depth", fail, "[random]")
            point["hidden_layers"] = [_whole(_draw(rng, draws["width"]), "width", fail, "[random]")
                                      for _ in range(depth)]
        points.append(point)
    return points


def _range(key, value, fail):
    where = f"[random] {key}"
    _check_keys(value, RANGE_KEYS, where, fail)
    if "min" not in value or "max" not in value:
        fail(f"{where}: a range needs min and max")
    low, high, log = value["min"], value["max"], value.get("log", False)
    if key not in INT_KEYS and key not in FLOAT_SETTINGS:
        fail(f"{where}: only numbers take a range; give a list of choices")
    for bound in (low, high):
        if isinstance(bound, bool) or not isinstance(bound, (int, float)) or not math.isfinite(bound):
            fail(f"{where}: min and max must be numbers")
        if key in INT_KEYS and not isinstance(bound, int):
            fail(f"{where}: min and max must be whole numbers")
    if low > high:
        fail(f"{where}: the range is empty (min {low} > max {high})")
    if not isinstance(log, bool):
        fail(f"{where}: log must be true or false")
    if log and low <= 0:
        fail(f"{where}: a log range needs min > 0")
    return ("range", low, high, log, key in INT_KEYS)


def _draw(rng: np.random.Generator, draw):
    if draw[0] == "choice":
        return draw[1][int(rng.integers(len(draw[1])))]
    _, low, high, log, whole = draw
    if log:
        value = math.exp(rng.uniform(math.log(low), math.log(high + 1 if whole else high)))
    else:
        value = rng.uniform(low, high + 1 if whole else high)
    if whole:
        return min(int(math.floor(value)), high)
    return float(f"{value:.4g}")  # 4 significant digits: readable in tables, and equal draws compare equal


def _point_to_run(point: dict, fail) -> tuple[Structure, TrainingSettings]:
    """A point (key -> one value) as a Structure and TrainingSettings; a bad value fails naming the key."""
    hidden = point.get("hidden_layers", [16, 16])
    if not isinstance(hidden, list) or not all(isinstance(n, int) and not isinstance(n, bool) for n in hidden):
        fail(f"hidden_layers must be lists of whole numbers, like [16, 16] or [] for none; not {hidden!r}")
    settings = {}
    for key in SETTING_KEYS:
        if key in point:
            value = point[key]
            if key in FLOAT_SETTINGS:
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    fail(f"{key} must be a number, not {value!r}")
                value = float(value)  # 1 and 1.0 are the same run
            elif key in INT_KEYS and (isinstance(value, bool) or not isinstance(value, int)):
                fail(f"{key} must be a whole number, not {value!r}")
            elif key in BOOL_SETTINGS:
                if not isinstance(value, bool):
                    fail(f"{key} must be true or false, not {value!r}")
            elif key not in INT_KEYS and not isinstance(value, str):
                fail(f"{key} must be a name (a string), not {value!r}")
            settings[key] = value
    activation, output = point.get("activation", "sigmoid"), point.get("output", "softmax")
    try:
        structure = Structure.named(tuple(hidden), activation, output)
        if "name" in point:
            structure = replace(structure, name=point["name"])
        return structure, TrainingSettings(**settings)
    except DigitnetError as error:
        fail(str(error))
    except TypeError as error:  # a string where TrainingSettings compares numbers
        fail(f"a setting has the wrong type ({error})")
