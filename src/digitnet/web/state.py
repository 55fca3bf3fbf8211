"""What one explorer app holds: the model it started with, the models folder and the files of it
loaded lately, MNIST's test set (loaded once), the lab's training jobs. No global state:
`create_app` makes one of these."""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from fastapi import HTTPException, Query

from ..modelfile import Model, load_model

if TYPE_CHECKING:
    from .jobs import JobRegistry

MAX_LOADED_MODELS = 4  # files of the models folder kept in memory at once (the startup model is always kept)
# Preparing a 16-megapixel RGBA picture takes ~550 MB; uvicorn's thread pool would run 40 at once.
MAX_CONCURRENT_PICTURES = 2
# Every call but select takes ?model=NAME: each open page names the model it shows, so one page
# switching models never changes what another page sees.
MODEL_QUERY = Query(None, min_length=1, max_length=255,
                    description="a *.safetensors file of the models folder, or job:ID for a training job's "
                                "current weights; default: the model the server started with")


class ExplorerState:
    """What one app holds: the model it started with, the models folder and the files of it loaded
    lately, MNIST's test set (loaded once). Nothing here changes what a request for a given model
    sees: pages name their model on every call (see the module docstring)."""

    def __init__(self, model: Model, models_dir: Path | None, jobs: JobRegistry | None = None):
        self.startup_model = model
        self.models_dir = models_dir  # may not exist yet: the user's default folder is made on first save
        self.jobs = jobs
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
        if not self.models_dir.is_dir():
            return []
        return sorted(p.name for p in self.models_dir.glob("*.safetensors") if p.is_file())

    def model(self, name: str | None) -> Model:
        """The model a request names: a file of the models folder, `job:ID` (a training job's
        current weights, or the file it saved), or None for the startup model.
        A file is read again when it changed on disk (a model retrained under the same name).
        Raises HTTPException 409/404 for a name the folder does not have, DigitnetError (422) for a
        file that is not a valid model."""
        if name is None:
            return self.startup_model
        if name.startswith("job:") and self.jobs is not None:
            model = self.jobs.model(name[len("job:"):])
            return model if isinstance(model, Model) else self.model(model)  # a str: the file it saved
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
