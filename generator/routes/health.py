from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from generator.service import GeneratorService


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

    return [Route("/healthz", healthz), Route("/metrics", metrics)]
