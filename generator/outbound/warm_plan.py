"""Which variants to render for a new asset before its first visitor.

With learning on, the proxy's most requested variants (canonical options + the format served, counted over
real traffic and asked for with `GET /admin/popular`) are warmed in order until they cover
`coverage` of the counted requests or the budget is spent; until the proxy has counted enough requests, or
when it cannot be asked, the fixed srcset widths are warmed in both negotiated formats, as before.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from imgedge.errors import PublicError
from imgedge.generator.outbound.proxy_client import ProxyClient, WarmRequest
from imgedge.generator.outbound.transform_urls import TransformUrls
from imgedge.url.build import build_path

log = logging.getLogger("imgedge.generator")

# An Accept that makes f:auto negotiate each format; explicit formats and the legacy group ignore it.
ACCEPT_FOR = {"avif": "image/avif,image/webp,*/*", "webp": "image/webp,*/*"}
FALLBACK_ACCEPTS = (ACCEPT_FOR["avif"], ACCEPT_FOR["webp"])
MIN_LEARNED_REQUESTS = 20  # fewer counted requests than this say little about what visitors want
LEARNED_TTL_S = 60.0  # one `GET /admin/popular` serves every asset approved within this long
# ...if it said something; after a failure, or too little traffic to go by, the next approval asks this soon
LEARNED_RETRY_S = 5.0


@dataclass(frozen=True, slots=True)
class WarmPolicy:
    learned: bool = True
    budget: int = 12  # transforms per new asset at most
    coverage: float = 0.9  # stop once the warmed variants cover this share of counted requests


@dataclass(frozen=True, slots=True)
class Learned:
    options: str
    format: str
    share: float


class WarmPlanner:
    def __init__(
        self,
        proxy: ProxyClient,
        urls: TransformUrls,
        policy: WarmPolicy,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.proxy = proxy
        self.urls = urls
        self.policy = policy
        self._clock = clock
        self._learned: list[Learned] = []
        self._fetched_at: float | None = None

    async def plan(self, asset_id: str, source_width: int | None) -> list[WarmRequest]:
        learned = await self._current() if self.policy.learned else []
        if learned:
            planned = self._from_learned(asset_id, learned)
            if planned:
                log.info("warming %s with %d learned variants", asset_id, len(planned))
                return planned
        if self.policy.learned:
            log.info("warming %s with the srcset widths: nothing learned from the proxy yet", asset_id)
        return self._fixed(asset_id, source_width)

    def _fixed(self, asset_id: str, source_width: int | None) -> list[WarmRequest]:
        paths = self.urls.paths(asset_id, source_width)
        planned = [WarmRequest(path, accept) for path in paths for accept in FALLBACK_ACCEPTS]
        return planned[: self.policy.budget]

    def _from_learned(self, asset_id: str, learned: list[Learned]) -> list[WarmRequest]:
        planned: list[WarmRequest] = []
        covered = 0.0
        for item in learned:
            if len(planned) >= self.policy.budget or covered >= self.policy.coverage:
                break
            try:
                options = [segment for segment in item.options.split("/") if segment]
                path = build_path(asset_id, key=self.urls.key, extra=options)
            except PublicError:
                continue  # options this generator's URL package does not know (a newer proxy)
            planned.append(WarmRequest(path, ACCEPT_FOR.get(item.format, "*/*")))
            covered += item.share
        return planned

    async def _current(self) -> list[Learned]:
        now = self._clock()
        lifetime = LEARNED_TTL_S if self._learned else LEARNED_RETRY_S
        if self._fetched_at is None or now - self._fetched_at >= lifetime:
            self._fetched_at = now
            learned = parse_popular(await self.proxy.popular(self.policy.budget * 4))
            # A failed ask keeps what an earlier one learned: a proxy busy for a moment has not forgotten it.
            self._learned = learned or self._learned
        return self._learned


def parse_popular(body: object) -> list[Learned]:
    """The proxy's answer, checked; an empty list when it is missing, malformed or based on too little."""
    if not isinstance(body, dict) or not isinstance(body.get("variants"), list):
        return []
    requests = body.get("requests")
    if not isinstance(requests, int) or requests < MIN_LEARNED_REQUESTS:
        return []
    learned = []
    for row in body["variants"]:
        if not isinstance(row, dict):
            continue
        options, fmt, count = row.get("options"), row.get("format"), row.get("count")
        if isinstance(options, str) and isinstance(fmt, str) and isinstance(count, int) and count > 0:
            learned.append(Learned(options, fmt, count / requests))
    return learned
