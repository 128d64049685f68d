"""Liveness, readiness and metrics: /healthz, /readyz, /metrics."""

from __future__ import annotations

import asyncio
from functools import partial

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from imgedge.generator.jobs.queue import JobQueue
from imgedge.generator.metrics import Metrics
from imgedge.generator.models.backend import ModelSlot
from imgedge.generator.storage.blobs import BlobStore
from imgedge.generator.storage.database import Database
from imgedge.generator.storage.errors import StorageUnavailable
from imgedge.web.metrics_access import check_metrics_access

NO_STORE = {"Cache-Control": "no-store"}


def metrics_body(metrics: Metrics, queue: JobQueue) -> tuple[bytes, str]:
    metrics.queue_depth.set(queue.depth)
    return metrics.render(), CONTENT_TYPE_LATEST


def _database_problem(database: Database) -> str | None:
    try:
        with database.transaction() as db:
            db.execute("SELECT 1")
    except StorageUnavailable as exc:
        return exc.message
    return None


def routes(
    model: ModelSlot | None,
    queue: JobQueue,
    metrics: Metrics,
    blobs: BlobStore,
    database: Database,
    *,
    metrics_token: str = "",
    metrics_here: bool = True,
) -> list[Route]:
    """`model` is None in an API whose jobs run on `imgedge worker`s: it never loads one.
    `metrics_here=False`: /metrics lives on IMGEDGE_GENERATOR_METRICS_ADDRESS instead (404 here)."""

    async def healthz(_: Request) -> Response:
        loaded = model.model if model is not None else None
        return JSONResponse(
            {
                "status": "ok" if loaded is not None or model is None else "loading",
                "model": loaded.model_id if loaded else None,
                "device": loaded.device if loaded else None,
                "queue_depth": queue.depth,
            },
            headers=NO_STORE,
        )

    async def metrics_text(request: Request) -> Response:
        check_metrics_access(request.scope, metrics_token)
        body, media_type = metrics_body(metrics, queue)
        return Response(body, media_type=media_type, headers=NO_STORE)

    async def readyz(_: Request) -> Response:
        problems = []
        if model is not None and model.model is None:
            problems.append("model not loaded yet")
        for check in (blobs.readiness_problem, partial(_database_problem, database)):
            if (problem := await asyncio.to_thread(check)) is not None:
                problems.append(problem)
        return JSONResponse(
            {"ready": not problems, "problems": problems},
            status_code=503 if problems else 200,
            headers=NO_STORE,
        )

    health = [Route("/healthz", healthz), Route("/readyz", readyz)]
    return [*health, Route("/metrics", metrics_text)] if metrics_here else health
