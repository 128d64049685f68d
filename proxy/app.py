"""Wiring only: caches, source, renderer, dialects and routes into one ASGI app (see docs/architecture.md).

Run it as `uvicorn --factory imgedge.proxy.app:create_app_from_env --http
imgedge.web.protocol:LimitedHttpToolsProtocol --no-proxy-headers`: the header limits of docs/security.md
live in that protocol, and `imgedge serve` passes the same options."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.types import ASGIApp

from imgedge.cache.build import (
    build_purge_broadcaster,
    build_result_cache,
    build_single_flight,
    build_source_cache,
)
from imgedge.cache.config import CacheConfig
from imgedge.imaging.errors import LibvipsUnsupported
from imgedge.imaging.requirements import require_libvips
from imgedge.observability import RequestIdMiddleware, configure_logging
from imgedge.proxy import metrics
from imgedge.proxy.asgi import ImmediateHits, ProxyApp
from imgedge.proxy.autoquality import QualityBook
from imgedge.proxy.client_hints import HintPolicy
from imgedge.proxy.config import ProxyConfig
from imgedge.proxy.dialects import build_dialects
from imgedge.proxy.info import InfoService
from imgedge.proxy.lifespan import ProxyLifespan
from imgedge.proxy.popularity import SharedPopularity, VariantPopularity
from imgedge.proxy.prompts import PromptResolver
from imgedge.proxy.render import Renderer
from imgedge.proxy.replies import EXCEPTION_HANDLERS, error_response
from imgedge.proxy.routes.admin import AdminRoutes
from imgedge.proxy.routes.health import HealthRoutes
from imgedge.proxy.routes.info import InfoRoutes
from imgedge.proxy.routes.metrics import MetricsRoute
from imgedge.proxy.search_slot import SearchSlot
from imgedge.proxy.security import SecurityPolicy
from imgedge.proxy.sources import Source, build_source
from imgedge.proxy.transform_handler import TransformHandler
from imgedge.proxy.transform_pool import TransformPool
from imgedge.supervised import stop_with_supervisor
from imgedge.web.bodies import BodyLimit
from imgedge.web.clients import ClientAddress
from imgedge.web.headers import SecurityHeaders
from imgedge.web.metrics_listener import MetricsListener, parse_address
from imgedge.web.origins import OriginCheck


def create_app(
    config: ProxyConfig,
    *,
    source: Source | None = None,
    cache_config: CacheConfig | None = None,
) -> ASGIApp:
    require_libvips()
    cache_cfg = cache_config or CacheConfig.from_env(config.data_dir)
    results = build_result_cache(cache_cfg)
    sources = build_source_cache(cache_cfg)
    broadcaster = build_purge_broadcaster(cache_cfg, [results, sources])
    flights = build_single_flight(cache_cfg, results)
    origin = build_source(config, assets=source)
    qualities = QualityBook(
        results, config.encoder, learn=config.auto_quality_learn, nice=config.transform_nice,
        slot=SearchSlot(config.search_slot_path),
    )  # fmt: skip
    pool = TransformPool(config.transform_threads, queue_size=config.queue_size, nice=config.transform_nice)
    renderer = Renderer(config, origin, sources, pool, qualities=qualities)
    prompts = PromptResolver(config, results, flights)
    hints = HintPolicy(config.client_hints, config.auto_quality_default, config.max_dpr)
    facts = InfoService(renderer, results, max_pixels=config.max_src_pixels)
    popularity = SharedPopularity(VariantPopularity(config.popular_variants), config.popular_dir)
    transforms = TransformHandler(
        dialects=build_dialects(config), policy=SecurityPolicy.from_config(config), results=results,
        flights=flights, renderer=renderer, encoder_version=config.encoder.version, hints=hints,
        remote_ttl_s=config.remote_ttl_s, info=facts, prompts=prompts,
        popularity=popularity.popularity if config.popular_variants else None,
    )  # fmt: skip
    info = InfoRoutes(facts, config.keys, allow_unsigned=config.allow_unsigned)
    assert renderer.budget is not None
    admin = AdminRoutes(
        config.admin_token, broadcaster=broadcaster, results=results, sources=sources, flights=flights,
        origin=origin, transforms=renderer.budget.stats, popularity=popularity, quality=qualities.stats,
    )  # fmt: skip
    scrape = MetricsRoute(results, sources, config.web.metrics_token)
    listener = (
        MetricsListener(parse_address(config.metrics_address, "IMGEDGE_METRICS_ADDRESS"), scrape.body)
        if config.metrics_address
        else None
    )
    service = Starlette(
        routes=[
            *HealthRoutes(origin, cache_cfg.disk_dir).routes(),
            *(scrape.routes() if listener is None else []),
            *admin.routes(),
            *info.routes(),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[Middleware(SecurityHeaders)],
        lifespan=ProxyLifespan(
            config.allow_unsigned,
            results,
            sources,
            broadcaster,
            flights,
            origin,
            pool,
            popularity,
            qualities,
            metrics_listener=listener,
            heartbeat_fd=config.heartbeat_fd,
            prompts=prompts,
            libvips_threads=config.transform_libvips_threads,
        ),
    )
    return web_layers(ProxyApp(transforms, service), config)


def web_layers(app: ProxyApp, config: ProxyConfig) -> ASGIApp:
    """Around the proxy, outermost first: repeated hits answered on the spot, who the client is, the access
    log, no request bodies (no proxy route takes one), other origins' state-changing requests refused (see
    docs/security.md)."""
    web = config.web
    layers: ASGIApp = OriginCheck(app, allowed=web.cors_origins, public_base="", respond=error_response)
    layers = BodyLimit(layers, limit_for=lambda _: 0, respond=error_response, timeout_s=web.body_timeout_s)
    ids = RequestIdMiddleware(layers, observe=metrics.observe_request)
    clients = ClientAddress(ids, web.trusted_proxies)
    return ImmediateHits(clients, ids, app.transforms)


def create_app_from_env() -> ASGIApp:
    stop_with_supervisor()
    configure_logging()
    try:
        require_libvips()  # before reading settings, which may create files
        return create_app(ProxyConfig.from_env())
    except LibvipsUnsupported as exc:
        raise SystemExit(f"imgedge proxy: {exc}") from None
