"""Load from a bounded asyncio httpx client, where wrk is not installed (and in the smoke test).

Slower than wrk and in the same CPU budget as the servers, so its absolute numbers are lower; the ratios
between contenders measured with it are still side by side.
"""

from __future__ import annotations

import asyncio
import time

import httpx

from benchmarks.load_types import LoadResult, LoadSpec
from benchmarks.stats import percentile


async def _run(spec: LoadSpec) -> LoadResult:
    latencies: list[float] = []
    errors = hits = misses = 0
    timeline: dict[int, list[int]] = {}
    next_index = 0
    started = time.monotonic()
    deadline = started + spec.duration_s
    limits = httpx.Limits(max_connections=spec.connections, max_keepalive_connections=spec.connections)

    def claim() -> int | None:
        nonlocal next_index
        if next_index >= spec.max_requests or time.monotonic() >= deadline:
            return None
        if spec.unique and next_index >= len(spec.requests):
            return None
        index = next_index % len(spec.requests)
        next_index += 1
        return index

    async with httpx.AsyncClient(base_url=spec.base_url, limits=limits, timeout=10.0) as client:

        async def worker() -> None:
            nonlocal errors, hits, misses
            while (index := claim()) is not None:
                request = spec.requests[index]
                headers = {"Accept": request.accept} if request.accept else {}
                sent = time.perf_counter()
                try:
                    response = await client.get(request.path, headers=headers)
                except httpx.HTTPError:
                    errors += 1
                    continue
                latencies.append((time.perf_counter() - sent) * 1000)
                if response.status_code >= 400:
                    errors += 1
                if spec.track_cache:
                    hit = "; hit" in response.headers.get("cache-status", "")
                    hits, misses = hits + hit, misses + (not hit)
                    bucket = timeline.setdefault(int(time.monotonic() - started), [0, 0])
                    bucket[0] += hit
                    bucket[1] += 1

        await asyncio.gather(*(worker() for _ in range(spec.connections)))
    elapsed = time.monotonic() - started
    return LoadResult(
        client="httpx",
        requests=len(latencies),
        errors=errors,
        duration_s=elapsed,
        p50_ms=percentile(latencies, 50),
        p95_ms=percentile(latencies, 95),
        p99_ms=percentile(latencies, 99),
        hits=hits,
        misses=misses,
        hit_timeline=sorted((second, pair[0], pair[1]) for second, pair in timeline.items()),
    )


def run(spec: LoadSpec) -> LoadResult:
    return asyncio.run(_run(spec))
