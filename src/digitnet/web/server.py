"""The explorer: a web page that shows the video's network thinking, neuron by neuron.

`create_app(model_path, models_dir)` builds a FastAPI app holding its own state (no global model);
`serve(...)` runs it with uvicorn. The page (static/, plain JavaScript modules, no build step, no
CDN) talks to a small JSON API, described by FastAPI at /openapi.json and as a page at /docs:

    GET  /api/model                what network is loaded, how it was trained, which files to switch to
    POST /api/model/select         load a model file of the models folder (for ?model= on later calls)
    POST /api/predict              a drawing (PNG data URL) or 784 pixels -> every z and a, the guess
    GET  /api/neuron/{layer}/{i}   one neuron's bias and incoming weights
    GET  /api/layer/{layer}        a whole layer's W and b, for the matrix view
    GET  /api/examples?count=24    MNIST test images, with the model's guesses (some wrong)

Every call but select takes `?model=NAME`, a file of the models folder: each open page names the
model it shows, so one page switching models never changes what another page sees. Without it, the
call uses the model the server started with.

Every user mistake (a blank drawing, a bad file, a wrong shape, NaN, a body over 2 MB, ...) is a 4xx
with one line `{"detail": "..."}`; the server keeps serving.
"""

from __future__ import annotations

import base64
import binascii
import html
import io
import re
import threading
import time
from collections import OrderedDict
import webbrowser
from importlib import resources
from pathlib import Path

import numpy as np
from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from PIL import Image
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import DigitnetError
from ..modelfile import Model, default_model_path, history_records, is_number, load_model
from ..preprocess import FORMATS, to_network_input
from .schemas import (EpochRecord, Example, Examples, Layer, ModelInfo, Neuron, Prediction,
                      PredictRequest, SelectModelRequest, TrainingSummary)

MAX_BODY_BYTES = 2 * 1024 * 1024  # a 280x280 canvas PNG is ~10 kB; 2 MB leaves room for a photo
MAX_DRAWING_PIXELS = 16_000_000  # a 4000x4000 picture; a small PNG can declare far more and stall a request
MAX_EXAMPLES = 100
MAX_LOADED_MODELS = 4  # files of the models folder kept in memory at once (the startup model is always kept)
MEDIA_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
               ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png"}
MODEL_QUERY = Query(None, min_length=1, max_length=255,
                    description="a *.safetensors file of the models folder; default: the model the server started with")
# Everything the page needs comes from this server: a CDN request would break offline use.
PAGE_SECURITY = {"Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; "
                                            "style-src 'self'; script-src 'self'; object-src 'none'",
                 "X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}
DATA_URL = re.compile(r"data:image/[\w.+-]+;base64,", re.IGNORECASE)
DECIMALS = 6  # numbers sent to the page: float32 carries ~7 significant digits anyway
# Preparing a 16-megapixel RGBA picture takes ~550 MB; uvicorn's thread pool would run 40 at once.
MAX_CONCURRENT_PICTURES = 2
# What json.loads raised, for a body it gave up on before parsing (FastAPI then says only "400").
UNREADABLE_JSON = {UnicodeDecodeError: "it is not UTF-8 text", RecursionError: "it is nested too deeply",
                   ValueError: "a number in it has too many digits"}


class ExplorerState:
    """What one app holds: the model it started with, the models folder and the files of it loaded
    lately, MNIST's test set (loaded once). Nothing here changes what a request for a given model
    sees: pages name their model on every call (see the module docstring)."""

    def __init__(self, model: Model, models_dir: Path | None):
        self.startup_model = model
        self.models_dir = models_dir
        self._test_set: tuple[np.ndarray, np.ndarray] | None = None
        self._dataset_lock = threading.Lock()
        # file name -> ((mtime, size) when read, model, its test guesses or None), most recently used last
        self._loaded: OrderedDict[str, tuple[tuple[int, int], Model, np.ndarray | None]] = OrderedDict()
        self._startup_guesses: np.ndarray | None = None
        self._models_lock = threading.Lock()
        self.pictures = threading.BoundedSemaphore(MAX_CONCURRENT_PICTURES)  # bounds the memory they take

    def model_files(self) -> list[str] | None:
        if self.models_dir is None:
            return None
        return sorted(p.name for p in self.models_dir.glob("*.safetensors") if p.is_file())

    def model(self, name: str | None) -> Model:
        """The model a request names: a file of the models folder, or None for the startup model.
        A file is read again when it changed on disk (a model retrained under the same name).
        Raises HTTPException 409/404 for a name the folder does not have, DigitnetError (422) for a
        file that is not a valid model."""
        if name is None:
            return self.startup_model
        files = self.model_files()
        if files is None:
            raise HTTPException(409, "this server was started without a models folder (digitnet serve --models-dir DIR)")
        if name not in files:
            raise HTTPException(404, f"{name!r} is not a model file in the models folder "
                                     f"(there: {', '.join(files) or 'none'})")
        path = self.models_dir / name
        with self._models_lock:
            try:
                stat = path.stat()
            except OSError:  # removed since it was listed
                raise HTTPException(404, f"{name!r} is no longer in the models folder") from None
            stamp = (stat.st_mtime_ns, stat.st_size)
            cached = self._loaded.get(name)
            if cached is None or cached[0] != stamp:
                self._loaded[name] = cached = (stamp, load_model(path), None)
            self._loaded.move_to_end(name)
            while len(self._loaded) > MAX_LOADED_MODELS:
                self._loaded.popitem(last=False)
            return cached[1]

    def test_set(self):
        """MNIST's test images `(10000, 784)` and labels, read on first use (~0.6 s), then kept."""
        with self._dataset_lock:
            if self._test_set is None:
                from ..data import load_dataset
                dataset = load_dataset()  # keep only the test arrays, not the 200 MB of training images
                self._test_set = (dataset.test_images, dataset.test_labels)
            return self._test_set

    def test_guesses(self, model: Model) -> np.ndarray:
        """The model's guess for every test image `(10000,)`, computed once per loaded model."""
        with self._models_lock:
            if model is self.startup_model and self._startup_guesses is not None:
                return self._startup_guesses
            for _, loaded, guesses in self._loaded.values():
                if loaded is model and guesses is not None:
                    return guesses
        images, _ = self.test_set()
        guesses = model.network.predict_digit(images)
        with self._models_lock:
            if model is self.startup_model:
                self._startup_guesses = guesses
            for name, (stamp, loaded, _) in self._loaded.items():
                if loaded is model:
                    self._loaded[name] = (stamp, loaded, guesses)
        return guesses


def create_app(model_path: str | Path | None = None, models_dir: str | Path | None = None) -> FastAPI:
    """The explorer app for the model at `model_path` (default: the shipped one).

    models_dir: a folder whose `*.safetensors` files the page offers to switch to (optional).
    A bad model file or folder raises DigitnetError here, before anything is served.
    """
    model = load_model(model_path if model_path is not None else default_model_path())
    if models_dir is not None:
        models_dir = Path(models_dir)
        if not models_dir.is_dir():
            raise DigitnetError(f"{models_dir}: not a folder (give --models-dir a folder of .safetensors files)")
    state = ExplorerState(model, models_dir)
    static = _read_static_files()

    # FastAPI's own /docs and /redoc pages load their scripts from a CDN, which fails offline:
    # /docs is served by api_docs below instead, from the same OpenAPI description.
    app = FastAPI(title="digitnet explorer", version="1", docs_url=None, redoc_url=None,
                  description="Look inside the network of 3Blue1Brown's *But what is a neural network?*: "
                              "every weighted sum z and activation a for a drawing, every neuron's weights.")
    app.state.explorer = state
    app.add_middleware(BodySizeLimit, max_bytes=MAX_BODY_BYTES)
    _add_error_handlers(app)

    @app.get("/", include_in_schema=False)
    def page() -> Response:
        return Response(static["index.html"], media_type=MEDIA_TYPES[".html"], headers=PAGE_SECURITY)

    @app.get("/docs", include_in_schema=False)
    def api_docs() -> Response:
        return Response(_api_page(app.openapi()), media_type=MEDIA_TYPES[".html"], headers=PAGE_SECURITY)

    @app.get("/static/{name}", include_in_schema=False)
    def static_file(name: str) -> Response:
        if name not in static:
            raise HTTPException(404, f"no static file {name!r}")
        return Response(static[name], media_type=MEDIA_TYPES.get(Path(name).suffix, "application/octet-stream"),
                        headers=PAGE_SECURITY)

    @app.get("/api/model", response_model=ModelInfo, summary="The network and its training")
    def model_info(model: str | None = MODEL_QUERY) -> ModelInfo:
        return _model_info(state.model(model), state.model_files())

    @app.post("/api/model/select", response_model=ModelInfo,
              summary="Load a file of the models folder; name it as ?model= on later calls")
    def select_model(request: SelectModelRequest) -> ModelInfo:
        return _model_info(state.model(request.name), state.model_files())  # a bad file: 422

    @app.post("/api/predict", response_model=Prediction, summary="Run a drawing through the network")
    def predict(request: PredictRequest, model: str | None = MODEL_QUERY) -> Prediction:
        network = state.model(model).network
        inputs = _network_input(request, state.pictures)  # (784,)
        if inputs.shape != (network.layer_sizes[0],):
            raise HTTPException(422, f"this model takes {network.layer_sizes[0]} inputs, not {inputs.size}")
        trace = network.trace(inputs[np.newaxis])  # batch of one
        probabilities = network.probabilities_from_outputs(trace.outputs)[0]
        return Prediction(input=_numbers(inputs),
                          weighted_sums=[_numbers(z[0]) for z in trace.weighted_sums],
                          activations=[_numbers(a[0]) for a in trace.activations],
                          digit=int(trace.outputs[0].argmax()), probabilities=_numbers(probabilities))

    @app.get("/api/neuron/{layer}/{index}", response_model=Neuron, summary="One neuron's bias and incoming weights")
    def neuron(layer: int, index: int, model: str | None = MODEL_QUERY) -> Neuron:
        network = state.model(model).network
        l = _check_layer(network, layer)
        if not 0 <= index < network.layer_sizes[layer]:
            raise HTTPException(404, f"layer {layer} has neurons 0-{network.layer_sizes[layer] - 1}, not {index}")
        return Neuron(layer=layer, index=index, squish=_squish(network, layer), bias=float(network.biases[l][index]),
                      weights=_numbers(network.weights[l][index]))

    @app.get("/api/layer/{layer}", response_model=Layer, summary="A layer's weight matrix W and biases b")
    def layer_matrix(layer: int, model: str | None = MODEL_QUERY) -> Layer:
        network = state.model(model).network
        l = _check_layer(network, layer)
        return Layer(layer=layer, squish=_squish(network, layer),
                     weights=[_numbers(row) for row in network.weights[l]], biases=_numbers(network.biases[l]))

    @app.get("/api/examples", response_model=Examples, summary="MNIST test images with the model's guesses")
    def examples(count: int = Query(24, ge=1, le=MAX_EXAMPLES, description="how many images"),
                 start: int = Query(0, ge=0, le=9_999, description="search from this test image on"),
                 model: str | None = MODEL_QUERY) -> Examples:
        images, labels = state.test_set()
        guesses = state.test_guesses(state.model(model))
        chosen = _choose_examples(labels, guesses, count, start)
        return Examples(examples=[
            Example(index=int(i), label=int(labels[i]), guess=int(guesses[i]), correct=bool(labels[i] == guesses[i]),
                    pixels=np.rint(images[i] * 255).astype(int).tolist()) for i in chosen])

    return app


def serve(model_path: str | Path | None = None, host: str = "127.0.0.1", port: int = 8000,
          open_browser: bool = False, models_dir: str | Path | None = None) -> None:
    """Run the explorer with uvicorn until Ctrl-C.

    Once it listens, prints its address (and opens it in a browser if `open_browser`). A bad model
    or models folder, or a port it cannot listen on, raises DigitnetError.
    """
    import uvicorn

    if not 0 <= port <= 65535:
        raise DigitnetError(f"port {port}: choose a port from 0 to 65535 (8000 is the default)")
    app = create_app(model_path, models_dir)
    shown_host = {"0.0.0.0": "127.0.0.1", "::": "[::1]"}.get(host, f"[{host}]" if ":" in host else host)
    url = f"http://{shown_host}:{port}/"
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    threading.Thread(target=_announce, args=(server, url, open_browser), daemon=True).start()
    try:
        server.run()
    except SystemExit:  # uvicorn exits this way when it cannot listen
        raise DigitnetError(f"cannot listen on {host}:{port} (is the port in use? try another --port)") from None


def _announce(server, url: str, open_browser: bool) -> None:
    """Wait (up to a minute) for the server to listen, then say where; a failed start says nothing."""
    for _ in range(600):
        if server.started:
            print(f"digitnet explorer: {url}  (Ctrl-C to stop)", flush=True)
            if open_browser:
                webbrowser.open(url)
            return
        if server.should_exit:
            return
        time.sleep(0.1)


class BodySizeLimit:
    """ASGI middleware: refuse a request body over `max_bytes` with 413, before anything parses it.

    The declared Content-Length is checked first; the body is then read (counting, for chunked
    uploads that declare none) and handed on to the app.
    """

    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            return await self._refuse(scope, receive, send)
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                return await self._refuse(scope, receive, send)
            if not message.get("more_body", False):
                break
        body, delivered = b"".join(chunks), False

        async def replay():
            nonlocal delivered
            if delivered:
                return await receive()  # nothing more to read: this waits for the disconnect
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, scope, receive, send):
        limit = f"{self.max_bytes // (1024 * 1024)} MB"
        response = JSONResponse({"detail": f"the request body is too large (limit {limit}); send a smaller image"},
                                status_code=413, headers={"Connection": "close"})
        await response(scope, receive, send)


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DigitnetError)
    async def user_mistake(request: Request, error: DigitnetError):
        return JSONResponse({"detail": str(error)}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError):
        return JSONResponse({"detail": _describe_validation(error.errors())}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException):
        reason = next((text for kind, text in UNREADABLE_JSON.items() if isinstance(error.__cause__, kind)), None)
        if error.status_code == 400 and reason is not None:
            return JSONResponse({"detail": f"the body is not valid JSON ({reason})"}, status_code=422)
        return await http_exception_handler(request, error)


def _describe_validation(errors) -> str:
    """Pydantic's error list -> one line: where each problem is and what was wrong (first three)."""
    lines = []
    for error in errors[:3]:
        location = [str(part) for part in error.get("loc", ()) if part != "body"]
        where = "".join(f"[{part}]" if part.isdigit() else f".{part}" for part in location).lstrip(".")
        if error.get("type") == "json_invalid":
            lines.append(f"the body is not valid JSON ({error.get('ctx', {}).get('error', 'parse error')})")
        elif not where:
            lines.append('the body must be a JSON object, e.g. {"pixels": [784 numbers in 0..1]}')
        elif error.get("type") == "missing":
            lines.append(f"{where}: missing")
        else:
            lines.append(f"{where}: {error.get('msg', 'invalid')}")
    more = f" (and {len(errors) - 3} more problems)" if len(errors) > 3 else ""
    return "; ".join(lines) + more


def _network_input(request: PredictRequest, pictures: threading.BoundedSemaphore) -> np.ndarray:
    """The request's image or pixels -> the network's input `(784,)` float32 in [0, 1]."""
    if (request.image is None) == (request.pixels is None):
        raise HTTPException(422, "give exactly one of image (a PNG data URL) or pixels (784 numbers in 0..1)")
    if request.pixels is not None:
        return np.asarray(request.pixels, dtype=np.float32)
    encoded = DATA_URL.sub("", request.image.strip(), count=1)
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise HTTPException(422, "image: not valid base64 (send a data URL such as canvas.toDataURL('image/png') gives)") \
            from None
    _check_image_size(data)
    with pictures:  # a few at a time: a large picture takes ~35 bytes per pixel while it is prepared
        return to_network_input(data)  # the CLI's code path; a blank drawing raises DigitnetError -> 422


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


def _check_layer(network, layer: int) -> int:
    """Layer number 1..L (0 is the input) -> index into weights/biases; 404 otherwise."""
    last = len(network.layer_sizes) - 1
    if layer == 0:
        raise HTTPException(404, f"layer 0 is the input: its pixels have no weights or bias; ask for layers 1-{last}")
    if not 1 <= layer <= last:
        raise HTTPException(404, f"layer {layer} does not exist: this network has layers 1-{last} after the input")
    return layer - 1


def _squish(network, layer: int) -> str:
    return network.output if layer == len(network.layer_sizes) - 1 else network.activation


def _numbers(values: np.ndarray) -> list[float]:
    return np.round(values.astype(np.float64), DECIMALS).tolist()


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


def _model_info(model: Model, files: list[str] | None) -> ModelInfo:
    network, meta = model.network, model.metadata
    squishes = ["input"] + [_squish(network, layer) for layer in range(1, len(network.layer_sizes))]
    return ModelInfo(name=model.path.name if model.path else "model", layer_sizes=list(network.layer_sizes),
                     layer_activations=squishes, activation=network.activation, output=network.output,
                     parameter_count=network.parameter_count, description=network.describe(),
                     training=_training_summary(meta), models=files)


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


def _api_page(openapi: dict) -> str:
    """The API described as a plain HTML page (no scripts, nothing from elsewhere): every operation
    with its summary and parameters, and where the full schema is."""
    rows = []
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            parameters = ", ".join(f"{p['name']} ({p['in']}): {p.get('description') or p['schema'].get('type', '')}"
                                   for p in operation.get("parameters", []))
            body = "JSON body" if "requestBody" in operation else ""
            rows.append(f"<tr><td><code>{method.upper()} {html.escape(path)}</code></td>"
                        f"<td>{html.escape(operation.get('summary', ''))}</td>"
                        f"<td>{html.escape('; '.join(filter(None, [parameters, body])))}</td></tr>")
    return (f"<!doctype html><html lang=en><meta charset=utf-8><title>{html.escape(openapi['info']['title'])} API</title>"
            f"<h1>{html.escape(openapi['info']['title'])} API</h1><p>{html.escape(openapi['info'].get('description', ''))}</p>"
            "<p>Every error is a 4xx with one line: <code>{\"detail\": \"...\"}</code>. The full schema, with every "
            "field: <a href=/openapi.json>/openapi.json</a>. The explorer page: <a href=/>/</a>.</p>"
            "<table><tr><th>call</th><th>what it does</th><th>parameters</th></tr>" + "".join(rows) + "</table></html>")


def _read_static_files() -> dict[str, bytes]:
    """The page's files, found inside the installed package (never relative to the working directory)."""
    folder = resources.files("digitnet.web") / "static"
    return {entry.name: entry.read_bytes() for entry in folder.iterdir()
            if entry.is_file() and Path(entry.name).suffix in MEDIA_TYPES}
