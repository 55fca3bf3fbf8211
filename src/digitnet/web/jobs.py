"""The lab's job registry: which training jobs this server runs, their states, limits and watchers.

Each job is a `training_job.TrainingJob` (a worker process doing the library's `train`) plus what
the web needs: an id, a state, the progress so far (so a reload or a second tab sees everything),
and the streams watching it. One reader thread per job turns the worker's messages into state and
into SSE messages, serialised once and handed to each watcher's event loop. See docs/lab-api.md.

    starting -> running <-> paused -> stopping -> finished | stopped | failed
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections import deque
from pathlib import Path

from fastapi import HTTPException

from ..modelfile import Model
from ..network import ACTIVATIONS, OUTPUTS
from ..training import COSTS, OPTIMIZERS, SCHEDULES, TrainingSettings
from ..training_job import MAX_SNAPSHOT_NEURONS, JobSpec, TrainingJob, default_neurons
from .schemas_jobs import PRESETS, JobRequest

MAX_HIDDEN_LAYERS = 4
MAX_LAYER_SIZE = 1024
MAX_PARAMETERS = 2_000_000  # with Adam's two moments, the best epoch and gradients: ~100 MB in the worker
MAX_EPOCHS = 100
MAX_BATCH_SIZE = 10_000
MAX_SEED = 2**32 - 1
MAX_NAME_LENGTH = 100
KEEP_ENDED_JOBS = 20
TERMINAL = ("finished", "stopped", "failed")
LATEST_ONLY = ("progress", "weights")  # a watcher that falls behind gets only the newest of these
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._-]*")
TRAINING_OFF = "training is turned off on this server (digitnet serve --no-training)"


class Watcher:
    """One open stream: messages waiting to be sent, woken from the job's reader thread.

    Lives on its event loop: `push` is only called there (through call_soon_threadsafe)."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.pending: deque[tuple[str, str, bool]] = deque()  # (event name, JSON, the job's last message)
        self.wake = asyncio.Event()

    def push(self, name: str, text: str, last: bool) -> None:
        if name in LATEST_ONLY:
            for i, (waiting, _, _) in enumerate(self.pending):
                if waiting == name:
                    self.pending[i] = (name, text, last)
                    break
            else:
                self.pending.append((name, text, last))
        else:
            self.pending.append((name, text, last))
        self.wake.set()


class Job:
    """One training job as the web sees it; `lock` guards everything below it and `watchers`."""

    def __init__(self, job_id: str, spec: JobSpec, started_from: str | None):
        self.id, self.spec, self.started_from = job_id, spec, started_from
        self.created = time.time()
        self.training = TrainingJob(spec)
        self.lock = threading.Lock()
        self.state = "starting"
        self.progress: dict | None = None
        self.weights: dict | None = None
        self.history: list[dict] = []
        self.best_epoch = 0
        self.test_accuracy: float | None = None
        self.saved: str | None = None
        self.error: str | None = None
        self.watchers: list[Watcher] = []
        self.current_model: Model | None = None  # job:ID as last answered: the same until new weights or an epoch

    @property
    def active(self) -> bool:
        return self.state not in TERMINAL

    def as_dict(self, weights: bool = True) -> dict:
        """The `Job` of docs/lab-api.md (call with `lock` held)."""
        spec = self.spec
        answer = {"id": self.id, "state": self.state, "name": spec.out.name, "model": f"job:{self.id}",
                  "saved": self.saved, "error": self.error, "layer_sizes": list(spec.layer_sizes),
                  "activation": spec.activation, "output": spec.output, "settings": spec.settings.to_dict(),
                  "neurons": list(spec.neurons), "started_from": self.started_from, "created": self.created,
                  "progress": self.progress, "history": list(self.history), "best_epoch": self.best_epoch,
                  "test_accuracy": self.test_accuracy}
        if weights:
            answer["weights"] = self.weights
        return answer

    def metadata(self) -> dict:
        """What `job:ID` shows as the model's training while it runs (as a model file's metadata);
        call with `lock` held."""
        return {"training": self.spec.settings.to_dict(), "history": list(self.history),
                "best_epoch": self.best_epoch or None}

    def model(self) -> Model:
        """`job:ID` while it runs: its current weights and training so far. Made again only when the
        worker has published new weights (~4 a second) or an epoch ended, not for every drawing."""
        network = self.training.current_network()  # the same object until the weights change
        with self.lock:
            cached = self.current_model
            if (cached is None or cached.network is not network or len(cached.metadata["history"]) != len(self.history)
                    or cached.metadata["best_epoch"] != (self.best_epoch or None)):
                self.current_model = cached = Model(network, self.metadata(), Path(self.spec.out.name))
            return cached

    def broadcast(self, name: str, data: dict) -> None:
        """Send one message to every watcher (call with `lock` held, so none is missed or doubled)."""
        text = json.dumps(data, separators=(",", ":"))
        last = name == "job" and not self.active
        for watcher in list(self.watchers):
            try:
                watcher.loop.call_soon_threadsafe(watcher.push, name, text, last)
            except RuntimeError:  # its event loop has closed
                self.watchers.remove(watcher)


class JobRegistry:
    """Every job of this server run, the limits, and where models are saved."""

    def __init__(self, models_dir: Path | None, *, enabled: bool = True, max_jobs: int = 1):
        self.models_dir = models_dir
        self.enabled = enabled
        self.max_jobs = max_jobs
        self._jobs: dict[str, Job] = {}
        self._next_id = 1
        self._lock = threading.Lock()

    # ----- what the page asks -----

    def lab_info(self) -> dict:
        with self._lock:
            running = sum(job.active for job in self._jobs.values())
        return {"enabled": self.enabled, "models_dir": str(self.models_dir.resolve()) if self.models_dir else None,
                "max_jobs": self.max_jobs, "running_jobs": running,
                "limits": {"hidden_layers": [0, MAX_HIDDEN_LAYERS], "layer_size": [1, MAX_LAYER_SIZE],
                           "parameters": MAX_PARAMETERS, "epochs": [1, MAX_EPOCHS], "batch_size": [1, MAX_BATCH_SIZE],
                           "seed": [0, MAX_SEED], "snapshot_neurons": MAX_SNAPSHOT_NEURONS,
                           "name_length": MAX_NAME_LENGTH},
                "defaults": JobRequest().model_dump(exclude={"name", "neurons", "started_from"}),
                "presets": PRESETS,
                "choices": {"activation": list(ACTIVATIONS), "output": list(OUTPUTS), "cost": list(COSTS),
                            "optimizer": list(OPTIMIZERS), "schedule": list(SCHEDULES)},
                "suggested_name": self._suggest_name(JobRequest()) if self.models_dir else None}

    def get(self, job_id: str) -> Job:
        self.check_enabled()
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise HTTPException(404, f"no training job {job_id!r} on this server (GET /api/jobs lists them)")
        return job

    def jobs(self) -> list[Job]:
        self.check_enabled()
        with self._lock:
            return sorted(self._jobs.values(), key=lambda job: -int(job.id))

    # ----- starting and steering -----

    def start(self, request: JobRequest, started_from: str | None) -> Job:
        """Check the request against the limits and TrainingSettings, then start its worker.
        Raises HTTPException (403, 409, 422) or DigitnetError (422), each one line."""
        self.check_enabled()
        if self.models_dir is None:
            raise HTTPException(409, "this server has no models folder to save trained models into "
                                     "(digitnet serve --models-dir DIR)")
        layer_sizes, settings = check_request(request)
        neurons = check_neurons(request.neurons, layer_sizes)
        try:
            self.models_dir.mkdir(parents=True, exist_ok=True)  # the user's default folder, on first use
        except OSError as error:
            raise HTTPException(507, f"{self.models_dir}: cannot create the models folder ({error.strerror})") from None
        with self._lock:
            running = [job for job in self._jobs.values() if job.active]
            if len(running) >= self.max_jobs:
                raise HTTPException(409, f"this server trains at most {self.max_jobs} job"
                                         f"{'s' if self.max_jobs != 1 else ''} at a time (--max-jobs {self.max_jobs}); "
                                         f"job {running[0].id} is running: stop it or wait")
            name = self._check_name(request.name) if request.name is not None else self._suggest_name(request)
            spec = JobSpec(layer_sizes, request.activation, request.output, settings, self.models_dir / name, neurons)
            try:
                job = Job(str(self._next_id), spec, started_from)
                job.training.start()
            except OSError as error:  # no processes or file descriptors left: refuse, and count no job
                raise HTTPException(503, f"cannot start a training process ({error.strerror or error}); "
                                         "try again later") from None
            self._next_id += 1
            self._jobs[job.id] = job
            self._forget_old_jobs()
        threading.Thread(target=self._read, args=(job,), name=f"digitnet-job-{job.id}", daemon=True).start()
        return job

    def pause(self, job_id: str) -> Job:
        job = self.get(job_id)
        with job.lock:
            self._check_active(job, "pause")
            if job.state in ("starting", "running"):
                job.training.pause()
                self._set_state(job, "paused")
        return job

    def resume(self, job_id: str) -> Job:
        job = self.get(job_id)
        with job.lock:
            self._check_active(job, "resume")
            if job.state == "paused":
                job.training.resume()
                self._set_state(job, "running" if job.progress is not None or job.history else "starting")
        return job

    def stop(self, job_id: str) -> Job:
        job = self.get(job_id)
        with job.lock:
            self._check_active(job, "stop")
            job.training.stop()
            self._set_state(job, "stopping")
        return job

    def model(self, job_id: str) -> Model | str:
        """`job:ID` as a model: its current weights while it runs, or the name of its saved file."""
        job = self.get(job_id)
        with job.lock:
            if job.saved is not None:
                return job.saved
            if not job.active:
                raise HTTPException(404, f"job {job.id} {job.state} without saving a model")
        return job.model()

    def watch(self, job: Job, loop: asyncio.AbstractEventLoop) -> tuple[str, Watcher | None]:
        """The `job` message to send first and a watcher for what follows (None if the job has ended)."""
        with job.lock:
            first = json.dumps(job.as_dict(weights=True), separators=(",", ":"))
            if not job.active:
                return first, None
            watcher = Watcher(loop)
            job.watchers.append(watcher)
            return first, watcher

    def unwatch(self, job: Job, watcher: Watcher) -> None:
        with job.lock:
            if watcher in job.watchers:
                job.watchers.remove(watcher)

    def end_streams(self) -> None:
        """End every open event stream now (the server is shutting down); the jobs go on."""
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            with job.lock:
                for watcher in job.watchers:
                    try:
                        watcher.loop.call_soon_threadsafe(watcher.push, "", "", True)  # "": end, send nothing
                    except RuntimeError:
                        pass
                job.watchers.clear()

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop every running job (each saves its best epoch if it can), then end the workers."""
        with self._lock:
            jobs = [job for job in self._jobs.values() if job.active]
        for job in jobs:
            job.training.stop()
        for job in jobs:
            job.training.close(timeout)

    # ----- inside -----

    def _read(self, job: Job) -> None:
        """The job's reader thread: the worker's messages -> the job's state and its watchers' streams."""
        while True:
            message = job.training.next_message(timeout=0.5)
            if message is None:
                continue
            kind, data = message
            with job.lock:
                if kind == "started" and job.state == "starting":
                    self._set_state(job, "running")
                elif kind == "progress":
                    job.weights = data.pop("weights")
                    job.progress = data
                    job.broadcast("progress", data)
                    job.broadcast("weights", job.weights)
                elif kind == "epoch":
                    job.history.append(data["record"])
                    job.best_epoch = data["best_epoch"]
                    job.broadcast("epoch", data["record"])
                    job.broadcast("job", job.as_dict(weights=False))
                elif kind == "ended":
                    job.saved, job.test_accuracy = data["saved"], data["test_accuracy"]
                    job.best_epoch = data["best_epoch"]
                    stopped = data["interrupted"] or job.state == "stopping"
                    self._set_state(job, "stopped" if stopped else "finished")
                elif kind == "failed":
                    job.error = data["error"]
                    self._set_state(job, "failed")
                if not job.active:
                    job.watchers.clear()
                    break
        job.training.close()

    def _set_state(self, job: Job, state: str) -> None:
        job.state = state
        job.broadcast("job", job.as_dict(weights=False))

    def check_enabled(self) -> None:
        if not self.enabled:
            raise HTTPException(403, TRAINING_OFF)

    @staticmethod
    def _check_active(job: Job, verb: str) -> None:
        if not job.active:
            raise HTTPException(409, f"job {job.id} has {'failed' if job.state == 'failed' else job.state}: "
                                     f"there is nothing to {verb}")

    def _taken(self, name: str) -> bool:
        return (self.models_dir / name).exists() or any(
            job.active and job.spec.out.name == name for job in self._jobs.values())

    def _check_name(self, name: str) -> str:
        """The user's file name, checked: it stays in the models folder and replaces nothing."""
        if "/" in name or "\\" in name or name.startswith(".") or "\0" in name:
            raise HTTPException(422, f"name {name[:60]!r}: give a file name, not a path (the model is saved in "
                                     "the models folder)")
        if not name.endswith(".safetensors"):
            name += ".safetensors"
        if len(name) > MAX_NAME_LENGTH or not NAME.fullmatch(name):
            raise HTTPException(422, f"name {name[:60]!r}: use at most {MAX_NAME_LENGTH} letters, digits, spaces, "
                                     "'-', '_' and '.', starting with a letter or digit")
        if self._taken(name):
            raise HTTPException(409, f"name {name!r}: a model of that name is already in the models folder (or "
                                     "being trained); choose another name, nothing is overwritten")
        return name

    def _suggest_name(self, request: JobRequest) -> str:
        stem = f"lab-{'-'.join(str(n) for n in request.layers) or 'no-hidden'}-{request.activation}"
        stem = re.sub(r"[^A-Za-z0-9._-]", "", stem)[:MAX_NAME_LENGTH - 20]
        for number in range(1, 10_000):
            name = f"{stem}{'' if number == 1 else f'-{number}'}.safetensors"
            if not self._taken(name):
                return name
        return f"{stem}-{int(time.time())}.safetensors"

    def _forget_old_jobs(self) -> None:
        ended = [job for job in self._jobs.values() if not job.active]
        for job in sorted(ended, key=lambda job: int(job.id))[:max(0, len(ended) - KEEP_ENDED_JOBS)]:
            del self._jobs[job.id]


def check_request(request: JobRequest) -> tuple[tuple[int, ...], TrainingSettings]:
    """The lab's limits on a request, then TrainingSettings' own checks -> (layer_sizes, settings).
    Each problem is one line naming the limit: HTTPException(422) or DigitnetError (422)."""
    layers = request.layers
    if len(layers) > MAX_HIDDEN_LAYERS:
        raise HTTPException(422, f"layers: {len(layers)} hidden layers is over the lab's limit of "
                                 f"0-{MAX_HIDDEN_LAYERS} hidden layers")
    for i, size in enumerate(layers):
        if not 1 <= size <= MAX_LAYER_SIZE:
            raise HTTPException(422, f"layers[{i}]: {size} neurons is outside the lab's limit of "
                                     f"1-{MAX_LAYER_SIZE} neurons per hidden layer")
    layer_sizes = (784, *layers, 10)
    parameters = sum(n_in * n_out + n_out for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:]))
    if parameters > MAX_PARAMETERS:
        raise HTTPException(422, f"layers: {parameters:,} weights and biases is over the lab's limit of "
                                 f"{MAX_PARAMETERS:,}; choose smaller layers")
    if request.activation not in ACTIVATIONS:
        raise HTTPException(422, f"activation {request.activation[:40]!r}: choose one of {', '.join(ACTIVATIONS)}")
    if request.output not in OUTPUTS:
        raise HTTPException(422, f"output {request.output[:40]!r}: choose one of {', '.join(OUTPUTS)}")
    for field, value, limit in (("epochs", request.epochs, MAX_EPOCHS), ("batch_size", request.batch_size, MAX_BATCH_SIZE)):
        if not 1 <= value <= limit:
            raise HTTPException(422, f"{field}: {value} is outside the lab's limit of 1-{limit}")
    if not 0 <= request.seed <= MAX_SEED:
        raise HTTPException(422, f"seed: {request.seed} is outside the lab's limit of 0-{MAX_SEED}")
    return layer_sizes, TrainingSettings(**request.settings_fields())  # its own checks: DigitnetError -> 422


def check_neurons(neurons: list[int] | None, layer_sizes: tuple[int, ...]) -> tuple[int, ...]:
    first = layer_sizes[1]
    if neurons is None:
        return default_neurons(first)
    if not 1 <= len(neurons) <= MAX_SNAPSHOT_NEURONS:
        raise HTTPException(422, f"neurons: give 1-{MAX_SNAPSHOT_NEURONS} first-layer neurons for the snapshots, "
                                 f"not {len(neurons)}")
    if not all(0 <= i < first for i in neurons) or len(set(neurons)) != len(neurons):
        raise HTTPException(422, f"neurons: each must be a different neuron 0-{first - 1} of the first layer")
    return tuple(neurons)

