"""Training in a process of its own, reporting as it learns: what the explorer's lab runs.

`TrainingJob(spec).start()` runs the same `train` as `digitnet train`, with the same network
(`Network(layer_sizes, activation, output, seed=settings.seed)`), data (the shipped MNIST) and
settings, so the same seed gives the same model. It runs in a process made by multiprocessing's
*spawn* context: outside the caller's event loop and GIL, and a fresh interpreter (no threads or
locks inherited from a web server, as fork would). The worker talks back through a queue:

    ("started", {})                               MNIST read, training begins
    ("progress", {progress..., "weights": snap})  every `update_seconds` (~4 a second) and at each epoch's end
    ("epoch", {"record": {...}, "best_epoch": n}) an epoch ended (one EpochRecord as a dict)
    ("paused", {}) / ("resumed", {})              it honoured pause() / resume()
    ("ended", {"saved": name or None, ...})       saved (or stopped before any epoch ended: nothing saved)
    ("failed", {"error": "one line"})             a DigitnetError (e.g. diverged) or another failure

and writes its current weights into shared memory at each progress message, for
`current_network()`. A worker that dies without a word (SIGKILL, the out-of-memory killer) is
reported by `next_message` as ("failed", ...) naming the signal; what it was saving is removed.

What the lab adds to `train`, measured: an `on_batch` that does not report costs ~1.5 us (two
flag reads, the parent's pid); a report ~0.5 ms (the snapshot 0.09 ms, the rest the queue's
pickling and pipe), 4 a second: ~0.2% of the worker's time. Each progress message carries the
running total (`reporting_seconds`), so the benchmark shows it beside the epoch's seconds.

Pause, resume and stop are honoured in `on_batch` (every ~1,600 images, a few ms): stop raises
KeyboardInterrupt there, exactly what Ctrl-C does in `digitnet train`, so `train` keeps the best
epoch so far and the worker saves it. A worker whose parent died (a server killed with SIGKILL)
stops the same way instead of training on, unwatched, to the end. The model is saved as `digitnet train` saves it (history,
settings, test accuracy in the metadata), atomically, and never over an existing file.
"""

from __future__ import annotations

import base64
import contextlib
import multiprocessing
import os
import queue
import signal
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .errors import DigitnetError
from .network import Network
from .training import TrainingSettings

MAX_SNAPSHOT_NEURONS = 32
IMAGES_PER_REPORT = 1600  # on_batch every this many images: train's default 50 batches of 32


@dataclass(frozen=True)
class JobSpec:
    """One training job: the structure, the settings, where to save, what to show."""

    layer_sizes: tuple[int, ...]   # input first: (784, 16, 16, 10) is the video's network
    activation: str                # hidden layers' squish
    output: str                    # output layer's squish
    settings: TrainingSettings
    out: Path                      # the model file to create (refused if it exists when saving)
    neurons: tuple[int, ...]       # the first-layer neurons each weight snapshot carries
    update_seconds: float = 0.25   # time between progress messages

    def initial_network(self) -> Network:
        """The network before training, exactly as `digitnet train` makes it."""
        return Network(self.layer_sizes, self.activation, self.output, seed=self.settings.seed)


WORKER_NICENESS = 6  # added to the worker's niceness (0 normal, 19 lowest priority)

def default_neurons(first_layer_size: int) -> tuple[int, ...]:
    """All first-layer neurons up to 32; for a wider layer, 32 spread evenly from first to last."""
    if first_layer_size <= MAX_SNAPSHOT_NEURONS:
        return tuple(range(first_layer_size))
    return tuple(int(i) for i in np.rint(np.linspace(0, first_layer_size - 1, MAX_SNAPSHOT_NEURONS)))


def progress_every(batch_size: int) -> int:
    """Mini-batches between on_batch calls: ~1,600 images, so 50 for the default 32 (as the CLI)."""
    return max(1, IMAGES_PER_REPORT // batch_size)


def encode_snapshot(network: Network, neurons: tuple[int, ...]) -> dict:
    """The chosen first-layer neurons' weights in 8 bits per weight, as the lab's page receives them.

    Row i (neuron `neurons[i]`) becomes bytes q = round(w / scale_i) + 128 with scale_i = max|w| / 127,
    so w ~= (q - 128) * scale_i within scale_i / 2. -> {"neurons", "inputs", "encoding", "scales",
    "biases", "data": base64 of len(neurons) * inputs bytes, row after row}.
    """
    rows = network.weights[0][list(neurons)].astype(np.float64)  # (k, 784)
    largest = np.abs(rows).max(axis=1) if rows.size else np.zeros(0)
    scales = np.where(largest > 0, largest / 127, 1 / 127)  # (k,) a zero row keeps a harmless scale
    quantized = np.clip(np.rint(rows / scales[:, None]) + 128, 1, 255).astype(np.uint8)
    return {"layer": 1, "neurons": list(neurons), "inputs": int(rows.shape[1]) if rows.ndim == 2 else 0,
            "encoding": "uint8", "scales": [float(s) for s in scales],
            "biases": [float(b) for b in network.biases[0][list(neurons)]],
            "data": base64.b64encode(quantized.tobytes()).decode("ascii")}


def decode_snapshot(snapshot: dict) -> np.ndarray:
    """`encode_snapshot`'s answer -> the weights `(len(neurons), inputs)` float64, within scale/2."""
    data = np.frombuffer(base64.b64decode(snapshot["data"]), dtype=np.uint8).astype(np.float64)
    rows = data.reshape(len(snapshot["neurons"]), snapshot["inputs"])
    return (rows - 128) * np.asarray(snapshot["scales"])[:, None]


def _unflatten(flat: np.ndarray, spec: JobSpec) -> Network:
    """`publish_weights`'s array `(parameter_count,)`: every layer's weights (row by row) then its
    biases, layer after layer -> a Network of its own (views of `flat`)."""
    weights, biases, start = [], [], 0
    for n_in, n_out in zip(spec.layer_sizes[:-1], spec.layer_sizes[1:]):
        weights.append(flat[start:start + n_in * n_out].reshape(n_out, n_in))
        start += n_in * n_out
        biases.append(flat[start:start + n_out])
        start += n_out
    return Network(spec.layer_sizes, spec.activation, spec.output, weights=weights, biases=biases)


def _partial_files(out: Path) -> list[Path]:
    """What an interrupted save of `out` may leave in its folder: hidden names, never *.safetensors.
    That is `.NAME.PID.partial` (save_new_model's) and the temp file save_model writes it through,
    `..NAME.PID.partial.XXXXXXXX.tmp` (files.write_atomically's prefix adds a dot of its own)."""
    return [p for p in out.parent.glob(".*") if p.name.lstrip(".").startswith(out.name + ".")
            and p.name.endswith((".partial", ".tmp"))]


def save_new_model(out: Path, network: Network, metadata: dict) -> Path:
    """Save like `modelfile.save_model` (atomically), but refuse to replace a file already at `out`.

    The file is written whole under a hidden name, then hard-linked to `out` (which fails if `out`
    exists: no window in which another file could be overwritten), then the hidden name removed.
    """
    from .modelfile import save_model

    partial = out.with_name(f".{out.name}.{os.getpid()}.partial")
    try:
        save_model(partial, network, metadata)
        try:
            os.link(partial, out)
        except FileExistsError:
            raise DigitnetError(f"{out}: a file of that name appeared while training; the model was not saved "
                                "over it (choose another name)") from None
        except OSError:  # a filesystem without hard links: check, then rename
            if out.exists():
                raise DigitnetError(f"{out}: exists; the model was not saved over it") from None
            os.replace(partial, out)
    except OSError as error:
        raise DigitnetError(f"{out}: cannot save the model ({error.strerror or error})") from None
    finally:
        partial.unlink(missing_ok=True)
    return out


class _Reporter:
    """train's on_batch and on_epoch inside the worker: throttled progress, snapshots, pause and stop."""

    def __init__(self, spec: JobSpec, messages, resume, stop, shared, generation, n_images: int):
        self.spec, self.messages, self.resume, self.stop = spec, messages, resume, stop
        self.shared, self.generation = shared, generation
        self.n_images = n_images
        self.parent = os.getppid()
        self.total_images = n_images * spec.settings.epochs
        # The speed is counted from the first on_batch on, so train's setup (~0.1-1 s) does not make
        # the first estimates of the time left absurdly long.
        self.started: float | None = None
        self.images_at_start = 0
        self.paused_seconds = 0.0
        self.last_report = -1.0
        self.reporting_seconds = 0.0  # spent in on_batch / on_epoch, pauses excluded: the lab's own cost

    def _check_controls(self) -> None:
        if self.stop.is_set() or os.getppid() != self.parent:  # stopped, or the server is gone (killed)
            raise KeyboardInterrupt  # what Ctrl-C raises: train keeps the best epoch and returns
        if not self.resume.is_set():
            self.messages.put(("paused", {}))
            paused_at = time.perf_counter()
            while not self.resume.wait(0.1):
                if self.stop.is_set() or os.getppid() != self.parent:
                    raise KeyboardInterrupt
            if self.started is not None:  # a pause before the speed's clock started costs it nothing
                self.paused_seconds += time.perf_counter() - paused_at
            self.messages.put(("resumed", {}))

    def report(self, network: Network, epoch: int, step: int, steps: int, loss: float) -> None:
        now = time.perf_counter()
        self.last_report = now
        done = (epoch - 1) * self.n_images + min(step * self.spec.settings.batch_size, self.n_images)
        if self.started is None:
            self.started, self.images_at_start = now, done
        training_seconds = now - self.started - self.paused_seconds
        speed = (done - self.images_at_start) / training_seconds if training_seconds > 0 else None
        publish_weights(network, self.shared, self.generation)
        self.messages.put(("progress", {
            "epoch": epoch, "epochs": self.spec.settings.epochs, "step": step, "steps": steps,
            "loss": float(loss), "images_done": int(done), "images_total": self.total_images,
            "images_per_second": round(speed, 1) if speed else None, "elapsed": round(training_seconds, 3),
            "seconds_left": round((self.total_images - done) / speed, 2) if speed else None,
            "reporting_seconds": round(self.reporting_seconds + time.perf_counter() - now, 4),
            "weights": {"epoch": epoch, "step": step, **encode_snapshot(network, self.spec.neurons)}}))

    def _timed(self, work) -> None:
        """Run one callback's `work()`, adding its time (less any pause in it) to reporting_seconds."""
        started, paused = time.perf_counter(), self.paused_seconds
        try:
            work()
        finally:
            self.reporting_seconds += time.perf_counter() - started - (self.paused_seconds - paused)

    def on_batch(self, network: Network):
        def work(epoch: int, step: int, steps: int, loss: float) -> None:
            # due, or about to pause: a paused job shows the weights it stopped at
            if time.perf_counter() - self.last_report >= self.spec.update_seconds or not self.resume.is_set():
                self.report(network, epoch, step, steps, loss)
            self._check_controls()

        def on_batch(epoch: int, step: int, steps: int, loss: float) -> None:
            self._timed(lambda: work(epoch, step, steps, loss))
        return on_batch

    def on_epoch(self, network: Network, best: list[float]):
        steps = -(-self.n_images // self.spec.settings.batch_size)

        def work(record) -> None:
            if record.validation_accuracy > best[0]:
                best[0], best[1] = record.validation_accuracy, record.epoch
            self.messages.put(("epoch", {"record": asdict(record), "best_epoch": best[1]}))
            self.report(network, record.epoch, steps, steps, record.loss)
            self._check_controls()

        def on_epoch(record) -> None:
            self._timed(lambda: work(record))
        return on_epoch


def publish_weights(network: Network, shared, generation) -> None:
    """Write the network's current weights into the shared array (for the parent's current_network),
    layer after layer, weights (row by row) then biases, straight into it (no flat copy made first: for 2,000,000
    weights that halved a report's 1.4 ms)."""
    with shared.get_lock():
        flat, start = np.frombuffer(shared.get_obj(), dtype=np.float32), 0
        for weights, biases in zip(network.weights, network.biases):
            for part in (weights, biases):
                flat[start:start + part.size] = part.reshape(-1)
                start += part.size
        generation.value += 1


def _work(spec: JobSpec, messages, resume, stop, shared, generation) -> None:
    """The worker process: train, save, and say so (every failure becomes one 'failed' message)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop (Ctrl-C reaches both)
    # A drawing's answer must not wait behind the training on a 2-core machine: the worker yields the
    # CPU to the server when both want it, and runs at full speed when the server is idle. Numbers
    # are unaffected (priority is not arithmetic).
    with contextlib.suppress(OSError, AttributeError):
        os.nice(WORKER_NICENESS)
    try:
        from .data import load_dataset
        from .evaluation import evaluate
        from .training import check_fits, seen_by, train, training_metadata

        network = spec.initial_network()
        dataset = load_dataset()
        check_fits(network, dataset, spec.settings)
        messages.put(("started", {}))
        reporter = _Reporter(spec, messages, resume, stop, shared, generation, len(dataset.train_labels))
        best = [-1.0, 0]
        result = train(network, dataset, spec.settings, on_batch=reporter.on_batch(network),
                       on_epoch=reporter.on_epoch(network, best), progress_every=progress_every(spec.settings.batch_size))
        publish_weights(network, shared, generation)  # the best epoch's weights, which are saved
        if not result.history:
            messages.put(("ended", {"saved": None, "interrupted": True, "best_epoch": 0, "test_accuracy": None}))
            return
        seen = seen_by(dataset, spec.settings)  # deskewed, as in training, if the settings say so
        test = evaluate(network, seen.test_pixels, seen.test_labels)
        metadata = training_metadata(spec.settings, result, dataset)
        metadata["test_accuracy"] = test.accuracy
        save_new_model(spec.out, network, metadata)
        messages.put(("ended", {"saved": spec.out.name, "interrupted": result.interrupted,
                                "best_epoch": result.best_epoch, "test_accuracy": test.accuracy}))
    except DigitnetError as error:
        messages.put(("failed", {"error": str(error)}))
    except MemoryError:
        messages.put(("failed", {"error": "the training process ran out of memory; choose smaller layers or batches"}))
    except Exception as error:  # noqa: BLE001 (a bug: still one line for the page, and the server keeps serving)
        messages.put(("failed", {"error": f"the training process failed: {type(error).__name__}: "
                                          f"{str(error).splitlines()[0][:200] if str(error) else ''}"}))


class TrainingJob:
    """The parent's handle on one worker process: start it, read its messages, steer it.

    Not thread-safe for several readers: one thread calls `next_message` (the web layer's reader);
    pause/resume/stop and current_network may be called from any thread.
    """

    def __init__(self, spec: JobSpec):
        context = multiprocessing.get_context("spawn")
        self.spec = spec
        self.messages = context.Queue()
        self._resume, self._stop = context.Event(), context.Event()
        self._resume.set()
        initial = spec.initial_network()
        self._shared = context.Array("f", initial.parameter_count)  # float32, with its own lock
        self._generation = context.Value("Q", 0, lock=False)  # guarded by the array's lock
        publish_weights(initial, self._shared, self._generation)
        self._cached: tuple[int, Network] | None = None
        self._ended = False
        self.process = context.Process(target=_work, name=f"digitnet-train-{spec.out.name}", daemon=True,
                                       args=(spec, self.messages, self._resume, self._stop,
                                             self._shared, self._generation))

    def start(self) -> TrainingJob:
        self.process.start()
        return self

    def pause(self) -> None:
        self._resume.clear()

    def resume(self) -> None:
        self._resume.set()

    def stop(self) -> None:
        self._stop.set()
        self._resume.set()  # a paused worker wakes and sees the stop

    def current_network(self) -> Network:
        """The worker's latest weights (the initial ones until it reports), as a Network of its own."""
        with self._shared.get_lock():
            generation = self._generation.value
            if self._cached is not None and self._cached[0] == generation:
                return self._cached[1]
            flat = np.frombuffer(self._shared.get_obj(), dtype=np.float32).copy()
        network = _unflatten(flat, self.spec)
        self._cached = (generation, network)
        return network

    def next_message(self, timeout: float) -> tuple[str, dict] | None:
        """The worker's next message, or None if none came within `timeout` s. Once the worker has
        died without an 'ended' or 'failed', returns ('failed', ...) naming why, once; its partial
        save is removed."""
        try:
            message = self.messages.get(timeout=timeout)
        except queue.Empty:
            if self._ended or self.process.is_alive():
                return None
            try:  # it exited: anything it said is in the pipe by now
                message = self.messages.get(timeout=0.5)
            except queue.Empty:
                self._ended = True
                for leftover in _partial_files(self.spec.out):
                    leftover.unlink(missing_ok=True)
                return ("failed", {"error": self._death_reason()})
        if message[0] in ("ended", "failed"):
            self._ended = True
        return message

    def _death_reason(self) -> str:
        code = self.process.exitcode
        if code is not None and code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            hint = " (out of memory, or killed by hand)" if name == "SIGKILL" else ""
            return f"the training process was killed by {name}{hint}; nothing was saved"
        return f"the training process ended unexpectedly (exit code {code}); nothing was saved"

    def close(self, timeout: float = 10.0) -> None:
        """Stop the worker (it saves its best epoch if it can within `timeout` s), then end it."""
        self.stop()
        self.process.join(timeout)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)
        for leftover in _partial_files(self.spec.out):
            leftover.unlink(missing_ok=True)
