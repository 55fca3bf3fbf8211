"""The public API's one check of its arguments: each parameter's constraint declared next to the
function or class that takes it, checked here, types before values (in the spirit of scikit-learn's
`_parameter_constraints`). Every failure is a DigitnetError saying what to pass instead, never a
TypeError from deep inside numpy, and never a silent fallback to a default.

    CONSTRAINTS = {"epochs": Integer(1), "learning_rate": Real(0, exclusive_low=True), ...}
    check_parameters("training settings", CONSTRAINTS, epochs=epochs, learning_rate=learning_rate)

The limits on sizes that a model file, `train` and `load_model` all share are here too, so what
`train` builds, `load_model` loads.
"""

from __future__ import annotations

import math
import numbers
import os
from dataclasses import dataclass

import numpy as np

from .errors import DigitnetError, printable

# What any digitnet network may be: train refuses more (before it starts), load_model refuses more,
# so every model train saves can be loaded. 64 layers and 65,536 neurons a layer are far beyond an
# MLP on 28x28 images; the parameter limit keeps a model file under MAX_MODEL_BYTES (float32).
MAX_LAYERS = 64                # layers, the input layer included
MAX_LAYER_SIZE = 65_536        # neurons in one layer
MAX_PARAMETERS = 100_000_000   # weights and biases together: a 400 MB model file


class Constraint:
    """One parameter's rule: `accepts(value)` and, for the error, `description`."""

    description = "valid"

    def accepts(self, value) -> bool:
        raise NotImplementedError


@dataclass(frozen=True)
class Integer(Constraint):
    """A whole number (int or numpy integer, not True/False) in [low, high]."""

    low: int | None = None
    high: int | None = None

    def accepts(self, value) -> bool:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
            return False
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)

    @property
    def description(self) -> str:
        return "a whole number" + _range_text(self.low, self.high, False, False)


@dataclass(frozen=True)
class Seed(Constraint):
    """Where randomness comes from: a whole number in [0, 2**32 - 1], or a numpy Generator to draw from
    (scikit-learn's estimators hand one down from their random_state)."""

    description = "a whole number in [0, 4294967295] or a numpy.random.Generator"

    def accepts(self, value) -> bool:
        return isinstance(value, np.random.Generator) or Integer(0, 2**32 - 1).accepts(value)


@dataclass(frozen=True)
class InstanceOf(Constraint):
    """An object of one class (or None, when allowed)."""

    kind: type
    name: str
    allow_none: bool = False

    def accepts(self, value) -> bool:
        return isinstance(value, self.kind) or (self.allow_none and value is None)

    @property
    def description(self) -> str:
        return self.name + (" or None" if self.allow_none else "")


@dataclass(frozen=True)
class Real(Constraint):
    """A finite real number (int, float or numpy number, not a string or True/False) in its range."""

    low: float | None = None
    high: float | None = None
    exclusive_low: bool = False
    exclusive_high: bool = False

    def accepts(self, value) -> bool:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            return False
        value = float(value)
        if not math.isfinite(value):
            return False
        if self.low is not None and (value <= self.low if self.exclusive_low else value < self.low):
            return False
        return self.high is None or (value < self.high if self.exclusive_high else value <= self.high)

    @property
    def description(self) -> str:
        return "a finite number" + _range_text(self.low, self.high, self.exclusive_low, self.exclusive_high)


@dataclass(frozen=True)
class OneOf(Constraint):
    """One of the given names (strings compared exactly: no fallback for an unknown one)."""

    options: tuple

    def accepts(self, value) -> bool:
        return isinstance(value, str) and value in self.options

    @property
    def description(self) -> str:
        return "one of " + ", ".join(map(str, self.options))


@dataclass(frozen=True)
class Sizes(Constraint):
    """A network's layer sizes: a list or tuple of 2 to MAX_LAYERS whole numbers, each 1 to
    MAX_LAYER_SIZE, with at most MAX_PARAMETERS weights and biases between them."""

    description = (f"a list of 2 to {MAX_LAYERS} layer sizes (input first), each 1 to {MAX_LAYER_SIZE:,} "
                   f"neurons, with at most {MAX_PARAMETERS:,} weights and biases in all")

    def accepts(self, value) -> bool:
        return self.why_not(value) is None

    def why_not(self, value) -> str | None:
        """What is wrong with `value` as layer sizes, in words, or None."""
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple, np.ndarray)):
            return f"must be a list of layer sizes, not {_shown(value)}"
        if not 2 <= len(value) <= MAX_LAYERS:
            return f"has {len(value)} layers; a network has 2 to {MAX_LAYERS} (input and output included)"
        for n in value:
            if not Integer(1, MAX_LAYER_SIZE).accepts(n):
                return f"holds {_shown(n)}; each layer is a whole number of 1 to {MAX_LAYER_SIZE:,} neurons"
        if parameter_count(value) > MAX_PARAMETERS:
            return (f"make {parameter_count(value):,} weights and biases; at most {MAX_PARAMETERS:,} "
                    f"(a {MAX_PARAMETERS * 4 // 10**6:,} MB model file)")
        return None


def parameter_count(layer_sizes) -> int:
    """Weights and biases of a fully connected network with these layer sizes (Python ints: no overflow)."""
    sizes = [int(n) for n in layer_sizes]
    return sum((n_in + 1) * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))


def _range_text(low, high, exclusive_low, exclusive_high) -> str:
    if low is not None and high is not None:
        return f" in {'(' if exclusive_low else '['}{low}, {high}{')' if exclusive_high else ']'}"
    if low is not None:
        return f" {'>' if exclusive_low else '>='} {low}"
    if high is not None:
        return f" {'<' if exclusive_high else '<='} {high}"
    return ""


def _short(value) -> str:
    text = "-".join(map(str, value)) if isinstance(value, (list, tuple)) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _shown(value) -> str:
    """The value as the error shows it: short, escaped, with its type when that is the mistake."""
    text = repr(value)
    text = text if len(text) <= 60 else text[:57] + "..."
    return f"{printable(text)} ({type(value).__name__})"


def check_parameters(where: str, constraints: dict[str, Constraint], **values) -> None:
    """Raise DigitnetError naming `where` and the first parameter whose value its constraint refuses."""
    for name, value in values.items():
        constraint = constraints[name]
        if isinstance(constraint, Sizes):
            problem = constraint.why_not(value)
            if problem is not None:
                raise DigitnetError(f"{where}: layer sizes {printable(_short(value))} {problem}")
        elif not constraint.accepts(value):
            raise DigitnetError(f"{where}: {name} must be {constraint.description}, not {_shown(value)}")


def available_memory_bytes() -> int | None:
    """Memory this process can still get: the least of what the system can give without swapping
    (Linux's MemAvailable), the process's address-space limit (`ulimit -v`) less what it uses, and
    its container's limit (cgroup v2 memory.max) less what the container uses. None if unknown."""
    limits = []
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            limits += [int(line.split()[1]) * 1024 for line in meminfo if line.startswith("MemAvailable:")]
    except (OSError, ValueError, IndexError):
        pass
    try:
        import resource
        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft != resource.RLIM_INFINITY:
            with open("/proc/self/statm", encoding="ascii") as statm:
                used = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
            limits.append(max(soft - used, 0))
    except (ImportError, OSError, ValueError, IndexError):
        pass
    try:
        with open("/sys/fs/cgroup/memory.max", encoding="ascii") as limit_file:
            limit = limit_file.read().strip()
        if limit != "max":
            with open("/sys/fs/cgroup/memory.current", encoding="ascii") as current:
                limits.append(max(int(limit) - int(current.read()), 0))
    except (OSError, ValueError):
        pass
    return min(limits) if limits else None


def check_memory(needed_bytes: int, what: str) -> None:
    """Refuse, before allocating it, work that needs more memory than the machine has available."""
    available = available_memory_bytes()
    if available is not None and needed_bytes > available:
        raise DigitnetError(f"{what} needs about {needed_bytes / 1e9:,.1f} GB of memory and this machine has "
                            f"{available / 1e9:,.1f} GB available; use a smaller one")
