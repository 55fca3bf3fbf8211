"""Where a request's time goes on the server, sent as a `Server-Timing` header.

Browsers' developer tools show the header beside each request; benchmarks/lab_responsiveness.py
reads it to say which part of a drawing's round trip grew while a job trains. The stages of
POST /api/predict: `wait` (for the picture-preparing thread, where the answer is made: another
picture, or a busy CPU), `model` (finding the named model: a file's stat, a job's current
weights), `prepare` (the PNG to 784 inputs), `familiarity` (the far-from-digits check), `network`
(the trace), `json` (the answer as text), and `total` (the handler, from its first line to its answer).
"""

from __future__ import annotations

import time
from contextlib import contextmanager


class StageTimes:
    """Seconds spent in named stages of one request, in the order they first ran. Used by one
    request at a time (its stages may run on different threads, one after the other)."""

    def __init__(self):
        self.started = time.perf_counter()
        self.seconds: dict[str, float] = {}

    def add(self, name: str, seconds: float) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds

    @contextmanager
    def stage(self, name: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - start)

    def header(self) -> str:
        """The `Server-Timing` value: `name;dur=MILLISECONDS` for each stage, then `total`."""
        total = time.perf_counter() - self.started
        return ", ".join(f"{name};dur={seconds * 1000:.2f}" for name, seconds in [*self.seconds.items(), ("total", total)])


def parse_server_timing(header: str) -> dict[str, float]:
    """A `Server-Timing` value as `header` writes it -> {stage: milliseconds} (for tests and benchmarks)."""
    stages = {}
    for part in filter(None, (piece.strip() for piece in header.split(","))):
        name, _, duration = part.partition(";dur=")
        stages[name] = float(duration)
    return stages
