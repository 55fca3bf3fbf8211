"""The neuron lab's routes: edit neurons by hand and see what it does, probe what a neuron responds
to, dream and explain (docs/neuron-lab-api.md is the page's contract).

    POST /api/lab/predict       a drawing through the edited network: every z and a, the guess
    POST /api/lab/evaluate      the edited network on MNIST's 10,000 test images, against the original
    GET  /api/lab/test-images   test images by index (the ones whose answer changed, say)
    POST /api/lab/save          the edited network as a new file of the models folder
    POST /api/lab/probe         the test images a neuron likes most and least, and their average
    POST /api/lab/dream         the input that excites an output neuron most
    POST /api/lab/explain       which pixels pushed an answer up or down

Edits belong to the page that made them: the server keeps none. Each request carries the page's
list, checked at this boundary (schemas_neurons.py for types, editing.check_edits against the
named model) and applied to a copy of the network; the model file never changes.
"""

from __future__ import annotations

import re
import threading

import numpy as np
from fastapi import APIRouter, HTTPException, Query

from ..editing import FastAnswers, NameTakenError, apply_edits, check_edits, edit_effect, save_edited_model
from ..errors import DigitnetError
from ..insight import dream, explain
from ..modelfile import Model
from ..network import Network
from ..probing import probe_neuron
from .formatting import finite_trace, rounded
from .routes_predictions import drawing_input
from .schemas_neurons import (ChangedAnswer, DigitAccuracy, Dream, DreamRequest, EditsRequest, Evaluation,
                              ExplainRequest, Explanation, LabPrediction, LabPredictRequest, MnistImage,
                              MnistImages, Probe, ProbedImage, ProbeRequest, Saved, SaveRequest, to_edits)
from .state import MAX_LOADED_MODELS, MODEL_QUERY, ExplorerState
from .timing import StageTimes

MAX_CHANGED = 1000       # changed answers listed by /api/lab/evaluate (all are counted)
MAX_IMAGES = 100         # test images per /api/lab/test-images call
SUFFIX = ".safetensors"
# A plain file name: no folder separators, no leading dot (no hidden files, no "..").
FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def neuron_routes(state: ExplorerState) -> APIRouter:
    """The routes above, answering from `state`."""
    router = APIRouter()
    # The test set's first-layer products per model (FastAnswers), most recently used last; a model
    # file read again (changed on disk) is a new Model object, so it gets its own.
    answers_of: list[tuple[object, FastAnswers]] = []
    answers_lock = threading.Lock()

    def fast_answers(model) -> FastAnswers:
        with answers_lock:
            for i, (known, answers) in enumerate(answers_of):
                if known is model:
                    answers_of.append(answers_of.pop(i))
                    return answers
        answers = FastAnswers(model.network, state.test_set(model)[0])  # ~10 ms, once per model
        with answers_lock:
            answers_of.append((model, answers))
            del answers_of[:-(MAX_LOADED_MODELS + 1)]
        return answers

    def edited(model_name: str | None, items) -> tuple[Model, Network]:
        """(the named model, its network with the request's edits applied: a copy, or the network
        itself for no edits); a bad edit: 422 naming it."""
        source = state.model(model_name)
        edits = to_edits(items)
        check_edits(source.network, edits)  # DigitnetError -> 422 naming the edit
        return source, (apply_edits(source.network, edits) if edits else source.network)

    def drawing(request, source: Model, network: Network, familiarity: bool = True):
        """-> (the drawing's inputs `(784,)` as `source` reads them, its familiarity or None), refused if
        the network takes other inputs."""
        inputs, familiarity = drawing_input(request, state, StageTimes(), familiarity, source)
        if inputs.shape != (network.layer_sizes[0],):
            raise HTTPException(422, f"this model takes {network.layer_sizes[0]} inputs, not {inputs.size}")
        return inputs, familiarity

    @router.post("/api/lab/predict", response_model=LabPrediction,
                 summary="Run a drawing through the network with the page's edits")
    def lab_predict(request: LabPredictRequest, model: str | None = MODEL_QUERY) -> LabPrediction:
        source, network = edited(model, request.edits)
        original = source.network
        inputs, familiarity = drawing(request, source, network)
        trace, probabilities = finite_trace(network, inputs[np.newaxis], "the edited network")  # batch of one
        probabilities = probabilities[0]  # (10,)
        original_probabilities = finite_trace(original, inputs[np.newaxis], model or "the model")[1][0]
        return LabPrediction(input=rounded(inputs), weighted_sums=[rounded(z[0]) for z in trace.weighted_sums],
                             activations=[rounded(a[0]) for a in trace.activations],
                             digit=int(trace.outputs[0].argmax()), probabilities=rounded(probabilities),
                             original_digit=int(original_probabilities.argmax()),
                             original_probabilities=rounded(original_probabilities),
                             familiarity=familiarity)

    @router.post("/api/lab/evaluate", response_model=Evaluation,
                 summary="The edited network's accuracy on all 10,000 test images, against the original's")
    def evaluate(request: EditsRequest, model: str | None = MODEL_QUERY) -> Evaluation:
        source, network = edited(model, request.edits)
        _, labels = state.test_set()
        answers = fast_answers(source)
        original_guesses = answers.guesses  # (10000,)
        guesses = original_guesses if network is source.network else answers.guesses_of(network)  # (10000,)
        effect = edit_effect(labels, original_guesses, guesses, n_digits=network.layer_sizes[-1])
        per_digit = [DigitAccuracy(digit=d, count=int(effect.per_digit_count[d]),
                                   accuracy=_fraction(effect.per_digit_accuracy[d]),
                                   original_accuracy=_fraction(effect.per_digit_original[d]),
                                   change=_fraction(effect.per_digit_accuracy[d] - effect.per_digit_original[d]))
                     for d in range(len(effect.per_digit_count))]
        shown = slice(0, MAX_CHANGED)
        changed = [ChangedAnswer(index=int(i), label=int(label), old_guess=int(old), new_guess=int(new))
                   for i, label, old, new in zip(effect.changed[shown], effect.labels[shown],
                                                 effect.old_guesses[shown], effect.new_guesses[shown])]
        return Evaluation(accuracy=effect.accuracy, original_accuracy=effect.original_accuracy,
                          correct=effect.correct, total=effect.total, per_digit=per_digit,
                          changed_count=len(effect.changed), fixed_count=effect.fixed_count,
                          broken_count=effect.broken_count, changed=changed,
                          changed_truncated=len(effect.changed) > MAX_CHANGED)

    @router.get("/api/lab/test-images", response_model=MnistImages, summary="MNIST test images by index")
    def test_images(indices: str = Query(..., min_length=1, max_length=MAX_IMAGES * 6,
                                         description=f"comma-separated test indices 0-9999, at most {MAX_IMAGES}")
                    ) -> MnistImages:
        images, labels = state.test_set()
        chosen = _parse_indices(indices, len(images))
        return MnistImages(images=[MnistImage(index=i, label=int(labels[i]), pixels=_bytes(images[i])) for i in chosen])

    @router.post("/api/lab/save", response_model=Saved,
                 summary="Save the edited network as a new file of the models folder (never overwrites)")
    def save(request: SaveRequest, model: str | None = MODEL_QUERY) -> Saved:
        if state.models_dir is None:
            raise HTTPException(409, "this server was started without a models folder, so there is nowhere to save "
                                     "(digitnet serve --models-dir DIR)")
        name = _file_name(request.name)
        target = state.models_dir / name
        taken = HTTPException(409, f"{name!r} already exists in the models folder; choose another name "
                                   f"(a model file is never overwritten)")
        if target.exists():
            raise taken
        source = state.model(model)
        edits = to_edits(request.edits)
        if not edits:
            raise HTTPException(422, "edits: nothing to save; change a neuron first")
        check_edits(source.network, edits)
        _, labels = state.test_set()
        accuracy = float((fast_answers(source).guesses_of(apply_edits(source.network, edits)) == labels).mean())
        try:
            save_edited_model(target, source, edits, test_accuracy=accuracy)
        except NameTakenError:  # another save took the name since the check above
            raise taken from None
        except DigitnetError as error:  # a full disk, a read-only folder: named as the page knows it, no server paths
            raise DigitnetError(str(error).replace(str(target), name).replace(str(state.models_dir), "models folder")) \
                from None
        return Saved(name=name, models=state.model_files() or [], test_accuracy=accuracy, edit_count=len(edits))

    @router.post("/api/lab/probe", response_model=Probe,
                 summary="The test images a neuron responds to most and least, and the average of its favourites")
    def probe(request: ProbeRequest, model: str | None = MODEL_QUERY) -> Probe:
        source, network = edited(model, request.edits)
        images, labels = state.test_set(source)  # as the network reads them (deskewed if it learned so)
        found = probe_neuron(network, images, request.layer, request.neuron, count=request.count,
                             average_of=request.average_of)  # a layer or neuron it lacks: 422
        # shown as MNIST has them: a click sends them to predict, which deskews them (once) for the network
        as_drawn, _ = state.test_set()

        def shown(indices):
            return [ProbedImage(index=int(i), label=int(labels[i]), pixels=_bytes(as_drawn[i]),
                                weighted_sum=round(float(found.weighted_sums[i]), 6),
                                activation=round(float(found.activations[i]), 6)) for i in indices]

        return Probe(layer=found.layer, neuron=found.neuron, most_exciting=shown(found.most_exciting),
                     least_exciting=shown(found.least_exciting), average_of_top=rounded(found.average_of_top),
                     average_count=len(found.top),
                     label_counts_of_top=np.bincount(labels[found.top], minlength=10).tolist())

    @router.post("/api/lab/dream", response_model=Dream, summary="The input that excites an output neuron most")
    def dream_route(request: DreamRequest, model: str | None = MODEL_QUERY) -> Dream:
        _, network = edited(model, request.edits)
        outputs = network.layer_sizes[-1]
        if request.digit >= outputs:
            raise HTTPException(422, f"digit {request.digit}: this network's outputs are 0-{outputs - 1}")
        pixels = dream(network, request.digit, steps=request.steps)  # (784,) seeded: the same body, the same picture
        probabilities = network.predict_probabilities(pixels[np.newaxis])[0]
        return Dream(digit=request.digit, pixels=rounded(pixels), probabilities=rounded(probabilities),
                     guess=int(probabilities.argmax()))

    @router.post("/api/lab/explain", response_model=Explanation,
                 summary="Which pixels pushed an answer up (+) or down (-): gradient x input")
    def explain_route(request: ExplainRequest, model: str | None = MODEL_QUERY) -> Explanation:
        source, network = edited(model, request.edits)
        outputs = network.layer_sizes[-1]
        if request.digit is not None and request.digit >= outputs:
            raise HTTPException(422, f"digit {request.digit}: this network's outputs are 0-{outputs - 1}")
        inputs, _ = drawing(request, source, network, familiarity=False)
        digit = request.digit if request.digit is not None else int(network.predict_digit(inputs[np.newaxis])[0])
        contributions = explain(network, inputs, digit)  # (784,) float64
        return Explanation(digit=digit, input=rounded(inputs), contributions=rounded(contributions),
                           largest=round(float(np.abs(contributions).max(initial=0.0)), 6))

    return router


def _fraction(value) -> float | None:
    """A fraction for the page; None where there was nothing to count (a digit with no test images)."""
    return None if np.isnan(value) else round(float(value), 6)


def _bytes(image: np.ndarray) -> list[int]:
    return np.rint(image * 255).astype(int).tolist()


def _parse_indices(text: str, count: int) -> list[int]:
    """'8,15,42' -> [8, 15, 42], each 0..count-1, at most MAX_IMAGES; a 422 naming the bad part."""
    parts = [part.strip() for part in text.split(",")]
    if len(parts) > MAX_IMAGES:
        raise HTTPException(422, f"indices: {len(parts)} images is too many for one call (limit {MAX_IMAGES})")
    indices = []
    for part in parts:
        if not part.isascii() or not part.isdigit() or int(part) >= count:
            raise HTTPException(422, f"indices: {part[:20]!r} is not a test image index (give numbers 0-{count - 1}, "
                                     f"comma-separated)")
        indices.append(int(part))
    return indices


def _file_name(name: str) -> str:
    """The name a saved model gets: a plain file name in the models folder, ending .safetensors."""
    name = name.strip()
    if not name.endswith(SUFFIX):
        name += SUFFIX
    if not FILE_NAME.fullmatch(name) or ".." in name or len(name) > 100 + len(SUFFIX):
        raise HTTPException(422, f"name {name[:60]!r}: give a plain file name of letters, digits, '-', '_' and '.' "
                                 f"(no folders), such as edge-detector.safetensors")
    return name
