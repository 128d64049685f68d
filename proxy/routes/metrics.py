"""`/metrics` for Prometheus; this process's cache sizes are refreshed on each scrape."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from imgedge.cache.tiered import TieredCache
from imgedge.proxy import metrics
from imgedge.proxy.routes import METRICS
from imgedge.web.metrics_access import check_metrics_access


class MetricsRoute:
    def __init__(self, results: TieredCache, sources: TieredCache, token: str = "") -> None:
        self.results = results
        self.sources = sources
        self.token = token  # IMGEDGE_METRICS_TOKEN: what a scraper off this machine must present

    def routes(self) -> list[Route]:
        return [Route(METRICS, self.scrape)]

    def body(self) -> tuple[bytes, str]:
        metrics.record_cache_stats("results", self.results.stats())
        metrics.record_cache_stats("sources", self.sources.stats())
        return metrics.render(), CONTENT_TYPE_LATEST

    async def scrape(self, request: Request) -> Response:
        check_metrics_access(request.scope, self.token)
        body, media_type = self.body()
        return Response(body, media_type=media_type, headers={"Cache-Control": "no-store"})
