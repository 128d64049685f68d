from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from imgedge.generator.errors import ApiError
from imgedge.generator.rate_limit import TokenBuckets
from imgedge.generator.routes.images import check_rate, read_json
from imgedge.generator.service import GeneratorService
from imgedge.generator.uploads import read_body


def routes(service: GeneratorService, buckets: TokenBuckets) -> list[Route]:
    async def create_upload(request: Request) -> Response:
        check_rate(request, buckets, service)
        body = await read_json(request)
        temporary = body.get("temporary", False) if isinstance(body, dict) else None
        if not isinstance(temporary, bool):
            raise ApiError(422, "temporary must be true or false")
        token = service.uploads.issue(temporary)
        url = str(request.url_for("upload", token=token))
        return JSONResponse(
            {"upload_url": url, "method": "PUT", "expires_in": service.config.upload_url_ttl_s,
             "max_bytes": service.config.max_upload_bytes},
            status_code=201, headers={"Cache-Control": "no-store"},
        )  # fmt: skip

    async def put_upload(request: Request) -> Response:
        grant = service.uploads.claim(request.path_params["token"])
        try:
            data = await read_body(request, service.config.max_upload_bytes)
            record = await service.store_upload(data, grant.temporary)
        except BaseException:
            service.metrics.uploads_refused += 1
            service.uploads.release(grant.upload_id)
            raise
        service.uploads.complete(grant.upload_id, record.id)
        image_url = str(request.url_for("image", asset_id=record.id))
        return JSONResponse(
            {"asset_id": record.id, "image_url": image_url, "moderation": record.moderation},
            status_code=201, headers={"Location": image_url, "Cache-Control": "no-store"},
        )  # fmt: skip

    return [
        Route("/v1/uploads", create_upload, methods=["POST"]),
        Route("/v1/uploads/{token}", put_upload, methods=["PUT"], name="upload"),
    ]
