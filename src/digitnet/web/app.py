"""The explorer: a web page that shows the video's network thinking, neuron by neuron.

`create_app(model_path, models_dir)` builds a FastAPI app holding its own state (no global model);
`server.serve(...)` runs it with uvicorn. The page (static/, plain JavaScript modules, no build
step, no CDN) talks to a small JSON API, described by FastAPI at /openapi.json and as a page at
/docs. The package, by area:

    app.py                 this file: the app, the page and its static files, /docs
    security.py            who may call: Host names, same-origin writes, framing, a token off loopback
    middleware.py          limits applied before any route (body size)
    errors.py              every mistake a 4xx with one line {"detail": "..."}
    state.py               what one app holds: models, the models folder, MNIST's test set, the lab's jobs
    routes_models.py       /api/model, /api/model/select, /api/neuron, /api/layer, /api/examples
    routes_predictions.py  /api/predict: a drawing through the network
    routes_sweeps.py       /api/sweeps: a sweep database's table and pictures, its models
    routes_jobs.py         the lab: /api/lab, /api/jobs (start, watch by SSE, pause, resume, stop, compare)
    jobs.py                the lab's job registry: ids, states, limits, the streams watching each job
    schemas_jobs.py        what starting a job takes (JobRequest), the presets
    routes_neurons.py      /api/lab/*: the neuron lab (edits sent by each page), probing, dream, explain
    schemas.py             the JSON each route takes and gives (schemas_neurons.py: the lab's)
    formatting.py          numbers and squish names as the page receives them
    server.py              `serve`: uvicorn, the address printed once it listens

The training itself runs in the library (digitnet.training_job: `train` in a worker process);
docs/lab-api.md is the lab's API contract.

Every user mistake (a blank drawing, a bad file, a wrong shape, NaN, a body over 2 MB, ...) is a 4xx
with one line `{"detail": "..."}`; the server keeps serving.
"""

from __future__ import annotations

import asyncio
import html
from contextlib import asynccontextmanager
from importlib import resources
from collections.abc import Iterable
from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.responses import Response

from ..errors import DigitnetError
from ..modelfile import default_model_path, load_model
from .errors import add_error_handlers
from .jobs import JobRegistry
from .middleware import MAX_BODY_BYTES, BodySizeLimit
from .routes_jobs import job_routes
from .routes_models import model_routes
from .routes_neurons import neuron_routes
from .routes_predictions import prediction_routes
from .routes_sweeps import sweeps_router
from .security import LOCAL_HOSTNAMES, AccessControl
from .state import ExplorerState

MEDIA_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
               ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png"}
# Everything the page needs comes from this server: a CDN request would break offline use.
PAGE_SECURITY = {"Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; "
                                            "style-src 'self'; script-src 'self'; object-src 'none'; "
                                            "frame-ancestors 'none'",
                 "X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}


def create_app(model_path: str | Path | None = None, models_dir: str | Path | None = None,
               allowed_hosts: Iterable[str] = LOCAL_HOSTNAMES, token: str | None = None, *,
               training: bool = True, max_jobs: int = 1, create_models_dir: bool = False,
               sweeps: Iterable[str | Path] = ()) -> FastAPI:
    """The explorer app for the model at `model_path` (default: the shipped one).

    models_dir: a folder whose `*.safetensors` files the page offers to switch to, and where the
    lab saves the models it trains (optional; without it the lab cannot start jobs).
    allowed_hosts: the names a request's Host header may carry (default: loopback's names only);
    token: when given, every request must carry it (see security.py).
    training: False turns the lab off (`--no-training`); max_jobs: jobs training at once.
    sweeps: sweep result databases (`digitnet sweep --db FILE`) the page's Sweeps panel opens.
    create_models_dir: models_dir may not exist yet (the user's default folder): it is made when
    the first job starts. A bad model file or folder raises DigitnetError here, before anything is served.
    """
    model = load_model(model_path if model_path is not None else default_model_path())
    if models_dir is not None:
        models_dir = Path(models_dir)
        if not models_dir.is_dir() and not (create_models_dir and not models_dir.exists()):
            raise DigitnetError(f"{models_dir}: not a folder (give --models-dir a folder of .safetensors files)")
    if max_jobs < 1:
        raise DigitnetError(f"--max-jobs {max_jobs}: allow at least 1 job (or turn training off with --no-training)")
    jobs = JobRegistry(models_dir, enabled=training, max_jobs=max_jobs)
    state = ExplorerState(model, models_dir, jobs)
    static = _read_static_files()

    @asynccontextmanager
    async def lifespan(app):
        yield
        await asyncio.to_thread(jobs.shutdown)  # each running job stops and saves its best epoch, as Ctrl-C does in `digitnet train`

    # FastAPI's own /docs and /redoc pages load their scripts from a CDN, which fails offline:
    # /docs is served by api_docs below instead, from the same OpenAPI description.
    app = FastAPI(title="digitnet explorer", version="1", docs_url=None, redoc_url=None, lifespan=lifespan,
                  description="Look inside the network of 3Blue1Brown's *But what is a neural network?*: "
                              "every weighted sum z and activation a for a drawing, every neuron's weights.")
    app.state.explorer = state
    app.add_middleware(BodySizeLimit, max_bytes=MAX_BODY_BYTES)
    app.add_middleware(AccessControl, allowed_hosts=allowed_hosts, token=token)  # added last: runs first
    add_error_handlers(app)

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

    app.include_router(model_routes(state))
    app.include_router(prediction_routes(state))
    app.include_router(sweeps_router(_existing_files(sweeps, "--sweep"), models_dir=models_dir))
    app.include_router(job_routes(state, jobs))
    app.include_router(neuron_routes(state))

    return app


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


def _existing_files(paths: Iterable[str | Path], flag: str) -> list[Path]:
    """The given files, each checked to exist before anything is served (a typo is one line now,
    not an empty panel later)."""
    files = [Path(path) for path in paths]
    for path in files:
        if not path.is_file():
            raise DigitnetError(f"{path}: no such file (give {flag} a database that digitnet sweep --db wrote)")
    return files
