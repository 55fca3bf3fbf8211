"""The neuron lab's math: change a trained network by hand and see what the change does.

The video invites it ("what if the weights were all zero except in this region?", "add a bias of
-10 so it fires only when the weighted sum is above 10"). An edit names one neuron by the video's
numbering (layer 0 is the input, layer 1 the first hidden layer, ..., the last the outputs) and
says what to do to it:

    bias     b_i = value                       its threshold
    scale    W[i, :] *= factor                 how strongly it listens to the layer before
    weights  W[i, :] = weights                 its incoming weights, e.g. a painted 28x28 picture
    off      a_i = 0 for every input           it passes nothing on

`apply_edits` returns an edited copy; the original network (and its file) is never changed. `off`
is done with numbers a model file can hold: incoming weights 0, the bias whose squish is 0
(OFF_BIAS), outgoing weights 0. Edits apply in list order, `off` ones last, so a switched-off
neuron stays off whatever else the list says.

`EditEffect` compares the edited network's answers on the test set with the original's
(`FastAnswers` gets them within a frame), and `save_edited_model` writes the edited network as a
new file (never over an existing one).
"""

from __future__ import annotations

import errno
import hashlib
import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import DigitnetError
from .files import read_bytes
from .modelfile import MAX_MODEL_BYTES, Model, save_model
from .network import Network

EDIT_KINDS = ("bias", "scale", "weights", "off")
MAX_BIAS = 1000.0     # |value| of a bias edit: the trained network's biases are below 3
MAX_FACTOR = 100.0    # |factor| of a scale edit
MAX_WEIGHT = 100.0    # |weight| of a weights edit: the trained network's are below 5
MAX_EDITS = 1000      # edits in one list: a page keeps about one per neuron and kind
# The bias that makes a neuron with zero incoming weights give a = 0: sigmoid(-10000) and
# softmax's e^(-10000 - max) are exactly 0 in float32; relu(0) = tanh(0) = 0.
OFF_BIAS = {"sigmoid": -10_000.0, "softmax": -10_000.0, "relu": 0.0, "tanh": 0.0}
FIELD_OF_KIND = {"bias": "value", "scale": "factor", "weights": "weights", "off": None}


class NameTakenError(DigitnetError):
    """save_edited_model was given the name of a file that exists (it never overwrites one)."""


@dataclass(frozen=True)
class Edit:
    """One change to one neuron: `Edit("bias", layer=1, neuron=3, value=-10.0)`.

    kind:    one of EDIT_KINDS (see the module docstring)
    layer:   1..last layer (0, the input, has no weights or bias)
    neuron:  0-based within its layer
    value:   the new bias, for kind "bias" (|value| <= MAX_BIAS)
    factor:  the weights' multiplier, for kind "scale" (|factor| <= MAX_FACTOR)
    weights: the new incoming weights, for kind "weights": one per neuron of layer - 1 (784 for
             layer 1: the neuron's picture row by row), each |w| <= MAX_WEIGHT
    Only the field its kind needs may be given. Whether layer and neuron exist is checked against
    a network by `check_edits`.
    """

    kind: str
    layer: int
    neuron: int
    value: float | None = None
    factor: float | None = None
    weights: tuple[float, ...] | None = None

    def __post_init__(self):
        if not isinstance(self.kind, str) or self.kind not in EDIT_KINDS:
            raise DigitnetError(f"kind {self.kind!r}: choose one of {', '.join(EDIT_KINDS)}")
        for name in ("layer", "neuron"):
            number = getattr(self, name)
            if not isinstance(number, int) or isinstance(number, bool):
                raise DigitnetError(f"{name} {number!r}: need a whole number")
        if self.layer < 1:
            raise DigitnetError(f"layer {self.layer}: layer 0 is the input and has no weights or bias; edit layer 1 or later")
        if self.neuron < 0:
            raise DigitnetError(f"neuron {self.neuron}: neurons are numbered from 0")
        needed = FIELD_OF_KIND[self.kind]
        for name in ("value", "factor", "weights"):
            if name != needed and getattr(self, name) is not None:
                raise DigitnetError(f"a {self.kind!r} edit takes no {name}"
                                    + (f" (give {needed})" if needed else ""))
        if needed is not None and getattr(self, needed) is None:
            raise DigitnetError(f"a {self.kind!r} edit needs {needed}")
        if self.kind in ("bias", "scale"):
            _check_number(needed, getattr(self, needed), MAX_BIAS if self.kind == "bias" else MAX_FACTOR)
            object.__setattr__(self, needed, float(getattr(self, needed)))  # JSON-able, whatever came in
        elif self.kind == "weights":
            if isinstance(self.weights, (str, bytes)) or not hasattr(self.weights, "__len__"):
                raise DigitnetError(f"weights: need a list of numbers, not {type(self.weights).__name__}")
            weights = tuple(self.weights)
            for i, weight in enumerate(weights):
                _check_number(f"weights[{i}]", weight, MAX_WEIGHT)
            object.__setattr__(self, "weights", tuple(float(w) for w in weights))

    def to_json(self) -> dict:
        """The edit as the JSON object the explorer sends (and a saved file records)."""
        result = {"kind": self.kind, "layer": self.layer, "neuron": self.neuron}
        if FIELD_OF_KIND[self.kind]:
            value = getattr(self, FIELD_OF_KIND[self.kind])
            result[FIELD_OF_KIND[self.kind]] = list(value) if self.kind == "weights" else value
        return result


def _check_number(name: str, value, limit: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise DigitnetError(f"{name} {value!r}: need a number")
    if not math.isfinite(value):
        raise DigitnetError(f"{name} {value!r}: need a finite number")
    if abs(value) > limit:
        raise DigitnetError(f"{name} {value!r}: must be between {-limit:g} and {limit:g}")


def edits_from_json(items) -> list[Edit]:
    """A JSON list of edit objects (`Edit.to_json`'s form) -> Edits; a mistake names the edit:
    `edits[2]: a 'bias' edit needs value`."""
    if not isinstance(items, list):
        raise DigitnetError(f"edits: need a list of edit objects, not {type(items).__name__}")
    if len(items) > MAX_EDITS:
        raise DigitnetError(f"edits: {len(items)} edits is too many (limit {MAX_EDITS})")
    edits = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise DigitnetError(f"edits[{i}]: need an object such as {{\"kind\": \"off\", \"layer\": 1, \"neuron\": 0}}")
        unknown = set(item) - {"kind", "layer", "neuron", "value", "factor", "weights"}
        if unknown:
            raise DigitnetError(f"edits[{i}]: unknown field {sorted(unknown)[0]!r}")
        missing = [name for name in ("kind", "layer", "neuron") if name not in item]
        if missing:
            raise DigitnetError(f"edits[{i}]: missing {missing[0]}")
        try:
            edits.append(Edit(**item))
        except DigitnetError as error:
            raise DigitnetError(f"edits[{i}]: {error}") from None
    return edits


def check_edits(network: Network, edits: list[Edit]) -> None:
    """Every edit's layer and neuron exist in `network`, and weights edits have the right length;
    a DigitnetError naming the first edit that does not fit otherwise."""
    last = len(network.layer_sizes) - 1
    if len(edits) > MAX_EDITS:
        raise DigitnetError(f"edits: {len(edits)} edits is too many (limit {MAX_EDITS})")
    for i, edit in enumerate(edits):
        if not isinstance(edit, Edit):
            raise DigitnetError(f"edits[{i}]: {type(edit).__name__} is not an Edit (for JSON objects use edits_from_json)")
        if edit.layer > last:
            raise DigitnetError(f"edits[{i}]: layer {edit.layer} does not exist: this network has layers 1-{last} "
                                f"after the input")
        size = network.layer_sizes[edit.layer]
        if edit.neuron >= size:
            raise DigitnetError(f"edits[{i}]: layer {edit.layer} has neurons 0-{size - 1}, not {edit.neuron}")
        n_in = network.layer_sizes[edit.layer - 1]
        if edit.kind == "weights" and len(edit.weights) != n_in:
            raise DigitnetError(f"edits[{i}]: a neuron of layer {edit.layer} has {n_in} incoming weights, "
                                f"not {len(edit.weights)}")


def apply_edits(network: Network, edits: list[Edit]) -> Network:
    """An edited copy of `network` (same dtype); `network` itself is not changed.

    No edits give an exact copy. Edits apply in list order, `off` edits last (module docstring).
    """
    check_edits(network, edits)
    edited = network.copy()
    last = len(network.weights) - 1
    for edit in edits:
        l, i = edit.layer - 1, edit.neuron  # weights[l] and biases[l] lead into layer l + 1
        if edit.kind == "bias":
            edited.biases[l][i] = edit.value
        elif edit.kind == "scale":
            edited.weights[l][i] *= edited.dtype.type(edit.factor)
        elif edit.kind == "weights":
            edited.weights[l][i] = np.asarray(edit.weights, dtype=edited.dtype)  # (n_in,)
    for edit in edits:
        if edit.kind == "off":
            l, i = edit.layer - 1, edit.neuron
            squish = network.output if l == last else network.activation
            edited.weights[l][i] = 0.0
            edited.biases[l][i] = OFF_BIAS[squish]
            if l < last:
                edited.weights[l + 1][:, i] = 0.0  # its outgoing weights: column i of the next matrix
    return edited


class FastAnswers:
    """One network's answers on a fixed set of images, kept so that edited copies of it are judged in
    a millisecond or two instead of a full pass: the first layer's products `images @ W.T`
    `(n, n_1)` are kept, and for an edited copy only the columns of first-layer neurons whose
    weights changed are computed again (a 10,000 x 784 product is most of a full pass).

    `guesses` `(n,)` are the network's own answers, computed along the same path as `guesses_of`,
    so an edit that changes nothing changes no answer.
    """

    def __init__(self, network: Network, images):
        self.network = network
        self.images = network._as_batch(images)                      # (n, 784)
        self.first_products = self.images @ network.weights[0].T     # (n, n_1), before the bias
        self.guesses = self.guesses_of(network)

    def guesses_of(self, edited: Network) -> np.ndarray:
        """`edited.predict_digit(images)` `(n,)` for a network of the same shape (an edited copy)."""
        if edited.layer_sizes != self.network.layer_sizes:
            raise DigitnetError(f"a {edited.describe()} network is not an edited copy of {self.network.describe()}")
        products = self.first_products
        changed = np.flatnonzero((edited.weights[0] != self.network.weights[0]).any(axis=1))  # first-layer rows
        if len(changed):
            products = products.copy()
            zero = ~edited.weights[0][changed].any(axis=1)  # switched off or erased: the product is 0, no need to multiply
            products[:, changed[zero]] = 0.0
            if not zero.all():
                live = changed[~zero]
                products[:, live] = self.images @ edited.weights[0][live].T  # (n, k) only the edited neurons
        a = edited.activation_of_layer(0)(products + edited.biases[0])  # z = W a + b ; a' = σ(z)  (n, n_1)
        for l in range(1, len(edited.weights)):
            a = edited.activation_of_layer(l)(a @ edited.weights[l].T + edited.biases[l])  # (n, n_l+1)
        return a.argmax(axis=1)


@dataclass(frozen=True)
class EditEffect:
    """What an edit did on a labelled test set of n images.

    accuracy, original_accuracy:            fractions right, after and before
    per_digit_accuracy, per_digit_original: (n_digits,) the same per true digit (NaN for a digit
                                            with no images); per_digit_count (n_digits,)
    changed:                                (k,) indices (ascending) whose answer changed
    old_guesses, new_guesses, labels:       (k,) for those images
    fixed_count / broken_count:             wrong before and right now / right before and wrong now
    """

    accuracy: float
    original_accuracy: float
    correct: int
    total: int
    per_digit_accuracy: np.ndarray
    per_digit_original: np.ndarray
    per_digit_count: np.ndarray
    changed: np.ndarray
    old_guesses: np.ndarray
    new_guesses: np.ndarray
    labels: np.ndarray
    fixed_count: int
    broken_count: int


def edit_effect(labels: np.ndarray, original_guesses: np.ndarray, new_guesses: np.ndarray,
                n_digits: int = 10) -> EditEffect:
    """Compare two networks' guesses `(n,)` on images whose true digits are `labels` `(n,)`."""
    labels, original_guesses, new_guesses = (np.asarray(x) for x in (labels, original_guesses, new_guesses))
    if not labels.shape == original_guesses.shape == new_guesses.shape or labels.ndim != 1:
        raise DigitnetError(f"labels {labels.shape} and guesses {original_guesses.shape}, {new_guesses.shape}: "
                            f"need three arrays of the same length")
    right_before, right_now = original_guesses == labels, new_guesses == labels  # (n,)
    counts = np.bincount(labels, minlength=n_digits)[:n_digits]
    with np.errstate(invalid="ignore", divide="ignore"):
        per_now = np.bincount(labels, weights=right_now, minlength=n_digits)[:n_digits] / counts
        per_before = np.bincount(labels, weights=right_before, minlength=n_digits)[:n_digits] / counts
    changed = np.flatnonzero(original_guesses != new_guesses)
    total = len(labels)
    return EditEffect(
        accuracy=float(right_now.mean()) if total else 0.0,
        original_accuracy=float(right_before.mean()) if total else 0.0,
        correct=int(right_now.sum()), total=total,
        per_digit_accuracy=per_now, per_digit_original=per_before, per_digit_count=counts,
        changed=changed, old_guesses=original_guesses[changed], new_guesses=new_guesses[changed],
        labels=labels[changed],
        fixed_count=int((~right_before & right_now).sum()), broken_count=int((right_before & ~right_now).sum()))


def save_edited_model(path: str | Path, model: Model, edits: list[Edit], test_accuracy: float | None = None) -> Path:
    """Write `model`'s network with `edits` applied to `path`, a new file: an existing file is never
    replaced (NameTakenError, also when another save takes the name at the same moment), and no half-written file is left whatever stops the write.

    The metadata keeps the original's and adds `edited_from` (its file name and SHA-256), `edits`
    (Edit.to_json of each), `test_accuracy` (if given) and `original_test_accuracy`.
    """
    path = Path(path)
    if not edits:
        raise DigitnetError(f"{path}: no edits to save; change a neuron first")
    edited = apply_edits(model.network, edits)
    metadata = {key: value for key, value in model.metadata.items()
                if key not in ("test_accuracy", "edited_from", "edits", "original_test_accuracy")}
    metadata["edited_from"] = {"file": model.path.name if model.path else None, "sha256": _sha256(model.path)}
    metadata["edits"] = [edit.to_json() for edit in edits]
    metadata["original_test_accuracy"] = model.metadata.get("test_accuracy")
    if test_accuracy is not None:
        metadata["test_accuracy"] = float(test_accuracy)
    folder = path.parent
    try:
        if not folder.is_dir():
            raise DigitnetError(f"{path}: folder {folder} does not exist")
        if path.exists():
            raise NameTakenError(f"{path}: a file of that name exists; choose another name (it is never overwritten)")
        fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
        os.close(fd)
        os.chmod(temp_name, 0o644)  # save_model keeps this mode; mkstemp's 0600 would hide the model from others
        try:
            save_model(temp_name, edited, metadata)  # itself atomic: the temp file is whole or absent
            _link_new(Path(temp_name), path)
        finally:
            Path(temp_name).unlink(missing_ok=True)
    except OSError as error:
        raise DigitnetError(f"{path}: cannot write ({error.strerror or error})") from None
    return path


def _link_new(source: Path, target: Path) -> None:
    """Give the whole file `source` the name `target` only if no file has it: os.link refuses an
    existing name in one step, so two saves of one name at once cannot overwrite each other."""
    try:
        os.link(source, target)
    except FileExistsError:
        raise NameTakenError(f"{target}: a file of that name exists; choose another name (it is never overwritten)") \
            from None
    except OSError as error:
        if error.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
            raise
        # A file system without hard links (FAT, some network shares): check, then rename in one step.
        if target.exists():
            raise NameTakenError(f"{target}: a file of that name exists; choose another name") from None
        os.replace(source, target)


def _sha256(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return hashlib.sha256(read_bytes(path, MAX_MODEL_BYTES, "model file")).hexdigest()
    except DigitnetError:  # gone or unreadable since it was loaded: the name alone is recorded
        return None
