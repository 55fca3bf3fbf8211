"""Routes of the lab: start a training job, watch it learn, pause, resume, stop, compare.

    GET  /api/lab                  is the lab on, its limits, defaults, presets, the models folder
    POST /api/jobs                 start training (a JobRequest); 201 with the Job
    GET  /api/jobs                 every job of this server run, newest first
    GET  /api/jobs/{id}            one job and its progress so far
    GET  /api/jobs/{id}/events     Server-Sent Events: the whole job first, then progress as it comes
    POST /api/jobs/{id}/pause|resume|stop
    GET  /api/jobs/{id}/compare    the new model against the one it started from, on the test images

The web layer only starts, streams and stops jobs: the training is the library's (training_job.py),
the bookkeeping jobs.py's. docs/lab-api.md is the full contract.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse

from ..evaluation import evaluate
from .jobs import JobRegistry
from .schemas_jobs import JobRequest
from .state import ExplorerState

KEEP_ALIVE_SECONDS = 15


def job_routes(state: ExplorerState, registry: JobRegistry) -> APIRouter:
    router = APIRouter()

    @router.get("/api/lab", summary="The lab: on or off, limits, defaults, presets, the models folder")
    def lab() -> dict:
        return registry.lab_info()

    @router.post("/api/jobs", status_code=201, summary="Start training a network (see docs/lab-api.md)")
    def start_job(request: JobRequest) -> JSONResponse:
        registry.check_enabled()
        started_from = request.started_from
        if started_from is not None:
            state.model(started_from)  # 404 now, not after training, for a model that is not there
        job = registry.start(request, started_from)
        with job.lock:
            return JSONResponse(job.as_dict(), status_code=201)

    @router.get("/api/jobs", summary="Every training job of this server run, newest first")
    def list_jobs() -> dict:
        answer = []
        for job in registry.jobs():
            with job.lock:
                answer.append(job.as_dict(weights=False))
        return {"jobs": answer}

    @router.get("/api/jobs/{job_id}", summary="One training job and its progress so far")
    def get_job(job_id: str) -> dict:
        job = registry.get(job_id)
        with job.lock:
            return job.as_dict()

    @router.post("/api/jobs/{job_id}/pause", summary="Pause a training job")
    def pause_job(job_id: str) -> dict:
        return _answer(registry.pause(job_id))

    @router.post("/api/jobs/{job_id}/resume", summary="Resume a paused training job")
    def resume_job(job_id: str) -> dict:
        return _answer(registry.resume(job_id))

    @router.post("/api/jobs/{job_id}/stop", summary="Stop a training job, keeping its best epoch")
    def stop_job(job_id: str) -> dict:
        return _answer(registry.stop(job_id))

    @router.get("/api/jobs/{job_id}/events", summary="Server-Sent Events: the job so far, then live progress")
    async def job_events(job_id: str, request: Request) -> StreamingResponse:
        job = registry.get(job_id)
        first, watcher = registry.watch(job, asyncio.get_running_loop())
        return StreamingResponse(_stream(registry, job, first, watcher), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @router.get("/api/jobs/{job_id}/compare", summary="The new model against the one it started from, on MNIST's test set")
    def compare_job(job_id: str) -> dict:
        job = registry.get(job_id)
        scores = {}
        for role, name in (("new", f"job:{job.id}"), ("old", job.started_from)):
            model = state.model(name)
            images, labels = state.test_set(model)  # as each model reads them
            result = evaluate(model.network, images, labels)
            scores[role] = {"model": name if role == "old" else f"job:{job.id}",
                            "name": model.path.name if model.path else "model",
                            "layer_sizes": list(model.network.layer_sizes), "accuracy": result.accuracy,
                            "correct": result.correct, "count": result.count,
                            "per_digit_accuracy": [float(a) for a in result.per_digit_accuracy]}
        return scores

    return router


def _answer(job) -> dict:
    with job.lock:
        return job.as_dict(weights=False)


async def _stream(registry: JobRegistry, job, first: str, watcher):
    """The SSE body: the whole job, then each message as the reader thread hands it over, until the
    job ends (or the page goes away: Starlette then cancels this generator)."""
    number = 0

    def message(name: str, text: str) -> str:
        nonlocal number
        number += 1
        return f"event: {name}\nid: {number}\ndata: {text}\n\n"

    yield message("job", first)
    if watcher is None:
        return
    try:
        while True:
            try:
                await asyncio.wait_for(watcher.wake.wait(), KEEP_ALIVE_SECONDS)
            except TimeoutError:
                yield ": keep-alive\n\n"
                continue
            watcher.wake.clear()
            while watcher.pending:
                name, text, last = watcher.pending.popleft()
                if name:  # "" comes only from end_streams: the server is shutting down
                    yield message(name, text)
                if last:
                    return
    finally:
        registry.unwatch(job, watcher)
