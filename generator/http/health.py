"""Liveness, readiness and metrics: /healthz, /readyz, /metrics."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from imgedge.generator.jobs.queue import JobQueue
from imgedge.generator.metrics import Metrics
from imgedge.generator.models.backend import ModelSlot
from imgedge.generator.storage.blobs import BlobStore

NO_STORE = {"Cache-Control": "no-store"}


def routes(model: ModelSlot, queue: JobQueue, metrics: Metrics, blobs: BlobStore) -> list[Route]:
    async def healthz(_: Request) -> Response:
        loaded = model.model
        return JSONResponse(
            {
                "status": "ok" if loaded is not None else "loading",
                "model": loaded.model_id if loaded else None,
                "device": loaded.device if loaded else None,
                "queue_depth": queue.depth,
            },
            headers=NO_STORE,
        )

    async def metrics_text(_: Request) -> Response:
        metrics.queue_depth.set(queue.depth)
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST, headers=NO_STORE)

    async def readyz(_: Request) -> Response:
        problems = []
        if model.model is None:
            problems.append("model not loaded yet")
        if (problem := blobs.readiness_problem()) is not None:
            problems.append(problem)
        return JSONResponse(
            {"ready": not problems, "problems": problems},
            status_code=503 if problems else 200,
            headers=NO_STORE,
        )

    return [Route("/healthz", healthz), Route("/readyz", readyz), Route("/metrics", metrics_text)]
