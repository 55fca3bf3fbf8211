"""The route that runs a drawing through the network: POST /api/predict.

A drawing arrives as a PNG data URL (prepared by the CLI's own `to_network_input`) or as 784 pixels;
the answer is every layer's weighted sums z and activations a, the guess and its probabilities, and
how far the input is from the training digits (an X still gets a confident digit; this says so).
The answer's `Server-Timing` header says where the server's time went (timing.py).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import io
import re

import numpy as np
from fastapi import APIRouter, HTTPException
from fastapi.responses import Response
from PIL import Image

from ..modelfile import Model
from ..preprocess import FORMATS, to_network_input
from .formatting import finite_trace, rounded
from .schemas import Familiarity, Prediction, PredictRequest
from .state import MODEL_QUERY, ExplorerState
from .timing import StageTimes

MAX_DRAWING_PIXELS = 4_000_000  # a 2000x2000 photo (the pad sends 280x280); a small PNG can declare far more
DATA_URL = re.compile(r"data:image/[\w.+-]+;base64,", re.IGNORECASE)


def prediction_routes(state: ExplorerState) -> APIRouter:
    router = APIRouter()

    @router.post("/api/predict", response_model=Prediction, summary="Run a drawing through the network")
    async def predict(request: PredictRequest, model: str | None = MODEL_QUERY) -> Response:
        # The whole answer is made on the picture-preparing thread, handed there straight from the event
        # loop and back: a plain `def` route would run on uvicorn's thread pool and hand over twice
        # more, and each hand-over is a wake-up that waits for a core while a job trains.
        times = StageTimes()
        return await asyncio.wrap_future(state.on_picture_thread(lambda: answer(request, model, times), times))

    def answer(request: PredictRequest, model: str | None, times: StageTimes) -> Response:
        """The drawing's answer (on the picture-preparing thread)."""
        with times.stage("model"):
            source = state.model(model)
            network = source.network
        inputs, familiarity = prepared_input(request, state, times, model=source)  # (784,)
        if inputs.shape != (network.layer_sizes[0],):
            raise HTTPException(422, f"this model takes {network.layer_sizes[0]} inputs, not {inputs.size}")
        with times.stage("network"):
            trace, probabilities = finite_trace(network, inputs[np.newaxis], model or "the model")  # batch of one
            probabilities = probabilities[0]
        with times.stage("json"):
            body = Prediction(input=rounded(inputs),
                              weighted_sums=[rounded(z[0]) for z in trace.weighted_sums],
                              activations=[rounded(a[0]) for a in trace.activations],
                              digit=int(trace.outputs[0].argmax()), probabilities=rounded(probabilities),
                              familiarity=familiarity).model_dump_json()
        return json_answer(body, times)

    return router


def json_answer(body: str, times: StageTimes) -> Response:
    """An answer's JSON text (pydantic's `model_dump_json` of the validated schema) with its
    Server-Timing header. pydantic writes the text itself: FastAPI's way with a returned model (dump
    to dicts, validate again, encode, json.dumps) took ~1.6 ms of a drawing's answer, this ~0.2 ms."""
    return Response(body, media_type="application/json", headers={"Server-Timing": times.header()})


def as_familiarity(found: tuple[float, bool] | None) -> Familiarity | None:
    """The far-from-digits signal (score, is_far) as the page receives it."""
    return None if found is None else Familiarity(score=round(found[0], 4), is_far=found[1])


def drawing_input(request: PredictRequest, state: ExplorerState, times: StageTimes,
                  familiarity: bool = True, model: Model | None = None) -> tuple[np.ndarray, Familiarity | None]:
    """`prepared_input` from a thread of uvicorn's pool: one trip to the picture-preparing thread."""
    return state.on_picture_thread(lambda: prepared_input(request, state, times, familiarity, model), times).result()


def prepared_input(request: PredictRequest, state: ExplorerState, times: StageTimes,
                   familiarity: bool = True, model: Model | None = None) -> tuple[np.ndarray, Familiarity | None]:
    """The request's image or pixels -> (the network's input `(784,)` float32 in [0, 1], how far it is
    from the training digits, or None if not asked for). With `model`, the input as it reads it
    (deskewed if it learned so: what the page then shows is what the network sees); the familiarity
    is of the input before that, as the training digits it is compared with are MNIST's own.
    Call it on the picture-preparing thread: one picture at a time, as a large one takes ~35 bytes
    per pixel while prepared (see ExplorerState)."""
    if (request.image is None) == (request.pixels is None):
        raise HTTPException(422, "give exactly one of image (a PNG data URL) or pixels (784 numbers in 0..1)")
    with times.stage("prepare"):
        if request.pixels is not None:
            inputs = np.asarray(request.pixels, dtype=np.float32)
        else:
            encoded = DATA_URL.sub("", request.image.strip(), count=1)
            try:
                data = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError):
                raise HTTPException(422, "image: not valid base64 (send a data URL such as canvas.toDataURL('image/png') "
                                         "gives)") from None
            _check_image_size(data)
            inputs = to_network_input(data)  # the CLI's code path; a blank drawing raises DigitnetError -> 422
    found = None
    if familiarity:
        with times.stage("familiarity"):
            found = as_familiarity(state.familiarity_here(inputs))
    if model is not None and model.deskews and inputs.size == 784 and not request.as_seen:  # other sizes: refused
        with times.stage("prepare"):
            inputs = model.prepare(inputs)
    return inputs, found


def _check_image_size(data: bytes) -> None:
    """Refuse a picture with too many pixels from its header alone, before decoding anything."""
    limit = f"(limit {MAX_DRAWING_PIXELS // 1_000_000} megapixels); send a smaller picture"
    try:
        with Image.open(io.BytesIO(data), formats=FORMATS) as picture:
            width, height = picture.size
    except Image.DecompressionBombError:  # over twice Pillow's own limit: it refuses before telling the size
        raise HTTPException(413, f"image: the picture is too large for the explorer {limit}") from None
    except Exception:  # not an image Pillow knows: to_network_input explains that in its own words
        return
    if width * height > MAX_DRAWING_PIXELS:
        raise HTTPException(413, f"image: {width}x{height} pixels is too large for the explorer {limit}")
