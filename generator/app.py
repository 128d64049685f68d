"""The generator's Starlette app. `uvicorn --factory imgedge.generator.app:create_app_from_env --http
imgedge.web.protocol:LimitedHttpToolsProtocol --no-proxy-headers` runs it (the protocol enforces the header
limits of docs/security.md; `imgedge serve` passes the same options)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import BaseRoute

from imgedge.env import ConfigError
from imgedge.errors import PublicError
from imgedge.generator.assets.janitor import Janitor
from imgedge.generator.assets.review import ModerationReview
from imgedge.generator.assets.store import AssetStore
from imgedge.generator.assets.upload_grants import UploadGrants
from imgedge.generator.assets.uploads import UploadIntake, UploadLimits
from imgedge.generator.config import GeneratorConfig
from imgedge.generator.http import admin, health, images, openapi, originals, playground, uploads
from imgedge.generator.http.access import Access
from imgedge.generator.http.errors import json_error_response, public_error_response
from imgedge.generator.http.health import metrics_body
from imgedge.generator.http.rate_limit import RateGate, TokenBuckets
from imgedge.generator.jobs.local_queue import InProcessJobQueue
from imgedge.generator.jobs.model_identity import ModelIdentities
from imgedge.generator.jobs.owners import JobOwners
from imgedge.generator.jobs.queue import JobQueue
from imgedge.generator.jobs.redis_queue import RedisJobQueue, queue_redis_url
from imgedge.generator.jobs.reuse import RequestKeys, RequestReuse
from imgedge.generator.jobs.submission import JobSubmitter
from imgedge.generator.keys.repository import ApiKeyRepository
from imgedge.generator.keys.usage import UsageMeter
from imgedge.generator.models.backend import ModelBackend
from imgedge.generator.models.registry import load_and_warm
from imgedge.generator.outbound.transform_urls import TransformUrls
from imgedge.generator.security.limits import UPLOAD_PREFIX, GeneratorLimits
from imgedge.generator.wiring import Parts, default_transform_urls, wire
from imgedge.imaging.errors import LibvipsUnsupported
from imgedge.imaging.requirements import require_libvips
from imgedge.observability import QUIET_PATHS, RequestIdMiddleware, configure_logging
from imgedge.supervised import stop_with_supervisor
from imgedge.web.bodies import BodyLimit
from imgedge.web.clients import ClientAddress
from imgedge.web.headers import SecurityHeaders
from imgedge.web.metrics_listener import MetricsListener, parse_address
from imgedge.web.origins import OriginCheck
from imgedge.web.redact import path_redactor


def runs_jobs(queue: JobQueue) -> bool:
    """Whether this process runs generation itself, and so needs the model (with Redis, workers do)."""
    return isinstance(queue, InProcessJobQueue)


def job_queue(config: GeneratorConfig, parts: Parts) -> JobQueue:
    # With a queue Redis, `imgedge worker` processes run the jobs; otherwise this process does.
    redis_url = queue_redis_url()
    if redis_url:
        return RedisJobQueue(redis_url, parts.jobs, parts.metrics, config.job_queue_size)
    return InProcessJobQueue(parts.jobs, parts.lifecycle, parts.metrics, config.job_queue_size)


def build_access(config: GeneratorConfig, parts: Parts) -> Access:
    # Per-address token buckets for anonymous callers; keys are counted in the database, across hosts.
    gate = RateGate(TokenBuckets(config.rate_per_minute, config.rate_burst), parts.metrics)
    return Access(
        ApiKeyRepository(parts.database), UsageMeter(parts.database, config.rate_per_minute), gate,
        parts.metrics, admin_token=config.admin_token, listen_host=config.host,
        allow_anonymous=config.allow_anonymous, review_anonymous_uploads=config.review_anonymous_uploads,
        proxy_token=config.proxy_token,
    )  # fmt: skip


def api_routes(config: GeneratorConfig, parts: Parts, queue: JobQueue, access: Access) -> list[BaseRoute]:
    submitter = JobSubmitter(parts.policy, parts.jobs, queue, parts.metrics, JobOwners(parts.database))
    grants = UploadGrants(config.upload_secret, config.upload_url_ttl_s, parts.database)
    intake = UploadIntake(
        parts.store, parts.policy, UploadLimits(config.max_upload_bytes, config.max_pixels),
        temporary_ttl_s=config.temporary_ttl_s,
    )  # fmt: skip
    review = ModerationReview(parts.store, parts.variants, parts.metrics)
    reuse = RequestReuse(
        RequestKeys(parts.database),
        parts.jobs,
        parts.store,
        ModelIdentities(parts.model, config),
        parts.policy,
        parts.metrics,
    )
    urls = parts.describer.urls
    return [
        *originals.routes(parts.store, config.proxy_token, originals.LabelPolicy.from_config(config)),
        *images.routes(config, access, submitter, parts.jobs, parts.store, parts.describer, reuse),
        *uploads.routes(
            access, grants, intake, parts.variants, parts.metrics, max_json_bytes=config.max_json_bytes,
            public_base=config.public_url,
        ),
        *admin.routes(
            config.admin_token, review, parts.store, parts.describer, max_json_bytes=config.max_json_bytes
        ),
        *health.routes(
            parts.model if runs_jobs(queue) else None, queue, parts.metrics, parts.store.blobs,
            parts.database, metrics_token=config.web.metrics_token, metrics_here=not config.metrics_address,
        ),
        *openapi.routes(config.max_side, config.max_steps),
        *playground.routes(urls.base_url if urls is not None else ""),
    ]  # fmt: skip


def web_middleware(config: GeneratorConfig) -> list[Middleware]:
    """Outermost first: who the client is, the access log, nosniff, CORS for listed origins, other origins'
    state-changing requests refused, bodies bounded (see docs/security.md)."""
    limits = GeneratorLimits.from_config(config)
    web = config.web
    cors = (
        [Middleware(
            CORSMiddleware, allow_origins=web.cors_origins.listed, allow_methods=["GET", "POST", "PUT"],
            allow_headers=["Authorization", "Content-Type"], expose_headers=["Location", "Retry-After"],
        )]
        if web.cors_origins.listed
        else []
    )  # fmt: skip
    return [
        Middleware(ClientAddress, trusted=web.trusted_proxies),
        # The playground polls its job several times a second: those GETs log at DEBUG.
        Middleware(
            RequestIdMiddleware,
            redact=path_redactor((UPLOAD_PREFIX,)),
            quiet_paths=(*QUIET_PATHS, "/v1/jobs/"),
        ),
        Middleware(SecurityHeaders),
        *cors,
        Middleware(
            OriginCheck, allowed=web.cors_origins, public_base=config.public_url, respond=json_error_response
        ),
        Middleware(
            BodyLimit, limit_for=limits.body_limit, respond=json_error_response, timeout_s=web.body_timeout_s
        ),
    ]


def create_app(
    config: GeneratorConfig,
    store: AssetStore | None = None,
    *,
    model: ModelBackend | None = None,
    urls: TransformUrls | None = None,
) -> Starlette:
    """`model` and `urls` are for callers that already hold them (tests, the CLI); otherwise the lifespan
    loads the configured model and the proxy's signing key."""
    require_libvips()
    parts = wire(config, store=store, urls=urls if urls is not None else default_transform_urls(config))
    queue = job_queue(config, parts)
    access = build_access(config, parts)
    janitor = Janitor(parts.store, parts.outbox, parts.proxy, config.janitor_interval_s, parts.webhooks)

    listener = (
        MetricsListener(
            parse_address(config.metrics_address, "IMGEDGE_GENERATOR_METRICS_ADDRESS"),
            lambda: metrics_body(parts.metrics, queue),
        )
        if config.metrics_address
        else None
    )

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if runs_jobs(queue):
            # Paid here, before the port accepts requests, rather than by the first user.
            parts.model.model = model if model is not None else await asyncio.to_thread(load_and_warm, config)
        await asyncio.to_thread(access.announce, config.host, config.port)
        queue.start()
        housekeeping = asyncio.create_task(janitor.run_forever(), name="imgedge-janitor")
        if listener is not None:
            await listener.start()
        try:
            yield
        finally:
            if listener is not None:
                await listener.stop()
            await queue.stop()
            housekeeping.cancel()
            await asyncio.gather(housekeeping, return_exceptions=True)
            await parts.close()

    return Starlette(
        routes=api_routes(config, parts, queue, access),
        exception_handlers={PublicError: public_error_response},
        middleware=web_middleware(config),
        lifespan=lifespan,
    )


def create_app_from_env() -> Starlette:
    stop_with_supervisor()
    configure_logging()
    try:
        require_libvips()  # before reading settings, which may create files
        return create_app(GeneratorConfig.from_env())
    except (LibvipsUnsupported, ConfigError) as exc:
        # A setting to fix (an unreachable database, a refused S3 credential) or a libvips to replace: one
        # line naming it.
        raise SystemExit(f"imgedge generator: {exc}") from None
