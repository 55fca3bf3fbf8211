"""The neuron lab's JSON (routes_neurons.py), as pydantic models; docs/neuron-lab-api.md explains it.

An edit's types and ranges are checked here (strict numbers: no strings, no NaN); whether its layer
and neuron exist in the model a request names is checked by digitnet.editing.check_edits.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field

from ..editing import MAX_BIAS, MAX_EDITS, MAX_FACTOR, MAX_WEIGHT, Edit
from ..modelfile import MAX_LAYER_SIZE
from .schemas import Prediction, PredictRequest

Layer = Annotated[int, Field(strict=True, ge=1, le=64, description="1 = first hidden layer, ..., last = output")]
NeuronIndex = Annotated[int, Field(strict=True, ge=0, lt=MAX_LAYER_SIZE, description="0-based within its layer")]


def _number(limit: float, description: str):
    return Annotated[float, Field(strict=True, ge=-limit, le=limit, allow_inf_nan=False, description=description)]


class _EditBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    layer: Layer
    neuron: NeuronIndex


class BiasEdit(_EditBase):
    kind: Literal["bias"]
    value: _number(MAX_BIAS, "the neuron's new bias b")


class ScaleEdit(_EditBase):
    kind: Literal["scale"]
    factor: _number(MAX_FACTOR, "multiplies the neuron's incoming weights")


class WeightsEdit(_EditBase):
    kind: Literal["weights"]
    weights: list[_number(MAX_WEIGHT, "a weight")] = Field(
        min_length=1, max_length=MAX_LAYER_SIZE,
        description="the neuron's new incoming weights, one per neuron of layer - 1 (784 for layer 1: its "
                    "28x28 picture, row by row)")


class OffEdit(_EditBase):
    kind: Literal["off"]


EditItem = Annotated[Union[BiasEdit, ScaleEdit, WeightsEdit, OffEdit], Field(discriminator="kind")]
EDITS_FIELD = Field(default_factory=list, max_length=MAX_EDITS,
                    description="the page's edits (none: the trained network); applied in order, 'off' ones last")


def to_edits(items: list[EditItem]) -> list[Edit]:
    """The request's edits as digitnet.editing.Edit objects."""
    return [Edit(**item.model_dump()) for item in items]


class EditsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    edits: list[EditItem] = EDITS_FIELD


class LabPredictRequest(PredictRequest):
    """A drawing (exactly one of `image` or `pixels`, as for /api/predict) and the page's edits."""

    edits: list[EditItem] = EDITS_FIELD


class LabPrediction(Prediction):
    """/api/predict's answer for the edited network, and the trained network's guess beside it."""

    original_digit: int = Field(description="the trained (unedited) network's guess")
    original_probabilities: list[float] = Field(description="(10,) the trained network's probabilities")


class DigitAccuracy(BaseModel):
    digit: int
    count: int = Field(description="test images of this digit")
    accuracy: float | None = Field(description="fraction of them the edited network gets right")
    original_accuracy: float | None
    change: float | None = Field(description="accuracy - original_accuracy")


class ChangedAnswer(BaseModel):
    index: int = Field(description="position in MNIST's test set (0-9999)")
    label: int = Field(description="the digit it really is")
    old_guess: int = Field(description="the trained network's answer")
    new_guess: int = Field(description="the edited network's answer")


class Evaluation(BaseModel):
    accuracy: float = Field(description="the edited network's test accuracy (0..1)")
    original_accuracy: float
    correct: int
    total: int
    per_digit: list[DigitAccuracy]
    changed_count: int = Field(description="test images whose answer the edits changed")
    fixed_count: int = Field(description="wrong before, right now")
    broken_count: int = Field(description="right before, wrong now")
    changed: list[ChangedAnswer] = Field(description="the changed images by index, at most 1000")
    changed_truncated: bool


class MnistImage(BaseModel):
    index: int
    label: int
    pixels: list[int] = Field(description="(784,) brightness 0-255, row by row of 28x28")


class MnistImages(BaseModel):
    images: list[MnistImage]


class SaveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100,
                      description="a plain file name for the models folder, e.g. edge-detector.safetensors")
    edits: list[EditItem] = EDITS_FIELD


class Saved(BaseModel):
    name: str = Field(description="the new file's name in the models folder: use it as ?model=")
    models: list[str] = Field(description="the models folder's files now")
    test_accuracy: float
    edit_count: int


class ProbeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    layer: Layer
    neuron: NeuronIndex
    count: int = Field(9, strict=True, ge=1, le=100, description="images at each end")
    average_of: int = Field(100, strict=True, ge=1, le=10_000, description="how many top images to average")
    edits: list[EditItem] = EDITS_FIELD


class ProbedImage(MnistImage):
    weighted_sum: float = Field(description="the neuron's z for this image")
    activation: float = Field(description="the neuron's a for this image")


class Probe(BaseModel):
    layer: int
    neuron: int
    most_exciting: list[ProbedImage] = Field(description="largest z first")
    least_exciting: list[ProbedImage] = Field(description="smallest z first")
    average_of_top: list[float] = Field(description="(784,) the mean of the `average_count` most exciting images")
    average_count: int
    label_counts_of_top: list[int] = Field(description="(10,) how many of those are each digit")


class DreamRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    digit: int = Field(strict=True, ge=0, description="the output neuron to excite")
    steps: int = Field(300, strict=True, ge=1, le=2000, description="gradient ascent steps")
    edits: list[EditItem] = EDITS_FIELD


class Dream(BaseModel):
    digit: int
    pixels: list[float] = Field(description="(784,) the dreamt input, 0..1")
    probabilities: list[float] = Field(description="what the network makes of it")
    guess: int


class ExplainRequest(LabPredictRequest):
    digit: int | None = Field(None, strict=True, ge=0, description="the output to explain; default: the guess")


class Explanation(BaseModel):
    digit: int
    input: list[float] = Field(description="(784,) the input explained")
    contributions: list[float] = Field(description="(784,) pixel x dz_digit/dpixel: + pushed the digit up, - down")
    largest: float = Field(description="max |contribution| (0 for a dark input), for the colour scale")
