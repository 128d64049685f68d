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


def test_bulk_writes_give_the_scrape_that_direct_observations_give() -> None:
    direct, batched = CollectorRegistry(), CollectorRegistry()
    series = {}
    for name, registry in (("direct", direct), ("batched", batched)):
        counter = Counter("t_requests_total", "r", ["route"], registry=registry)
        buckets = metrics._LATENCY_BUCKETS
        histogram = Histogram("t_seconds", "s", ["route"], buckets=buckets, registry=registry)
        series[name] = (counter.labels("image"), histogram.labels("image"))
    hot = metrics.HotSeries()
    for seconds in _LATENCIES:
        series["direct"][0].inc()
        series["direct"][1].observe(seconds)
        hot.inc(series["batched"][0])
        hot.observe(series["batched"][1], seconds)
    for prefix in ("t_requests", "t_seconds"):
        assert _sample_lines(direct, prefix) == _sample_lines(batched, prefix)


def test_on_an_event_loop_counts_wait_for_the_timer_or_a_scrape() -> None:
    registry = CollectorRegistry()
    counter = Counter("t_hits_total", "h", registry=registry)
    hot = metrics.HotSeries()

    async def requests() -> tuple[float | None, float | None]:
        for _ in range(3):
            hot.inc(counter)
        pending = registry.get_sample_value("t_hits_total")
        hot.flush()  # what a scrape does first
        return pending, registry.get_sample_value("t_hits_total")

    assert asyncio.run(requests()) == (0.0, 3.0)
    hot.inc(counter)  # without a running loop there is nothing to flush later from
    assert registry.get_sample_value("t_hits_total") == 4.0


def test_the_timer_writes_within_the_interval() -> None:
    registry = CollectorRegistry()
    counter = Counter("t_later_total", "l", registry=registry)
    hot = metrics.HotSeries()

    async def requests() -> float | None:
        hot.inc(counter)
        await asyncio.sleep(metrics.FLUSH_INTERVAL_S + 0.2)
        return registry.get_sample_value("t_later_total")

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
