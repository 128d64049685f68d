from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from imgedge.generator.auth import bearer_matches
from imgedge.generator.errors import ApiError
from imgedge.generator.routes.images import read_json
from imgedge.generator.service import GeneratorService, describe_record


def routes(service: GeneratorService) -> list[Route]:
    def require_admin(request: Request) -> None:
        if not bearer_matches(request, service.config.admin_token):
            raise ApiError(401, "admin token required", {"WWW-Authenticate": 'Bearer realm="imgedge-admin"'})

    async def approve(request: Request) -> Response:
        return await decide(request, "approved")

    async def reject(request: Request) -> Response:
        return await decide(request, "rejected")

    async def decide(request: Request, state: str) -> Response:
        require_admin(request)
        body = await read_json(request)
        reason = body.get("reason") if isinstance(body, dict) else None
        if reason is not None and not isinstance(reason, str):
            raise ApiError(422, "reason must be a string")
        record = await service.set_moderation(
            request.path_params["asset_id"], state, reason or f"{state} by admin"
        )
        return JSONResponse(describe_record(record, service.urls), headers={"Cache-Control": "no-store"})

    async def pending(request: Request) -> Response:
        require_admin(request)
        records = service.store.list_by_moderation("pending")
        return JSONResponse(
            {"assets": [describe_record(r, service.urls) for r in records]},
            headers={"Cache-Control": "no-store"},
        )

    return [
        Route("/v1/admin/assets/{asset_id}/approve", approve, methods=["POST"]),
        Route("/v1/admin/assets/{asset_id}/reject", reject, methods=["POST"]),
        Route("/v1/admin/pending", pending, methods=["GET"]),
    ]
