"""The explorer's sweeps: open a sweep's results database, see its table and pictures, open its models.

    sweeps_router(databases, models_dir) -> APIRouter, to include in the explorer's app:

    GET /api/sweeps                          the databases offered: name, runs, points (or a one-line error)
    GET /api/sweeps/{name}                   the points, best first: mean ± spread over seeds, Pareto front,
                                             each run with its saved model, if any
    GET /api/sweeps/{name}/pictures/{kind}   accuracy_vs_size.png, accuracy_vs_setting.png, best_curves.png
    GET /api/sweeps/{name}/models/{key}      a run's saved model file (safetensors)

A run's model can be shown by the explorer itself (`/?model=FILE`) when it lies in the server's
models folder, e.g. `digitnet serve --models-dir results.models` for `results.sqlite`'s models; the
point's JSON then gives that address as `open_url`. The databases are opened read-only per request
(WAL: a sweep may be writing them meanwhile); pictures are drawn on demand and kept while the
database does not change.
"""

from __future__ import annotations

import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Iterable

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response

from ..errors import DigitnetError
from ..sweep.database import open_results
from ..sweep.pictures import PICTURES, plot_accuracy_vs_setting, plot_accuracy_vs_size, plot_best_curves
from ..sweep.report import Point, group_points, pareto_front, swept_settings
from ..sweep.runner import models_folder

DRAW = {"accuracy_vs_size": plot_accuracy_vs_size, "accuracy_vs_setting": plot_accuracy_vs_setting,
        "best_curves": plot_best_curves}
KEPT_PICTURES = 12  # drawn pictures kept (~100 kB each)
PICTURE_HEADERS = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}


def sweeps_router(databases: Iterable[str | Path], models_dir: str | Path | None = None) -> APIRouter:
    """The routes above for the sweep databases `databases` (named in URLs by their file names, which
    must differ). models_dir: the server's models folder, for `open_url`."""
    files = {}
    for path in map(Path, databases):
        if path.name in files:
            raise DigitnetError(f"{path}: two sweep databases are named {path.name!r}; rename one")
        files[path.name] = path
    models_dir = Path(models_dir).resolve() if models_dir is not None else None
    pictures: OrderedDict[tuple, bytes] = OrderedDict()
    drawing = threading.Lock()  # matplotlib figures are independent, but one drawing at a time bounds memory
    router = APIRouter(prefix="/api/sweeps", tags=["sweeps"])

    def database_path(name: str) -> Path:
        if name not in files:
            raise HTTPException(404, f"no sweep database {name!r} (there: {', '.join(files) or 'none'})")
        return files[name]

    def read_rows(name: str) -> list[dict]:
        try:
            with open_results(database_path(name), create=False) as database:
                return database.rows()
        except DigitnetError as error:
            raise HTTPException(422, str(error)) from None

    def saved_model(path: Path, model_file: str | None) -> Path | None:
        """A row's model file, if it exists inside the database's models folder: a database is a file
        from somewhere, and must not make the server hand out any other file."""
        if model_file is None:
            return None
        folder = models_folder(path).resolve()
        file = (path.parent / model_file).resolve()
        return file if file.parent == folder and file.suffix == ".safetensors" and file.is_file() else None

    def stamp(path: Path) -> tuple:
        """Changes whenever the database does (the WAL file holds the newest rows)."""
        parts = []
        for file in (path, path.with_name(path.name + "-wal")):
            try:
                status = file.stat()
                parts.append((status.st_mtime_ns, status.st_size))
            except OSError:
                parts.append(None)
        return tuple(parts)

    @router.get("", summary="The sweep databases this explorer can open")
    def list_sweeps() -> list[dict]:
        answer = []
        for name, path in files.items():
            try:
                with open_results(path, create=False) as database:
                    rows = database.rows()
                answer.append({"name": name, "runs": len(rows), "points": len(group_points(rows)), "error": None})
            except DigitnetError as error:
                answer.append({"name": name, "runs": 0, "points": 0, "error": str(error)})
        return answer

    @router.get("/{name}", summary="A sweep's points, best first, with mean and spread over seeds")
    def sweep(name: str) -> dict:
        path = database_path(name)
        points = group_points(read_rows(name))
        front = {id(p) for p in pareto_front(points)}
        swept = swept_settings(points)
        return {"name": name, "runs": sum(len(p.seeds) for p in points), "swept": list(swept),
                "pictures": [f"/api/sweeps/{name}/pictures/{kind}.png" for kind in PICTURES] if points else [],
                "points": [describe(p, swept, id(p) in front, path) for p in points]}

    def describe(p: Point, swept, on_front: bool, path: Path) -> dict:
        runs = []
        for key, seed, accuracy, model_file in zip(p.keys, p.seeds, p.test_accuracies, p.model_files):
            model = None
            file = saved_model(path, model_file)
            if file is not None:
                model = {"file": file.name, "download_url": f"/api/sweeps/{path.name}/models/{key}",
                         "open_url": f"/?model={file.name}" if models_dir is not None and
                         file.parent == models_dir else None}
            runs.append({"key": key, "seed": seed, "test_accuracy": accuracy, "model": model})
        return {"label": p.label(swept), "layer_sizes": list(p.layer_sizes), "activation": p.point["activation"],
                "settings": p.point, "parameter_count": p.parameter_count, "seeds": len(p.seeds),
                "test_mean": p.test_mean, "test_spread": p.test_spread, "validation_mean": p.validation_mean,
                "validation_spread": p.validation_spread, "seconds_mean": p.seconds_mean, "pareto": on_front,
                "video_network": p.is_video_network, "runs": runs}

    @router.get("/{name}/pictures/{picture}", summary="One of the sweep report's pictures, as PNG",
                response_class=Response, responses={200: {"content": {"image/png": {}}}})
    def picture(name: str, picture: str) -> Response:
        kind = picture.removesuffix(".png")
        if kind not in DRAW or not picture.endswith(".png"):
            raise HTTPException(404, f"no picture {picture!r}; there are {', '.join(k + '.png' for k in PICTURES)}")
        path = database_path(name)
        cache_key = (name, kind, stamp(path))
        with drawing:
            data = pictures.get(cache_key)
            if data is None:
                points = group_points(read_rows(name))
                if not points:
                    raise HTTPException(404, f"{name}: holds no finished runs yet")
                with tempfile.TemporaryDirectory() as folder:
                    data = DRAW[kind](points, Path(folder) / f"{kind}.png").read_bytes()
                pictures[cache_key] = data
                while len(pictures) > KEPT_PICTURES:
                    pictures.popitem(last=False)
            pictures.move_to_end(cache_key)
        return Response(data, media_type="image/png", headers=PICTURE_HEADERS)

    @router.get("/{name}/models/{key}", summary="A run's saved model file", response_class=Response,
                responses={200: {"content": {"application/octet-stream": {}}}})
    def model_file(name: str, key: str) -> Response:
        path = database_path(name)
        row = next((row for row in read_rows(name) if row["key"] == key), None)
        if row is None:
            raise HTTPException(404, f"{name}: no run {key!r}")
        if row["model_file"] is None:
            raise HTTPException(404, f"{name}: run {key} was trained without saving its model (save_models = true)")
        file = saved_model(path, row["model_file"])
        if file is None:
            raise HTTPException(404, f"{name}: run {key}'s model {row['model_file']} is missing")
        return Response(file.read_bytes(), media_type="application/octet-stream",
                        headers={"Content-Disposition": f'attachment; filename="{file.name}"'})

    return router
