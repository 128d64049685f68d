"""The proxy's Starlette app. The transform handler reads top to bottom in the order of DESIGN.md."""

from __future__ import annotations

import contextlib
import functools
import hmac
import logging
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pyvips
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Scope

from imgedge.cache.broadcast import PurgeNotDelivered
from imgedge.cache.build import (
    build_purge_broadcaster,
    build_result_cache,
    build_single_flight,
    build_source_cache,
)
from imgedge.cache.config import CacheConfig
from imgedge.cache.entry import Entry
from imgedge.cache.keys import asset_tag, variant_key
from imgedge.cache.tiered import TieredCache
from imgedge.errors import PublicError
from imgedge.observability import RequestIdMiddleware, configure_logging
from imgedge.origin_protocol import MODERATION_HEADER, etag_matches
from imgedge.proxy import metrics
from imgedge.proxy.config import ProxyConfig
from imgedge.proxy.errors import Forbidden, Overloaded, Unauthorized
from imgedge.proxy.hit_path import HitFastPath, RawResponse
from imgedge.proxy.http_headers import error_cache_control, server_timing, variant_cache_control
from imgedge.proxy.negotiate import Negotiated, negotiate
from imgedge.proxy.render import Renderer, check_moderation
from imgedge.proxy.sources import Source, build_source
from imgedge.url import TransformSpec, parse_options
from imgedge.url.build import UNSIGNED
from imgedge.url.errors import OptionError
from imgedge.url.path import RequestPath, split_path
from imgedge.url.signing import verify

log = logging.getLogger("imgedge.proxy")


def verify_signature(config: ProxyConfig, signature: str, spec: TransformSpec, asset_id: str) -> None:
    if signature in (UNSIGNED, "unsafe"):
        if not config.allow_unsigned:
            raise Forbidden("unsigned URLs are not allowed here")
    elif not verify(config.keys, spec.canonical(), asset_id, signature):
        raise Forbidden("invalid signature")
    if spec.expires and spec.expires < time.time():
        raise Forbidden("URL has expired")


def check_limits(config: ProxyConfig, spec: TransformSpec) -> None:
    if spec.width > config.max_width:
        raise OptionError("width", f"{spec.width} exceeds the maximum of {config.max_width}")
    if spec.height > config.max_height:
        raise OptionError("height", f"{spec.height} exceeds the maximum of {config.max_height}")


_NOT_TRANSFORMS = ("/admin/", "/healthz", "/readyz", "/metrics")


def variant_response(
    method: str,
    if_none_match: str | None,
    entry: Entry,
    asset_id: str,
    spec: TransformSpec,
    negotiated: Negotiated,
    cache_status: str,
    timings: dict[str, float],
) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body for a variant: 304 on a matching ETag, no body for HEAD."""
    moderation = dict(entry.headers).get(MODERATION_HEADER, "approved")
    headers = {
        "ETag": entry.etag,
        "Cache-Control": variant_cache_control(moderation, spec.expires, time.time()),
        "Cache-Status": cache_status,
        # The type is named here too: Resource Timing hides Content-Type from cross-origin pages.
        "Server-Timing": server_timing(timings) + f', type;desc="{entry.media_type}"',
        "Surrogate-Key": asset_id,
        "Cache-Tag": asset_id,
        "Timing-Allow-Origin": "*",
        "X-Content-Type-Options": "nosniff",
    }
    if negotiated.varies:
        headers["Vary"] = "Accept"
    if etag_matches(if_none_match, entry.etag):
        return 304, headers, b""
    headers["Content-Type"] = entry.media_type
    headers["Content-Length"] = str(len(entry.body))
    return 200, headers, b"" if method == "HEAD" else entry.body


def create_app(
    config: ProxyConfig,
    *,
    source: Source | None = None,
    cache_config: CacheConfig | None = None,
) -> ASGIApp:
    cache_cfg = cache_config or CacheConfig.from_env(config.data_dir)
    results: TieredCache = build_result_cache(cache_cfg)
    sources: TieredCache = build_source_cache(cache_cfg)
    broadcaster = build_purge_broadcaster(cache_cfg, [results, sources])
    flights = build_single_flight(cache_cfg, results)
    origin = source or build_source(config)
    renderer = Renderer(config, origin, sources, anyio.CapacityLimiter(config.workers))

    @functools.lru_cache(maxsize=16384)
    def cached_key(asset_id: str, spec: TransformSpec, output_format: str) -> str:
        return variant_key(asset_id, spec.canonical(with_expiry=False), output_format, config.encoder.version)

    @functools.lru_cache(maxsize=16384)
    def parse(path: str) -> tuple[RequestPath, TransformSpec]:
        # Pure in the path, and hot URLs repeat: cached per process (errors are raised, never cached).
        parts = split_path(path)
        return parts, parse_options(parts.options, config.parse_settings, suffix_format=parts.extension)

    async def transform_endpoint(request: Request) -> Response:
        timings: dict[str, float] = {}
        started = time.perf_counter()
        parts, spec = parse(request.path_params["path"])
        verify_signature(config, parts.signature, spec, parts.asset_id)
        check_limits(config, spec)
        negotiated = negotiate(spec.format, request.headers.get("accept"))
        key = cached_key(parts.asset_id, spec, negotiated.format)
        entry, tier = await results.get(key)
        timings["cache"] = (time.perf_counter() - started) * 1000
        if entry is not None:
            check_moderation(dict(entry.headers).get(MODERATION_HEADER, "approved"), spec)
            status = f"imgedge; hit; detail={tier}"
            metrics.CACHE_LOOKUPS.labels("hit", tier or "").inc()
        else:

            async def miss() -> Entry:
                rendered = await renderer.render(parts.asset_id, spec, negotiated.format, timings)
                await results.put(key, rendered, rendered.tags)
                return rendered

            rendered, collapsed = await flights.run(key, miss)
            entry = rendered
            status = "imgedge; fwd=miss; collapsed" if collapsed else "imgedge; fwd=miss; stored"
            metrics.CACHE_LOOKUPS.labels("collapsed" if collapsed else "miss", "").inc()
            for stage in ("queue", "fetch", "transform", "encode"):
                if stage in timings and not collapsed:
                    metrics.STAGES.labels(stage).observe(timings[stage] / 1000)
        timings["total"] = (time.perf_counter() - started) * 1000
        code, headers, body = variant_response(
            request.method, request.headers.get("if-none-match"), entry, parts.asset_id, spec, negotiated,
            status, timings,
        )  # fmt: skip
        return Response(body, status_code=code, headers=headers)

    async def memory_hit(scope: Scope) -> RawResponse | None:
        """The hit branch above for memory-tier hits, minus Starlette; None hands the request to it."""
        path: str = scope["path"]
        if path.startswith(_NOT_TRANSFORMS):
            return None
        started = time.perf_counter()
        try:
            parts, spec = parse(path[1:])
            verify_signature(config, parts.signature, spec, parts.asset_id)
            check_limits(config, spec)
        except PublicError:
            return None
        request_headers = dict(scope["headers"])
        negotiated = negotiate(spec.format, request_headers.get(b"accept", b"").decode("latin-1") or None)
        entry = results.get_local(cached_key(parts.asset_id, spec, negotiated.format))
        if entry is None:
            return None
        try:
            check_moderation(dict(entry.headers).get(MODERATION_HEADER, "approved"), spec)
        except PublicError:
            return None
        metrics.CACHE_LOOKUPS.labels("hit", "memory").inc()
        elapsed = (time.perf_counter() - started) * 1000
        if_none_match = request_headers.get(b"if-none-match", b"").decode("latin-1") or None
        code, headers, body = variant_response(
            scope["method"], if_none_match, entry, parts.asset_id, spec, negotiated,
            "imgedge; hit; detail=memory", {"cache": elapsed, "total": elapsed},
        )  # fmt: skip
        raw = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]
        return code, raw, body

    def require_admin(request: Request) -> None:
        authorization = request.headers.get("authorization", "")
        if not authorization.startswith("Bearer "):
            raise Unauthorized("admin token required")
        token = authorization.removeprefix("Bearer ").encode()
        if not config.admin_token or not hmac.compare_digest(token, config.admin_token.encode()):
            raise Forbidden("invalid admin token")

    async def stats_endpoint(request: Request) -> Response:
        require_admin(request)
        return JSONResponse(
            {
                "results": results.stats(),
                "sources": sources.stats(),
                "single_flight": flights.stats(),
                "purge": broadcaster.stats(),
                "origin_fetches": getattr(origin, "fetches", None),
            }
        )

    async def purge_endpoint(request: Request) -> Response:
        require_admin(request)
        asset_id = split_path(f"_/{request.path_params['asset_id']}").asset_id
        try:
            removed = await broadcaster.purge(asset_tag(asset_id))
        except PurgeNotDelivered:
            # This process is purged, but others may still serve the asset: the caller must retry.
            raise Overloaded(
                "purge could not reach every proxy instance", headers={"Retry-After": "5"}
            ) from None
        return JSONResponse({"asset_id": asset_id, "purged": removed})

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})

    async def readyz(_: Request) -> Response:
        problems = [p for p in (await origin.ready(), disk_problem(cache_cfg.disk_dir)) if p]
        body = {"ready": not problems, "problems": problems}
        return JSONResponse(body, status_code=503 if problems else 200, headers={"Cache-Control": "no-store"})

    async def metrics_endpoint(_: Request) -> Response:
        metrics.record_cache_stats("results", results.stats())
        metrics.record_cache_stats("sources", sources.stats())
        return Response(
            metrics.render(), media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"}
        )

    async def proxy_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PublicError)
        metrics.TRANSFORM_ERRORS.labels(type(exc).__name__).inc()
        headers = {"Cache-Control": error_cache_control(exc.status), **exc.headers}
        body = "" if request.method == "HEAD" else exc.message + "\n"
        return PlainTextResponse(body, status_code=exc.status, headers=headers)

    async def unexpected_error(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s", request.url.path, exc_info=exc)
        return PlainTextResponse("internal error\n", status_code=500, headers={"Cache-Control": "no-store"})

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        pyvips.cache_set_max(0)  # every request has new input buffers; the op cache would only pin memory
        pyvips.block_untrusted_set(True)
        if config.allow_unsigned:
            log.warning(
                "unsigned URLs are allowed (IMGEDGE_ALLOW_UNSIGNED=1): anyone can request any transform"
            )
        await broadcaster.start()

        async def refresh_gauges() -> None:
            # Each worker publishes its own cache sizes, whichever worker happens to answer the scrape.
            while True:
                metrics.record_cache_stats("results", results.stats())
                metrics.record_cache_stats("sources", sources.stats())
                await anyio.sleep(5)

        try:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(refresh_gauges)
                try:
                    yield
                finally:
                    tasks.cancel_scope.cancel()
        finally:
            await broadcaster.stop()
            await origin.aclose()
            await flights.aclose()
            await results.aclose()
            await sources.aclose()

    app = Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET", "HEAD"]),
            Route("/readyz", readyz, methods=["GET", "HEAD"]),
            Route("/metrics", metrics_endpoint),
            Route("/admin/purge/{asset_id}", purge_endpoint, methods=["POST"]),
            Route("/admin/stats", stats_endpoint),
            Route("/{path:path}", transform_endpoint, methods=["GET", "HEAD"]),
        ],
        exception_handlers={PublicError: proxy_error, Exception: unexpected_error},
        lifespan=lifespan,
    )
    app.state.results = results
    app.state.sources = sources
    app.state.origin = origin
    return RequestIdMiddleware(HitFastPath(app, memory_hit), observe=metrics.observe_request)


def disk_problem(disk_dir: Path | None) -> str | None:
    if disk_dir is None:
        return None
    try:
        disk_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=disk_dir, prefix=".ready-"):
            pass
    except OSError as exc:
        return f"disk cache not writable: {exc.strerror}"
    return None


def create_app_from_env() -> ASGIApp:
    configure_logging()
    return create_app(ProxyConfig.from_env())
