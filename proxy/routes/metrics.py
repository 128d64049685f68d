"""`/metrics` for Prometheus; this process's cache sizes are refreshed on each scrape."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from imgedge.cache.tiered import TieredCache
from imgedge.proxy import metrics
from imgedge.proxy.routes import METRICS


class MetricsRoute:
    def __init__(self, results: TieredCache, sources: TieredCache) -> None:
        self.results = results
        self.sources = sources

    def routes(self) -> list[Route]:
        return [Route(METRICS, self.scrape)]

    async def scrape(self, _: Request) -> Response:
        metrics.record_cache_stats("results", self.results.stats())
        metrics.record_cache_stats("sources", self.sources.stats())
        return Response(
            metrics.render(), media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"}
        )
