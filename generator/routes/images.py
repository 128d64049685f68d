from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from imgedge.generator.destinations import ForbiddenDestination, check_destination
from imgedge.generator.errors import ApiError
from imgedge.generator.generation_request import parse_generation_request
from imgedge.generator.rate_limit import TokenBuckets
from imgedge.generator.service import GeneratorService, describe_record

MAX_JSON_BYTES = 64 * 1024
DEFAULT_LIST_LIMIT = 12
MAX_LIST_LIMIT = 100


def client_key(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def check_rate(request: Request, buckets: TokenBuckets, service: GeneratorService) -> None:
    wait = buckets.take(client_key(request))
    if wait:
        service.metrics.jobs_refused_rate_limited += 1
        raise ApiError(429, "too many requests", {"Retry-After": buckets.retry_after(wait)})


async def read_json(request: Request) -> object:
    body = await request.body()
    if len(body) > MAX_JSON_BYTES:
        raise ApiError(413, "request body too large")
    if not body:
        return {}
    try:
        return json.loads(body)
    except ValueError:
        raise ApiError(400, "request body is not valid JSON") from None


def routes(service: GeneratorService, buckets: TokenBuckets) -> list[Route]:
    async def create_image(request: Request) -> Response:
        check_rate(request, buckets, service)
        generation = parse_generation_request(await read_json(request), service.config)
        if generation.webhook_url is not None:
            try:
                await check_destination(
                    generation.webhook_url, allow_private=service.config.webhook_allow_private
                )
            except ForbiddenDestination as exc:
                raise ApiError(422, str(exc)) from None
        job = service.submit(generation)
        status_url = str(request.url_for("job", job_id=job.id))
        return JSONResponse(
            {"job_id": job.id, "status": job.status, "status_url": status_url},
            status_code=202,
            headers={"Location": status_url, "Cache-Control": "no-store"},
        )

    async def job(request: Request) -> Response:
        found = service.jobs.get(request.path_params["job_id"])
        if found is None:
            raise ApiError(404, "job not found")
        body = found.to_json()
        if found.asset_id is not None:
            body["image_url"] = str(request.url_for("image", asset_id=found.asset_id))
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    async def image(request: Request) -> Response:
        body = service.describe(request.path_params["asset_id"])
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    async def recent_images(request: Request) -> Response:
        limit = request.query_params.get("limit", str(DEFAULT_LIST_LIMIT))
        if not limit.isdigit() or not 1 <= int(limit) <= MAX_LIST_LIMIT:
            raise ApiError(422, f"limit must be an integer between 1 and {MAX_LIST_LIMIT}")
        records = service.store.recent("approved", int(limit))
        return JSONResponse(
            {"images": [describe_record(r, service.urls) for r in records]},
            headers={"Cache-Control": "no-store"},
        )

    return [
        Route("/v1/images", create_image, methods=["POST"]),
        Route("/v1/images", recent_images, methods=["GET"]),
        Route("/v1/jobs/{job_id}", job, methods=["GET"], name="job"),
        Route("/v1/images/{asset_id}", image, methods=["GET"], name="image"),
    ]
