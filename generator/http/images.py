"""Generation requests and what they made: POST/GET /v1/images, GET /v1/images/{id}, GET /v1/jobs/{id}."""

from __future__ import annotations

import asyncio
import functools
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from imgedge.generator.assets.description import AssetDescriber
from imgedge.generator.assets.records import AssetRecord
from imgedge.generator.assets.store import AssetStore
from imgedge.generator.config import GeneratorConfig
from imgedge.generator.errors import ApiError
from imgedge.generator.http.access import Access
from imgedge.generator.http.bodies import read_json
from imgedge.generator.jobs.records import Job
from imgedge.generator.jobs.repository import JobRepository
from imgedge.generator.jobs.reuse import NEW, REUSED, Outcome, RequestReuse
from imgedge.generator.jobs.submission import JobSubmitter
from imgedge.generator.models.request import GenerationRequest, parse_generation_request
from imgedge.generator.outbound.destinations import ForbiddenDestination, check_destination
from imgedge.generator.security.clients import caps_for, check_generation_caps
from imgedge.generator.security.limits import GeneratorLimits
from imgedge.generator.security.public_urls import public_url
from imgedge.generator.security.query import int_param
from imgedge.generator.security.visibility import may_see

DEFAULT_LIST_LIMIT = 12
MAX_LIST_LIMIT = 100
NO_STORE = {"Cache-Control": "no-store"}


async def _check_webhook(generation: GenerationRequest, allow_private: bool) -> None:
    # The URL's form was checked with the request; here, where its name resolves to.
    if generation.webhook_url is not None:
        try:
            await check_destination(generation.webhook_url, allow_private=allow_private)
        except ForbiddenDestination as exc:
            raise ApiError(422, str(exc)) from None


def explicit_seed(body: object) -> bool:
    # Only a request that names its seed can be identical to another; without one it asks for a new image.
    return isinstance(body, dict) and body.get("seed") is not None


class JobAnswers:
    """What POST /v1/images and GET /v1/jobs/{id} answer for a job."""

    def __init__(self, public_base: str, store: AssetStore) -> None:
        self.public_base = public_base
        self.store = store

    async def answer(self, request: Request, outcome: Outcome, owner: str) -> Response:
        job = outcome.job
        if outcome.how == REUSED:
            if job.asset_id is not None:  # who asks for the same pixels is one of their creators
                await anyio.to_thread.run_sync(self.store.creators.record, job.asset_id, owner)
            return JSONResponse({**self.job_body(request, job), "reused": True}, headers=NO_STORE)
        status_url = public_url(request, self.public_base, "job", job_id=job.id)
        return JSONResponse(
            {"job_id": job.id, "status": job.status, "status_url": status_url, "reused": False},
            status_code=202,
            headers={"Location": status_url, **NO_STORE},
        )

    def job_body(self, request: Request, found: Job) -> dict[str, Any]:
        body = found.to_json()
        if found.asset_id is not None:
            body["image_url"] = public_url(request, self.public_base, "image", asset_id=found.asset_id)
        return body


def routes(
    config: GeneratorConfig,
    access: Access,
    submitter: JobSubmitter,
    jobs: JobRepository,
    store: AssetStore,
    describer: AssetDescriber,
    reuse: RequestReuse,
) -> list[Route]:
    limits = GeneratorLimits.from_config(config)
    answers = JobAnswers(config.public_url, store)
    answer, job_body = answers.answer, answers.job_body

    async def create_image(request: Request) -> Response:
        caller = await access.caller(request)
        if caller.key is None:
            await access.charge(request, caller, "generate")  # the per-address bucket, before anything else
        body = await read_json(request, limits.max_json_bytes)
        generation = parse_generation_request(body, config)
        caps = caps_for(caller, limits)
        check_generation_caps(generation, caps)
        await _check_webhook(generation, config.webhook_allow_private)
        joinable = generation.webhook_url is None
        if explicit_seed(body):
            found = await reuse.existing(generation, joinable=joinable)
            if found is not None:
                access.count_read(caller)  # a reuse is a cheap request for a key, not a generation
                return await answer(request, found, caller.owner)
        if caller.key is not None:
            await access.charge(request, caller, "generate")
        submit = functools.partial(submitter.submit, generation, owner=caller.owner, max_jobs=caps.max_jobs)
        if not explicit_seed(body):
            return await answer(request, Outcome(await submit(), NEW), caller.owner)  # a new image, as asked
        outcome = await reuse.submit(generation, lambda job_id: submit(job_id=job_id), joinable=joinable)
        return await answer(request, outcome, caller.owner)

    async def job(request: Request) -> Response:
        access.count_read(await access.caller(request))
        found = await asyncio.to_thread(jobs.get, request.path_params["job_id"])
        if found is None:
            raise ApiError(404, "job not found")
        return JSONResponse(job_body(request, found), headers=NO_STORE)

    return [
        Route("/v1/images", create_image, methods=["POST"]),
        Route("/v1/jobs/{job_id}", job, methods=["GET"], name="job"),
        *_image_routes(access, store, describer),
    ]


def _image_routes(access: Access, store: AssetStore, describer: AssetDescriber) -> list[Route]:
    async def image(request: Request) -> Response:
        viewer = await access.caller(request)
        access.count_read(viewer)

        def visible(record: AssetRecord) -> bool:
            return may_see(record, viewer, store.creators)

        # Off the loop: the database may be a server, and an asset stored before placeholders existed gets
        # them computed now.
        body = await anyio.to_thread.run_sync(describer.by_id, request.path_params["asset_id"], visible)
        return JSONResponse(body, headers=NO_STORE)

    async def recent_images(request: Request) -> Response:
        access.count_read(await access.caller(request))
        limit = int_param(
            "limit", request.query_params.get("limit"), default=DEFAULT_LIST_LIMIT, low=1, high=MAX_LIST_LIMIT
        )
        records = await asyncio.to_thread(store.recent, "approved", limit)
        images = await anyio.to_thread.run_sync(lambda: [describer.record(r) for r in records])
        return JSONResponse({"images": images}, headers=NO_STORE)

    return [
        Route("/v1/images", recent_images, methods=["GET"]),
        Route("/v1/images/{asset_id}", image, methods=["GET"], name="image"),
    ]
