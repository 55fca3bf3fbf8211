"""Routes about models and what is inside them: which network, one neuron, one layer's matrix,
MNIST test images with the model's guesses.

    GET  /api/model                what network is loaded, how it was trained, which files to switch to
    POST /api/model/select         load a model file of the models folder (for ?model= on later calls)
    GET  /api/neuron/{layer}/{i}   one neuron's bias and incoming weights
    GET  /api/layer/{layer}        a whole layer's W and b, for the matrix view
    GET  /api/examples?count=24    MNIST test images, with the model's guesses (some wrong)
"""

from __future__ import annotations

import numpy as np
from fastapi import APIRouter, HTTPException, Query

from ..modelfile import SHIPPED_MODEL_FILES, Model, history_records, is_number
from .formatting import rounded, squish
from .schemas import EpochRecord, Example, Examples, Layer, ModelInfo, Neuron, SelectModelRequest, TrainingSummary
from .state import MODEL_QUERY, ExplorerState

MAX_EXAMPLES = 100
MAX_MATRIX_NUMBERS = 500_000  # weights in one /api/layer answer (~5 MB of JSON; the video's layer 1: 12,544)


def model_routes(state: ExplorerState) -> APIRouter:
    """The routes above, answering from `state`."""
    router = APIRouter()

    @router.get("/api/model", response_model=ModelInfo, summary="The network and its training")
    def model_info(model: str | None = MODEL_QUERY) -> ModelInfo:
        return _model_info(state.model(model), state.model_files(), model)

    @router.post("/api/model/select", response_model=ModelInfo,
              summary="Load a file of the models folder; name it as ?model= on later calls")
    def select_model(request: SelectModelRequest) -> ModelInfo:
        return _model_info(state.model(request.name), state.model_files(), request.name)  # a bad file: 422

    @router.get("/api/neuron/{layer}/{index}", response_model=Neuron, summary="One neuron's bias and incoming weights")
    def neuron(layer: int, index: int, model: str | None = MODEL_QUERY) -> Neuron:
        network = state.model(model).network
        l = _check_layer(network, layer)
        if not 0 <= index < network.layer_sizes[layer]:
            raise HTTPException(404, f"layer {layer} has neurons 0-{network.layer_sizes[layer] - 1}, not {index}")
        return Neuron(layer=layer, index=index, squish=squish(network, layer), bias=float(network.biases[l][index]),
                      weights=rounded(network.weights[l][index]))

    @router.get("/api/layer/{layer}", response_model=Layer, summary="A layer's weight matrix W and biases b")
    def layer_matrix(layer: int, model: str | None = MODEL_QUERY,
                     row_start: int = Query(0, ge=0, le=2**31, description="the first neuron (row of W) to send")) -> Layer:
        network = state.model(model).network
        l = _check_layer(network, layer)
        n_out, n_in = network.weights[l].shape
        if row_start >= n_out:
            raise HTTPException(404, f"layer {layer} has neurons 0-{n_out - 1}: row_start {row_start} is past them")
        # A 784-65536-10 layer would be 51 million numbers (~480 MB of JSON): send it in parts.
        rows = slice(row_start, min(n_out, row_start + max(1, MAX_MATRIX_NUMBERS // n_in)))
        return Layer(layer=layer, squish=squish(network, layer), row_start=row_start, total_rows=n_out,
                     weights=[rounded(row) for row in network.weights[l][rows]], biases=rounded(network.biases[l][rows]))

    @router.get("/api/examples", response_model=Examples, summary="MNIST test images with the model's guesses")
    def examples(count: int = Query(24, ge=1, le=MAX_EXAMPLES, description="how many images"),
                 start: int = Query(0, ge=0, le=9_999, description="search from this test image on"),
                 model: str | None = MODEL_QUERY) -> Examples:
        images, labels = state.test_set()
        guesses = state.test_guesses(state.model(model))
        chosen = _choose_examples(labels, guesses, count, start)
        return Examples(examples=[
            Example(index=int(i), label=int(labels[i]), guess=int(guesses[i]), correct=bool(labels[i] == guesses[i]),
                    pixels=np.rint(images[i] * 255).astype(int).tolist()) for i in chosen])

    return router


def _check_layer(network, layer: int) -> int:
    """Layer number 1..L (0 is the input) -> index into weights/biases; 404 otherwise."""
    last = len(network.layer_sizes) - 1
    if layer == 0:
        raise HTTPException(404, f"layer 0 is the input: its pixels have no weights or bias; ask for layers 1-{last}")
    if not 1 <= layer <= last:
        raise HTTPException(404, f"layer {layer} does not exist: this network has layers 1-{last} after the input")
    return layer - 1


def _choose_examples(labels: np.ndarray, guesses: np.ndarray, count: int, start: int) -> list[int]:
    """`count` test indices from `start` on: the digits 0-9 in turn, and every fourth one the model gets wrong."""
    order = np.roll(np.arange(len(labels)), -start)  # (n,) test indices, from `start`, wrapping around
    right = labels[order] == guesses[order]
    wrong = iter(order[~right][:max(1, count // 4)].tolist())
    right_by_digit = [iter(order[right & (labels[order] == d)].tolist()) for d in range(10)]
    chosen, digit = [], 0
    while len(chosen) < count and digit < count + 10 * count:
        pick = next(wrong, None) if len(chosen) % 4 == 3 else None
        if pick is None:
            pick = next(right_by_digit[digit % 10], None)
            digit += 1
        if pick is not None:
            chosen.append(pick)
    return chosen


def _model_info(model: Model, files: list[str] | None, asked: str | None = None) -> ModelInfo:
    """What the page shows of `model`, named as the page asked for it if that was a shipped name."""
    network, meta = model.network, model.metadata
    name = asked if asked in SHIPPED_MODEL_FILES else model.path.name if model.path else "model"
    squishes = ["input"] + [squish(network, layer) for layer in range(1, len(network.layer_sizes))]
    return ModelInfo(name=name, layer_sizes=list(network.layer_sizes),
                     layer_activations=squishes, activation=network.activation, output=network.output,
                     parameter_count=network.parameter_count, description=network.describe(),
                     training=_training_summary(meta), deskews=model.deskews, models=files)


def _training_summary(meta: dict) -> TrainingSummary | None:
    """The file's metadata (untrusted JSON) -> what the page shows; odd values are left out."""
    history = [EpochRecord(**record) for record in history_records(meta)]
    settings = meta.get("training")
    if not history and not isinstance(settings, dict):
        return None
    best_epoch = meta.get("best_epoch") if _is_integer(meta.get("best_epoch")) else None
    best = [r.validation_accuracy for r in history if r.epoch == best_epoch] or \
        [max((r.validation_accuracy for r in history if r.validation_accuracy is not None), default=None)]
    settings = {key: value for key, value in (settings if isinstance(settings, dict) else {}).items()
                if isinstance(value, (str, bool)) or value is None or is_number(value)}
    return TrainingSummary(epochs=len(history), best_epoch=best_epoch, best_validation_accuracy=best[0],
                           test_accuracy=meta["test_accuracy"] if is_number(meta.get("test_accuracy")) else None,
                           settings=settings, history=history)


def _is_integer(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**53
