from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from imgedge.proxy import metrics

_LATENCIES = (0.0004, 0.001, 0.003, 0.02, 0.02, 0.7, 42.0)  # on bounds, between them, beyond the last


def _sample_lines(registry: CollectorRegistry, prefix: str) -> list[str]:
    lines = generate_latest(registry).decode().splitlines()
    return sorted(line for line in lines if line.startswith(prefix) and "_created" not in line)


def _families(registry: CollectorRegistry) -> tuple[Counter, Histogram, Counter]:
    return (
        Counter("t_requests_total", "r", ["route", "status"], registry=registry),
        Histogram("t_seconds", "s", ["route"], buckets=metrics._LATENCY_BUCKETS, registry=registry),
        Counter("t_lookups_total", "l", ["result", "tier"], registry=registry),
    )


def test_bulk_writes_give_the_scrape_that_direct_observations_give() -> None:
    direct, batched = CollectorRegistry(), CollectorRegistry()
    requests, latency, lookups = _families(direct)
    hot = metrics.HotSeries(*_families(batched))
    for route, status in (("transform", 200), ("transform", 404), ("info", 200)):
        for seconds in _LATENCIES:
            requests.labels(route, str(status)).inc()
            latency.labels(route).observe(seconds)
            hot.request(route, status, seconds)
    for result, tier in (("hit", "memory"), ("hit", "disk"), ("miss", "")):
        lookups.labels(result, tier).inc()
        hot.lookup(result, tier)
    for prefix in ("t_requests", "t_seconds", "t_lookups"):
        assert _sample_lines(direct, prefix) == _sample_lines(batched, prefix)


def _hits(registry: CollectorRegistry) -> float | None:
    return registry.get_sample_value("t_lookups_total", {"result": "hit", "tier": "memory"})


def test_on_an_event_loop_counts_wait_for_the_timer_or_a_scrape() -> None:
    registry = CollectorRegistry()
    hot = metrics.HotSeries(*_families(registry))

    async def requests() -> tuple[float | None, float | None]:
        for _ in range(3):
            hot.lookup("hit", "memory")
        pending = _hits(registry)
        hot.flush()  # what a scrape does first
        return pending, _hits(registry)

    assert asyncio.run(requests()) == (0.0, 3.0)  # the series shows from its first request
    hot.lookup("hit", "memory")  # without a running loop there is nothing to flush later from
    assert _hits(registry) == 4.0


def test_the_timer_writes_within_the_interval() -> None:
    registry = CollectorRegistry()
    hot = metrics.HotSeries(*_families(registry))

    async def requests() -> float | None:
        hot.lookup("hit", "memory")
        await asyncio.sleep(metrics.FLUSH_INTERVAL_S + 0.2)
        return _hits(registry)

    assert asyncio.run(requests()) == 1.0


def test_several_workers_scrape_the_sum_after_flushing(tmp_path: Path) -> None:
    """Under PROMETHEUS_MULTIPROC_DIR each process writes its own file; the scrape adds them up."""
    worker = textwrap.dedent(
        """
        import asyncio
        from imgedge.proxy import metrics

        async def serve():
            for seconds in (0.002, 0.03, 3.0):
                metrics.observe_request("/abc/w:10/x", 200, seconds)
                metrics.count_cache_lookup("hit", "memory")
            metrics.HOT.flush()  # what the lifespan does at shutdown

        asyncio.run(serve())
        """
    )
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for _ in range(2):
        subprocess.run([sys.executable, "-c", worker], env=env, check=True, timeout=60)
    scrape = subprocess.run(
        [sys.executable, "-c", "from imgedge.proxy import metrics; print(metrics.render().decode())"],
        env=env, check=True, timeout=60, capture_output=True, text=True,
    ).stdout  # fmt: skip
    lines = scrape.splitlines()
    assert 'imgedge_cache_lookups_total{result="hit",tier="memory"} 6.0' in lines
    assert 'imgedge_proxy_request_seconds_count{route="transform"} 6.0' in lines
    assert 'imgedge_proxy_request_seconds_bucket{le="0.0025",route="transform"} 2.0' in lines
    assert 'imgedge_proxy_request_seconds_bucket{le="+Inf",route="transform"} 6.0' in lines
