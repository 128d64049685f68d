from __future__ import annotations

import tempfile

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from imgedge.generator.service import GeneratorService


def routes(service: GeneratorService) -> list[Route]:
    async def healthz(_: Request) -> Response:
        model = service.model
        return JSONResponse(
            {
                "status": "ok" if model is not None else "loading",
                "model": model.model_id if model else None,
                "device": model.device if model else None,
                "queue_depth": service.queue.depth,
            },
            headers={"Cache-Control": "no-store"},
        )

    async def metrics(_: Request) -> Response:
        service.metrics.queue_depth = service.queue.depth
        return PlainTextResponse(
            service.metrics.render(),
            media_type="text/plain; version=0.0.4",
            headers={"Cache-Control": "no-store"},
        )

    async def readyz(_: Request) -> Response:
        problems = []
        if service.model is None:
            problems.append("model not loaded yet")
        try:
            with tempfile.NamedTemporaryFile(dir=service.store.root, prefix=".ready-"):
                pass
        except OSError as exc:
            problems.append(f"store not writable: {exc.strerror}")
        return JSONResponse(
            {"ready": not problems, "problems": problems},
            status_code=503 if problems else 200,
            headers={"Cache-Control": "no-store"},
        )

    return [Route("/healthz", healthz), Route("/readyz", readyz), Route("/metrics", metrics)]
