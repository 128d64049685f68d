"""Moderation for administrators: approve, reject, and the list of assets waiting for review."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from imgedge.generator.assets.description import AssetDescriber
from imgedge.generator.assets.review import ModerationReview
from imgedge.generator.assets.store import AssetStore
from imgedge.generator.errors import ApiError
from imgedge.generator.http.auth import bearer_matches
from imgedge.generator.http.bodies import read_json
from imgedge.generator.security.text import check_text

NO_STORE = {"Cache-Control": "no-store"}


MAX_REASON_CHARS = 500


def routes(
    admin_token: str,
    review: ModerationReview,
    store: AssetStore,
    describer: AssetDescriber,
    *,
    max_json_bytes: int,
) -> list[Route]:
    def require_admin(request: Request) -> None:
        if not bearer_matches(request, admin_token):
            raise ApiError(401, "admin token required", {"WWW-Authenticate": 'Bearer realm="imgedge-admin"'})

    async def approve(request: Request) -> Response:
        return await decide(request, "approved")

    async def reject(request: Request) -> Response:
        return await decide(request, "rejected")

    async def decide(request: Request, state: str) -> Response:
        require_admin(request)
        body = await read_json(request, max_json_bytes)
        if not isinstance(body, dict) or any(key != "reason" for key in body):
            raise ApiError(422, "the body is an object with one optional field, reason")
        reason = body.get("reason")
        if reason is not None and not isinstance(reason, str):
            raise ApiError(422, "reason must be a string")
        if reason is not None:
            check_text("reason", reason, max_chars=MAX_REASON_CHARS, multiline=True)
        record = review.decide(request.path_params["asset_id"], state, reason or f"{state} by admin")
        return JSONResponse(describer.record(record), headers=NO_STORE)

    async def pending(request: Request) -> Response:
        require_admin(request)
        records = store.list_by_moderation("pending")
        return JSONResponse({"assets": [describer.record(r) for r in records]}, headers=NO_STORE)

    return [
        Route("/v1/admin/assets/{asset_id}/approve", approve, methods=["POST"]),
        Route("/v1/admin/assets/{asset_id}/reject", reject, methods=["POST"]),
        Route("/v1/admin/pending", pending, methods=["GET"]),
    ]
