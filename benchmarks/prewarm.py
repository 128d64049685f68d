"""Predictive warm-up: new assets keep arriving on a site whose visitors ask for the site's own sizes.

Two `imgedge serve` instances run the same script, one with the generator warming what the proxy learned
from traffic (`IMGEDGE_WARM_LEARNED=1`, the default) and one warming the fixed srcset widths
(`IMGEDGE_WARM_LEARNED=0`). Each first serves a Zipf mix over the seed assets (the proxy learns from it),
then new assets are uploaded over HTTP one at a time (each approved upload is warmed by the generator); after
each warm-up settles, visitors request the new asset from the same mix. Reported per instance: the share of
first requests of a new asset's variants that were already cached, and the transforms spent (warm-up and
misses), per new asset.

The site's layout (which sizes, which browsers) is the benchmark's model of a real site; a fixed srcset list
matches it only where it happens to overlap, which is the point of learning it, so the gap depends on that
model. Speed is not measured here; the two instances may run at the same time.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from benchmarks.imgedge_server import ImgedgeServer
from benchmarks.load_types import Request
from benchmarks.url_sets import ACCEPTS
from imgedge.url.build import build_path

# The site: (build_path options, share of views) and (browser Accept, share of visitors).
LAYOUT: tuple[tuple[dict[str, Any], int], ...] = (
    ({"width": 256, "height": 256, "fit": "cover"}, 35),  # cards
    ({"width": 828}, 25),  # article body on phones
    ({"width": 384}, 15),  # list items
    ({"width": 1200}, 15),  # hero
    ({"width": 640}, 10),  # one size the srcset list also has
)
BROWSERS = ((ACCEPTS[0], 65), (ACCEPTS[1], 25), (ACCEPTS[2], 10))  # Chromium, Safari, older


@dataclass(slots=True)
class PrewarmResult:
    learned: bool
    new_assets: int
    first_requests: int = 0  # distinct (asset, variant) pairs requested
    first_hits: int = 0  # … whose first request was a cache hit
    requests: int = 0
    hits: int = 0
    warm_transforms: int = 0
    traffic_transforms: int = 0
    taught_requests: int = 0  # what the proxy had counted when the first new asset arrived
    popular: list[dict[str, Any]] = field(default_factory=list)

    @property
    def first_hit_ratio(self) -> float:
        return self.first_hits / self.first_requests if self.first_requests else 0.0

    @property
    def transforms_per_asset(self) -> float:
        return (self.warm_transforms + self.traffic_transforms) / max(1, self.new_assets)


def site_requests(key: bytes | None, asset_ids: list[str], count: int, rng: random.Random) -> list[Request]:
    """Views over assets (Zipf), the layout's sizes and the browsers, in proportion."""
    weights = [1 / (rank**1.1) for rank in range(1, len(asset_ids) + 1)]
    assets = rng.choices(asset_ids, weights=weights, k=count)
    layout = rng.choices([spec for spec, _ in LAYOUT], weights=[w for _, w in LAYOUT], k=count)
    browsers = rng.choices([a for a, _ in BROWSERS], weights=[w for _, w in BROWSERS], k=count)
    return [
        Request(build_path(asset, key=key, fmt="auto", **spec), accept)
        for asset, spec, accept in zip(assets, layout, browsers, strict=True)
    ]


def _misses(client: httpx.Client) -> float:
    lines = client.get("/metrics").text.splitlines()
    found = [ln for ln in lines if ln.startswith("imgedge_cache_lookups_total{") and 'result="miss"' in ln]
    return sum(float(ln.rsplit(" ", 1)[1]) for ln in found)


def _settle(client: httpx.Client, before: float, quiet_s: float = 1.5, limit_s: float = 30.0) -> float:
    """Wait until the proxy's miss count has moved and then stood still for `quiet_s`."""
    deadline = time.monotonic() + limit_s
    last, still_since = before, time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.2)
        now = _misses(client)
        if now != last:
            last, still_since = now, time.monotonic()
        elif last != before and time.monotonic() - still_since >= quiet_s:
            break
        elif last == before and time.monotonic() - still_since >= 3 * quiet_s:
            break  # nothing warmed at all
    return last


def _upload(generator: httpx.Client, data: bytes) -> str:
    grant = generator.post("/v1/uploads", json={})
    grant.raise_for_status()
    stored = generator.put(grant.json()["upload_url"], content=data)
    stored.raise_for_status()
    asset_id: str = stored.json()["asset_id"]
    return asset_id


def _teach(server: ImgedgeServer, client: httpx.Client, requests: list[Request]) -> dict[str, Any]:
    admin = {"Authorization": f"Bearer {server.admin_token}"}
    for request in requests:
        client.get(request.path, headers={"Accept": request.accept})
    deadline = time.monotonic() + 30
    popular: dict[str, Any] = {}
    while time.monotonic() < deadline:  # each proxy worker publishes its counts every few seconds
        popular = client.get("/admin/popular", headers=admin).json()
        if popular.get("requests", 0) >= len(requests) * 0.95:
            break
        time.sleep(0.5)
    return popular


def run(
    server: ImgedgeServer,
    *,
    learned: bool,
    key: bytes | None,
    seed_ids: list[str],
    fresh: Iterator[tuple[str, bytes]],
    new_assets: int,
    views_per_asset: int,
    teach_views: int,
    seed: int = 7,
) -> PrewarmResult:
    rng = random.Random(seed)
    result = PrewarmResult(learned=learned, new_assets=new_assets)
    with (
        httpx.Client(base_url=server.base_url, timeout=60.0) as client,
        httpx.Client(base_url=server.generator_url, timeout=60.0) as generator,
    ):
        popular = _teach(server, client, site_requests(key, seed_ids, teach_views, rng))
        result.taught_requests = int(popular.get("requests", 0))
        result.popular = list(popular.get("variants", []))[:16]
        for _ in range(new_assets):
            _, data = next(fresh)
            before = _misses(client)
            asset_id = _upload(generator, data)
            warmed = _settle(client, before)
            result.warm_transforms += int(warmed - before)
            seen: set[tuple[str, str]] = set()
            for request in site_requests(key, [asset_id], views_per_asset, rng):
                response = client.get(request.path, headers={"Accept": request.accept})
                hit = "; hit" in response.headers.get("cache-status", "")
                variant = (request.path, response.headers.get("content-type", ""))
                if variant not in seen:
                    seen.add(variant)
                    result.first_requests += 1
                    result.first_hits += hit
                result.requests += 1
                result.hits += hit
            result.traffic_transforms += int(_misses(client) - warmed)
    return result
