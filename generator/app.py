"""The generator's Starlette app. `uvicorn --factory generator.app:create_app_from_env` runs it."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware

from imgedge.generator.config import GeneratorConfig
from imgedge.generator.errors import ApiError, api_error_handler
from imgedge.generator.generation import warm
from imgedge.generator.model_loader import LoadedModel, load_model
from imgedge.generator.rate_limit import TokenBuckets
from imgedge.generator.routes import admin, health, images, originals, playground, uploads
from imgedge.generator.service import GeneratorService
from imgedge.generator.store import OriginalStore
from imgedge.generator.transform_urls import TransformUrls
from imgedge.observability import RequestIdMiddleware, configure_logging

log = logging.getLogger("imgedge.generator")


def load_and_warm(config: GeneratorConfig) -> LoadedModel:
    started = time.perf_counter()
    model = load_model(config)
    if config.warm_on_start:
        warm(model)
    log.info(
        "model %s ready on %s (%s) in %.2f s (load %.2f s, hash %s)",
        model.model_id, model.device, model.dtype, time.perf_counter() - started, model.load_seconds,
        model.model_hash[:12],
    )  # fmt: skip
    return model


def create_app(
    config: GeneratorConfig,
    store: OriginalStore | None = None,
    *,
    model: LoadedModel | None = None,
    urls: TransformUrls | None = None,
) -> Starlette:
    """`model` and `urls` are for callers that already hold them (tests, the CLI); otherwise the lifespan
    loads the configured model and the proxy's signing key."""
    store = store or OriginalStore(config.data_dir)
    if urls is None:
        urls = TransformUrls.for_data_dir(config.data_dir, config.playground_widths, config.public_proxy_url)
    service = GeneratorService(config, store, urls)
    buckets = TokenBuckets(config.rate_per_minute, config.rate_burst)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        # Paid here, before the port accepts requests, rather than by the first user.
        loaded = model if model is not None else await asyncio.to_thread(load_and_warm, config)
        await service.start(loaded)
        try:
            yield
        finally:
            await service.stop()

    app = Starlette(
        routes=[
            *originals.routes(store, config.proxy_token),
            *images.routes(service, buckets),
            *uploads.routes(service, buckets),
            *admin.routes(service),
            *health.routes(service),
            *playground.routes(service),
        ],
        exception_handlers={ApiError: api_error_handler},
        middleware=[Middleware(RequestIdMiddleware)],
        lifespan=lifespan,
    )
    app.state.service = service
    return app


def create_app_from_env() -> Starlette:
    configure_logging()
    return create_app(GeneratorConfig.from_env())
