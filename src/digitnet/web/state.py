"""What one explorer app holds: the model it started with, the models folder and the files of it
loaded lately, MNIST's test set and training digits (loaded once), the lab's training jobs. No
global state: `create_app` makes one of these."""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import numpy as np
from fastapi import HTTPException, Query
from threadpoolctl import ThreadpoolController

from ..errors import DigitnetError
from ..familiarity import TrainingDigits, familiarity
from ..modelfile import SHIPPED_MODEL_FILES, Model, load_model, shipped_models
from .timing import StageTimes

if TYPE_CHECKING:
    from .jobs import JobRegistry

T = TypeVar("T")

# A file name of the folder: no path separators, no hidden files, the model suffix.
MODEL_FILE_NAME = re.compile(r"[^/\\\x00.][^/\\\x00]{0,250}\.safetensors")
RECENT_FAMILIARITY = 64  # inputs whose far-from-digits answer is kept (pages send one drawing with many edits)
MAX_LOADED_MODELS = 4  # files of the models folder kept in memory at once (the startup model is always kept)
# Every call but select takes ?model=NAME: each open page names the model it shows, so one page
# switching models never changes what another page sees.
MODEL_QUERY = Query(None, min_length=1, max_length=255,
                    description="a shipped model's name (video, record, strong), a *.safetensors file of the "
                                "models folder, or job:ID for a training job's current weights; default: the model "
                                "the server started with")


class ExplorerState:
    """What one app holds: the model it started with, the models folder and the files of it loaded
    lately, MNIST's test set (loaded once). Nothing here changes what a request for a given model
    sees: pages name their model on every call (see the module docstring)."""

    def __init__(self, model: Model, models_dir: Path | None, jobs: JobRegistry | None = None):
        self.startup_model = model
        self.models_dir = models_dir  # may not exist yet: the user's default folder is made on first save
        self.jobs = jobs
        self._test_set: tuple[np.ndarray, np.ndarray] | None = None
        self._deskewed_test_set: tuple[np.ndarray, np.ndarray] | None = None
        self._dataset_lock = threading.Lock()
        # file name (or a shipped model's name) -> ((mtime, size) when read, model, its test guesses or None),
        # most recently used last
        self._loaded: OrderedDict[str, tuple[tuple[int, int], Model, np.ndarray | None]] = OrderedDict()
        self._startup_guesses: np.ndarray | None = None
        self._models_lock = threading.Lock()
        self._training_digits = None  # familiarity.TrainingDigits, made on first use
        self._familiarity_lock = threading.Lock()
        self._recent_familiarity: OrderedDict[bytes, tuple[float, bool]] = OrderedDict()  # input hash -> answer
        self._listing: tuple[int, list[str]] | None = None  # (the folder's mtime, its model files)
        # Preparing a picture takes ~35 bytes per pixel (140 MB at the 4-megapixel limit) and uvicorn's thread
        # pool would prepare 40 at once. One thread prepares them all, in turn: a semaphore alone was not
        # enough, as each of uvicorn's threads then kept its freed buffers resident in its own malloc arena
        # (16 pictures in turn still cost +1 GB). A 280x280 drawing takes a few milliseconds.
        self.picture_preparer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="digitnet-pictures")
        # The far-from-digits search runs on one BLAS thread. With two, OpenBLAS splits each search across
        # both cores and waits for the slower half: with a training job holding the other core, a 1.8 ms
        # search took 5-20 ms. Only the picture thread changes the limit (one at a time, so nothing races
        # to restore it); made once here, as finding the BLAS libraries takes ~0.2 ms.
        self._blas = ThreadpoolController()

    def model_files(self) -> list[str] | None:
        """The folder's model files, sorted; read again only when the folder changes (a folder of 50,000
        files takes ~0.1 s to list). A symbolic link is listed only if it leads to a file inside the folder."""
        if self.models_dir is None:
            return None
        try:
            stamp = self.models_dir.stat().st_mtime_ns
        except OSError:
            return []
        with self._models_lock:
            if self._listing is None or self._listing[0] != stamp:
                self._listing = (stamp, sorted(p.name for p in self.models_dir.glob("*.safetensors")
                                               if self._inside_folder(p.name)))
            return self._listing[1]

    def _inside_folder(self, name: str) -> bool:
        """True if `name` is a regular file of the models folder, or a link to one inside it (a link
        leading elsewhere would let a folder shared by others read any file of this machine)."""
        if not MODEL_FILE_NAME.fullmatch(name):
            return False
        path = self.models_dir / name
        try:
            real = path.resolve(strict=True)
            return real.is_file() and real.parent == self.models_dir.resolve()
        except (OSError, RuntimeError):  # missing, a loop of links, no permission
            return False

    def model(self, name: str | None) -> Model:
        """The model a request names: a shipped model's name, a file of the models folder, `job:ID`
        (a training job's current weights, or the file it saved), or None for the startup model.
        A file is read again when it changed on disk (a model retrained under the same name).
        Raises HTTPException 409/404 for a name the folder does not have, DigitnetError (422) for a
        file that is not a valid model."""
        if name is None:
            return self.startup_model
        if name in SHIPPED_MODEL_FILES:  # "video", "record", "strong": digitnet's own, with or without a folder
            return self._read(name, shipped_models()[name])  # no folder file has such a name: they end .safetensors
        if name.startswith("job:") and self.jobs is not None:
            model = self.jobs.model(name[len("job:"):])
            return model if isinstance(model, Model) else self.model(model)  # a str: the file it saved
        if self.models_dir is None:
            raise HTTPException(409, "this server was started without a models folder (digitnet serve --models-dir DIR)")
        if not self._inside_folder(name):  # checked directly: listing a big folder on every call would be slow
            raise HTTPException(404, f"{name!r} is not a model file in the models folder (GET /api/model lists them)")
        return self._read(name, self.models_dir / name)

    def _read(self, name: str, path: Path) -> Model:
        """The model file at `path`, known to pages as `name`: read again only when it changed on disk."""
        with self._models_lock:
            try:
                stat = path.stat()
            except OSError:  # removed since it was listed
                raise HTTPException(404, f"{name!r} is no longer in the models folder") from None
            stamp = (stat.st_mtime_ns, stat.st_size)
            cached = self._loaded.get(name)
            if cached is None or cached[0] != stamp:
                try:
                    self._loaded[name] = cached = (stamp, load_model(path), None)
                except DigitnetError as error:  # name the file as the page knows it, not by this machine's path
                    message = str(error).replace(str(path), name)
                    if self.models_dir is not None:
                        message = message.replace(str(self.models_dir), "models folder")
                    raise DigitnetError(message) from None
            self._loaded.move_to_end(name)
            while len(self._loaded) > MAX_LOADED_MODELS:
                self._loaded.popitem(last=False)
            return cached[1]

    def test_set(self, model: Model | None = None):
        """MNIST's test images `(10000, 784)` and labels, read on first use (~0.6 s), then kept; with
        `model`, the images as it reads them (deskewed if it learned so, made once)."""
        with self._dataset_lock:
            if self._test_set is None:
                from ..data import load_dataset
                dataset = load_dataset()  # keep only the test arrays, not the 200 MB of training images
                self._test_set = (dataset.test_images, dataset.test_labels)
            if model is None or not model.deskews:
                return self._test_set
            if self._deskewed_test_set is None:
                images, labels = self._test_set
                self._deskewed_test_set = (model.prepare(images), labels)
            return self._deskewed_test_set

    def on_picture_thread(self, work: Callable[[], T], times: StageTimes) -> Future[T]:
        """Run `work()` on the picture-preparing thread, its time waiting for it counted as `wait`."""
        submitted = time.perf_counter()

        def timed() -> T:
            times.add("wait", time.perf_counter() - submitted)
            return work()

        return self.picture_preparer.submit(timed)

    def familiarity_here(self, inputs: np.ndarray) -> tuple[float, bool] | None:
        """How far one input `(784,)` is from MNIST's training digits (familiarity.py): (score, is_far),
        or None for an input that is not 28x28. Call it on the picture-preparing thread: ~20 MFLOP of
        BLAS from uvicorn's 40 threads at once made OpenBLAS contend with itself (20 users drawing:
        45 requests/s, p99 1.9 s). The training digits are read and blurred on first use (~0.5 s,
        ~40 MB), then kept."""
        return None if inputs.size != 784 else self._familiarity_here(inputs, self.training_digits())

    def _familiarity_here(self, inputs: np.ndarray, training_digits: TrainingDigits) -> tuple[float, bool]:
        """`familiarity` of one input on this thread (the picture-preparing one), recent answers kept."""
        key = hashlib.blake2b(np.ascontiguousarray(inputs, np.float32).tobytes(), digest_size=16).digest()
        with self._familiarity_lock:
            known = self._recent_familiarity.get(key)
        if known is not None:  # the same drawing again (a lab slider moving): the search reads 39 MB
            return known
        with self._blas.limit(limits=1, user_api="blas"):
            score, is_far = familiarity(inputs, training_digits)
        found = (float(score[0]), bool(is_far[0]))
        with self._familiarity_lock:
            self._recent_familiarity[key] = found
            while len(self._recent_familiarity) > RECENT_FAMILIARITY:
                self._recent_familiarity.popitem(last=False)
        return found

    def training_digits(self) -> TrainingDigits:
        """MNIST's training digits as familiarity.py compares inputs with them, made on first use
        (~0.5-1.5 s); a request that comes while they are being made waits for the rest."""
        with self._familiarity_lock:
            if self._training_digits is None:
                self._training_digits = TrainingDigits.shipped()
            return self._training_digits

    def prepare_in_background(self) -> threading.Thread:
        """Read MNIST's test set and training digits on a thread of their own, so that the first page
        (its examples, its first drawing) does not wait ~2 s for them. `serve` calls this."""
        def prepare():
            try:
                self.test_set()
                self.training_digits()
            except (DigitnetError, OSError):  # the request that needs them reports it, as one line
                pass

        thread = threading.Thread(target=prepare, name="digitnet-prepare", daemon=True)
        thread.start()
        return thread

    def test_guesses(self, model: Model) -> np.ndarray:
        """The model's guess for every test image `(10000,)`, computed once per loaded model."""
        with self._models_lock:
            if model is self.startup_model and self._startup_guesses is not None:
                return self._startup_guesses
            for _, loaded, guesses in self._loaded.values():
                if loaded is model and guesses is not None:
                    return guesses

        images, _ = self.test_set(model)
        guesses = model.network.predict_digit(images)
        with self._models_lock:
            if model is self.startup_model:
                self._startup_guesses = guesses
            for name, (stamp, loaded, _) in self._loaded.items():
                if loaded is model:
                    self._loaded[name] = (stamp, loaded, guesses)
        return guesses
