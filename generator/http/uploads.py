"""Uploads in two steps: POST /v1/uploads issues a single-use URL, PUT /v1/uploads/{token} stores a file."""

from __future__ import annotations

import asyncio
from functools import partial

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from imgedge.generator.assets.upload_grants import UploadGrants
from imgedge.generator.assets.uploads import UploadIntake
from imgedge.generator.errors import ApiError
from imgedge.generator.http.access import Access
from imgedge.generator.http.bodies import read_body, read_json
from imgedge.generator.metrics import Metrics
from imgedge.generator.outbound.proxy_variants import ProxyVariants
from imgedge.generator.security.public_urls import public_url
from imgedge.imaging.errors import LibvipsFailure


def routes(
    access: Access,
    grants: UploadGrants,
    intake: UploadIntake,
    variants: ProxyVariants,
    metrics: Metrics,
    *,
    max_json_bytes: int,
    public_base: str,
) -> list[Route]:
    max_bytes = intake.limits.max_bytes

    async def create_upload(request: Request) -> Response:
        caller = await access.caller(request)
        await access.charge(request, caller, "upload")
        body = await read_json(request, max_json_bytes)
        if not isinstance(body, dict) or any(key != "temporary" for key in body):
            raise ApiError(422, "the body is an object with one optional field, temporary")
        temporary = body.get("temporary", False)
        if not isinstance(temporary, bool):
            raise ApiError(422, "temporary must be true or false")
        token = await asyncio.to_thread(
            partial(grants.issue, temporary, review=access.holds_uploads(caller), creator=caller.owner)
        )
        url = public_url(request, public_base, "upload", token=token)
        return JSONResponse(
            {"upload_url": url, "method": "PUT", "expires_in": grants.ttl_s, "max_bytes": max_bytes},
            status_code=201, headers={"Cache-Control": "no-store"},
        )  # fmt: skip

    async def put_upload(request: Request) -> Response:
        # The signed URL is the credential here: it was issued to a caller POST /v1/uploads accepted.
        grant = await asyncio.to_thread(grants.claim, request.path_params["token"])
        try:
            data = await read_body(request, max_bytes)
            record = await asyncio.to_thread(intake.accept, data, grant.temporary, review=grant.review)
        except BaseException as exc:
            metrics.uploads_refused.inc()
            if isinstance(exc, LibvipsFailure):
                metrics.libvips_failures.inc()
            await asyncio.to_thread(grants.release, grant.upload_id)
            raise
        metrics.uploads_stored.inc()
        if record.moderation == "approved":
            variants.warm(record.id, record.width)
        await asyncio.to_thread(grants.complete, grant.upload_id, record.id)
        image_url = public_url(request, public_base, "image", asset_id=record.id)
        return JSONResponse(
            {"asset_id": record.id, "image_url": image_url, "moderation": record.moderation},
            status_code=201, headers={"Location": image_url, "Cache-Control": "no-store"},
        )  # fmt: skip

    return [
        Route("/v1/uploads", create_upload, methods=["POST"]),
        Route("/v1/uploads/{token}", put_upload, methods=["PUT"], name="upload"),
    ]
