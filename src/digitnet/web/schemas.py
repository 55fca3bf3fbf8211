"""The explorer's JSON, as pydantic models: what each endpoint takes and gives back.

Layers are numbered as the video counts them: layer 0 is the input (784 pixels), layer 1 the first
hidden layer, ..., the last layer the 10 outputs. `weights[l - 1]` and `biases[l - 1]` lead *into*
layer l, so only layers 1 and up have a neuron page and a matrix.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from ..modelfile import SHIPPED_MODEL_FILES

# A pixel as the network sees it: a real number in [0, 1]. Strict, so "0.5" (a string) and true
# are refused rather than silently converted; finite, so NaN and Infinity are refused too.
Pixel = Annotated[float, Field(strict=True, ge=0.0, le=1.0, allow_inf_nan=False)]


class PredictRequest(BaseModel):
    """A drawing to run through the network: give exactly one of `image` or `pixels`."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"image": "data:image/png;base64,iVBORw0KGgo..."}, {"pixels": [0.0] * 4}]})

    image: str | None = Field(
        None, description="A picture of a digit: a data URL `data:image/png;base64,...` (as a canvas's "
                          "toDataURL gives) or bare base64 of a PNG/JPEG file. It is turned into the "
                          "network's input by digitnet.preprocess.to_network_input, as the CLI does.")
    pixels: list[Pixel] | None = Field(
        None, min_length=784, max_length=784,
        description="The input itself, already prepared: 784 brightnesses in [0, 1], row by row of a 28x28 "
                    "image, ink bright (1.0) on black (0.0), like MNIST.")
    as_seen: bool = Field(False, description="the pixels are already the network's own input (a dream, say): "
                                             "not deskewed again for a model that deskews (ModelInfo.deskews)")


class Familiarity(BaseModel):
    """How far an input is from the digits the network learned from (digitnet.familiarity): the
    network answers with a digit whatever it is shown; this says when the answer means little."""

    score: float = Field(description="distance to the nearest of MNIST's 50,000 training digits (both blurred, "
                                     "14x14), in units of the threshold: below 1 looks like a digit")
    is_far: bool = Field(description="score > threshold: unlike any training digit (an X, a smiley, a dot)")
    threshold: float = Field(1.0, description="where far starts (98% of unseen MNIST digits score below it)")


class Prediction(BaseModel):
    """Everything the network computed for one input."""

    input: list[float] = Field(description="(784,) the input the network saw, row by row of 28x28")
    weighted_sums: list[list[float]] = Field(description="z of every layer after the input: z = W a + b")
    activations: list[list[float]] = Field(description="a of every layer, input first: a' = squish(z)")
    digit: int = Field(description="the guess: the brightest output neuron")
    probabilities: list[float] = Field(description="(10,) the outputs scaled to sum to 1")
    familiarity: Familiarity | None = Field(None, description="how far the input is from the training digits "
                                                              "(null for a model whose inputs are not 28x28)")


class EpochRecord(BaseModel):
    epoch: int
    loss: float | None = None
    train_accuracy: float | None = None
    validation_accuracy: float | None = None
    seconds: float | None = None


class TrainingSummary(BaseModel):
    epochs: int = Field(description="epochs run")
    best_epoch: int | None = Field(None, description="the epoch whose weights were kept (best validation accuracy)")
    best_validation_accuracy: float | None = None
    test_accuracy: float | None = Field(None, description="on MNIST's 10,000 test images, measured once after training")
    settings: dict[str, Any] = Field(default_factory=dict, description="how it was trained (learning rate, ...)")
    history: list[EpochRecord] = Field(default_factory=list)


class ModelInfo(BaseModel):
    name: str = Field(description="the model file's name")
    layer_sizes: list[int] = Field(description="neurons per layer, input first: [784, 16, 16, 10] is the video's")
    layer_activations: list[str] = Field(description="each layer's squish, input first (the input has none: 'input')")
    activation: str = Field(description="hidden layers' squish: sigmoid, relu or tanh")
    output: str = Field(description="output layer's squish: sigmoid or softmax")
    parameter_count: int = Field(description="weights and biases together (13,002 for the video's network)")
    description: str
    training: TrainingSummary | None = Field(None, description="absent if the file records no training")
    deskews: bool = Field(False, description="the network learned on deskewed digits (digitnet.deskew), so every "
                                             "input is deskewed before it: predict's `input` shows it so")
    models: list[str] | None = Field(
        None, description="the *.safetensors files of the models folder, to switch between; null if the "
                          "server was started without one")
    shipped: list[str] = Field(default_factory=lambda: list(SHIPPED_MODEL_FILES),
                               description="the models shipped with digitnet, by name (video, record, strong): "
                                           "?model=NAME or /api/model/select opens them, with or without a folder")


class SelectModelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=255, description="a file name from ModelInfo.models, or a "
                                                                "shipped model's name from ModelInfo.shipped")


class Neuron(BaseModel):
    layer: int = Field(description="1 = first hidden layer, ..., last = output")
    index: int
    squish: str = Field(description="the activation function of its layer")
    bias: float
    weights: list[float] = Field(description="(n_in,) weights from every neuron of layer - 1; for layer 1, a "
                                             "28x28 picture row by row")


class Layer(BaseModel):
    layer: int
    squish: str
    weights: list[list[float]] = Field(description="W: (n_out, n_in), row i holds the weights into neuron i; only "
                                                   "rows row_start.. of it when the layer is too large for one answer")
    biases: list[float] = Field(description="b: (n_out,), the same rows as weights")
    row_start: int = Field(0, description="the first neuron (row of W) in this answer")
    total_rows: int = Field(0, description="n_out: the layer's neurons in all; ask again with row_start for more")


class Example(BaseModel):
    index: int = Field(description="position in MNIST's test set (0-9999)")
    label: int = Field(description="the digit it really is")
    guess: int = Field(description="the digit the current model says it is")
    correct: bool
    pixels: list[int] = Field(description="(784,) brightness 0-255, row by row of 28x28; divide by 255 for the "
                                          "network's input")


class Examples(BaseModel):
    examples: list[Example]
