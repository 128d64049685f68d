"""`POST /admin/purge/{asset_id}`, `POST /admin/purge-source?url=…` (every variant of a remote or S3 source),
`GET /admin/stats` and `GET /admin/popular`, behind the admin bearer token."""

from __future__ import annotations

import os
from collections.abc import Callable

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from imgedge.cache.broadcast import PurgeBroadcaster, PurgeNotDelivered
from imgedge.cache.build import Flights
from imgedge.cache.keys import asset_tag
from imgedge.cache.tiered import TieredCache
from imgedge.proxy.errors import BadRequest, Overloaded
from imgedge.proxy.popularity import SharedPopularity
from imgedge.proxy.routes import ADMIN_PREFIX
from imgedge.proxy.security import require_admin_token
from imgedge.proxy.sources import Source, SourceRef
from imgedge.url.build import UNSIGNED
from imgedge.url.path import split_path

DEFAULT_POPULAR_LIMIT = 32
MAX_POPULAR_LIMIT = 256


class AdminRoutes:
    def __init__(
        self,
        admin_token: str,
        *,
        broadcaster: PurgeBroadcaster,
        results: TieredCache,
        sources: TieredCache,
        flights: Flights,
        origin: Source,
        transforms: Callable[[], dict[str, int]] | None = None,
        popularity: SharedPopularity | None = None,
        quality: Callable[[], dict[str, int]] | None = None,
    ) -> None:
        self.admin_token = admin_token
        self.transforms = transforms  # the transform budget's slots and bytes in use (security/cost.py)
        self.quality = quality  # q:auto searches in the background (autoquality.py)
        self.broadcaster = broadcaster
        self.results = results
        self.sources = sources
        self.flights = flights
        self.origin = origin
        self.popularity = popularity

    def routes(self) -> list[Route]:
        return [
            Route(f"{ADMIN_PREFIX}purge/{{asset_id}}", self.purge, methods=["POST"]),
            Route(f"{ADMIN_PREFIX}purge-source", self.purge_source, methods=["POST"]),
            Route(f"{ADMIN_PREFIX}stats", self.stats),
            Route(f"{ADMIN_PREFIX}popular", self.popular),
        ]

    async def popular(self, request: Request) -> Response:
        """The most requested variants on this host, for the generator's warm-up of new assets."""
        require_admin_token(request.headers.get("authorization", ""), self.admin_token)
        limit = popular_limit(request.query_params.get("limit", ""))
        if self.popularity is None:
            return JSONResponse({"variants": [], "requests": 0, "processes": 0})
        others = await anyio.to_thread.run_sync(self.popularity.others)
        ranking = self.popularity.top(limit, others)
        total = ranking.requests
        return JSONResponse(
            {
                "variants": [
                    {"options": v.options, "format": v.format, "count": v.count,
                     "share": round(v.count / total, 4) if total else 0.0}
                    for v in ranking.variants
                ],
                "requests": total,
                "processes": ranking.processes,
            },
            headers={"Cache-Control": "no-store"},
        )  # fmt: skip

    async def stats(self, request: Request) -> Response:
        require_admin_token(request.headers.get("authorization", ""), self.admin_token)
        return JSONResponse(
            {
                "pid": os.getpid(),  # which worker answered: each has its own memory tiers and counters
                "results": self.results.stats(),
                "sources": self.sources.stats(),
                "single_flight": self.flights.stats(),
                "purge": self.broadcaster.stats(),
                "origin_fetches": getattr(self.origin, "fetches", None),
                "transforms": self.transforms() if self.transforms is not None else None,
                "quality": self.quality() if self.quality is not None else None,
            }
        )

    async def purge(self, request: Request) -> Response:
        require_admin_token(request.headers.get("authorization", ""), self.admin_token)
        asset_id = purged_asset_id(request.path_params["asset_id"])
        return JSONResponse({"asset_id": asset_id, "purged": await self._purge(asset_id)})

    async def purge_source(self, request: Request) -> Response:
        """Every variant made from one remote or S3 original (and the cached original): the URL as the
        transform URLs named it."""
        require_admin_token(request.headers.get("authorization", ""), self.admin_token)
        url = request.query_params.get("url", "")
        ref = SourceRef.parse(url, part="url")
        return JSONResponse(
            {"url": ref.location, "cache_id": ref.cache_id, "purged": await self._purge(ref.cache_id)}
        )

    async def _purge(self, cache_id: str) -> int:
        try:
            return await self.broadcaster.purge(asset_tag(cache_id))
        except PurgeNotDelivered:
            # This process is purged, but others may still serve the asset: the caller must retry.
            raise Overloaded(
                "purge could not reach every proxy instance", headers={"Retry-After": "5"}
            ) from None


def popular_limit(raw: str) -> int:
    if not raw:
        return DEFAULT_POPULAR_LIMIT
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 6) or not 1 <= int(raw) <= MAX_POPULAR_LIMIT:
        raise BadRequest(f"limit must be an integer within 1..{MAX_POPULAR_LIMIT}")
    return int(raw)


def purged_asset_id(raw: str) -> str:
    """The asset id as a transform URL would name it (same checks, `.ext` dropped); a 400 otherwise."""
    return split_path(f"{UNSIGNED}/{raw}").asset_id
