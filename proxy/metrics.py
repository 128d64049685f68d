"""Prometheus metrics for the proxy; under several workers, PROMETHEUS_MULTIPROC_DIR aggregates them."""

from __future__ import annotations

import asyncio
import bisect
import ctypes
import os

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess

from imgedge.proxy.routes import route_name

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

REQUESTS = Counter("imgedge_proxy_requests_total", "Requests by route and status", ["route", "status"])
LATENCY = Histogram("imgedge_proxy_request_seconds", "Request latency", ["route"], buckets=_LATENCY_BUCKETS)
STAGES = Histogram(
    "imgedge_proxy_stage_seconds", "Time per stage (queue, fetch, transform, encode)", ["stage"],
    buckets=_LATENCY_BUCKETS,
)  # fmt: skip
CACHE_LOOKUPS = Counter("imgedge_cache_lookups_total", "Result cache lookups", ["result", "tier"])
ORIGIN_FETCHES = Counter("imgedge_origin_fetches_total", "Fetches of originals from the origin")
TRANSFORM_ERRORS = Counter("imgedge_transform_errors_total", "Failed requests by error kind", ["kind"])
LIBVIPS_FAILURES = Counter(
    "imgedge_libvips_failures_total", "libvips failing on images that decode (a 500), by stage", ["stage"]
)
QUEUE_DEPTH = Gauge("imgedge_transform_queue_depth", "Transforms admitted", multiprocess_mode="livesum")
VIPS_MEMORY = Gauge("imgedge_vips_memory_bytes", "Memory libvips has allocated", multiprocess_mode="livesum")
CACHE_BYTES = Gauge(
    "imgedge_cache_stored_bytes", "Bytes held per cache tier (per process for memory)", ["cache", "tier"],
    multiprocess_mode="max",
)  # fmt: skip
CACHE_EVICTIONS = Gauge(
    "imgedge_cache_evictions", "Evictions per cache tier since start", ["cache", "tier"],
    multiprocess_mode="livesum",
)  # fmt: skip


def _libvips() -> ctypes.CDLL | None:
    # pyvips' cffi binding does not declare vips_tracked_get_mem; find the loaded libvips and ask it directly.
    try:
        with open("/proc/self/maps") as maps:
            path = next((line.split()[-1] for line in maps if "libvips" in line and ".so" in line), None)
        if path is None:
            return None
        lib = ctypes.CDLL(path)
        lib.vips_tracked_get_mem.restype = ctypes.c_size_t
        return lib
    except (OSError, AttributeError):
        return None


_VIPS = _libvips()


def vips_memory() -> int:
    return int(_VIPS.vips_tracked_get_mem()) if _VIPS is not None else 0


def record_cache_stats(name: str, stats: dict[str, dict[str, int]]) -> None:
    for tier, counts in stats.items():
        if isinstance(counts, dict):
            CACHE_BYTES.labels(name, tier).set(counts.get("stored_bytes", 0))
            CACHE_EVICTIONS.labels(name, tier).set(counts.get("evictions", 0))


def render() -> bytes:
    HOT.flush()
    VIPS_MEMORY.set(vips_memory())
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest()


FLUSH_INTERVAL_S = 1.0


class HotSeries:
    """The series every request updates, counted in process and written to Prometheus in bulk.

    Under several workers each update is a locked write into a file shared through PROMETHEUS_MULTIPROC_DIR,
    and a cache hit made four of them: about 3.9 of its 15 µs in process (benchmarks/results/profile.md).
    Counted by plain label values, one dict lookup per request and series; the labelled series are made the
    first time their values are seen (so a scrape shows them from then on) and written every
    FLUSH_INTERVAL_S from the event loop and before every scrape this process answers, so a scrape can lag
    the other workers' latest requests by that interval.
    """

    def __init__(self, requests: Counter, latency: Histogram, lookups: Counter) -> None:
        self.families = (requests, latency, lookups)  # labelled by route and status, route, result and tier
        self._request_series: dict[tuple[str, int], tuple[Counter, Histogram]] = {}
        self._lookup_series: dict[tuple[str, str], Counter] = {}
        # (route, status) → count, latency sum, then one count per latency bucket (+Inf last)
        self._requests: dict[tuple[str, int], list[float]] = {}
        self._lookups: dict[tuple[str, str], int] = {}
        self._timer_loop: asyncio.AbstractEventLoop | None = None

    def request(self, route: str, status: int, seconds: float) -> None:
        key = (route, status)
        pending = self._requests.get(key)
        if pending is None:
            if key not in self._request_series:
                requests, latency, _ = self.families
                self._request_series[key] = (requests.labels(route, str(status)), latency.labels(route))
            pending = self._requests[key] = [0.0] * (len(_LATENCY_BUCKETS) + 3)
        pending[0] += 1
        pending[1] += seconds
        pending[2 + bisect.bisect_left(_LATENCY_BUCKETS, seconds)] += 1  # the first bound >= seconds
        self._schedule()

    def lookup(self, result: str, tier: str) -> None:
        key = (result, tier)
        if key not in self._lookup_series:
            self._lookup_series[key] = self.families[2].labels(result, tier)
        self._lookups[key] = self._lookups.get(key, 0) + 1
        self._schedule()

    def flush(self) -> None:
        requests, self._requests = self._requests, {}
        lookups, self._lookups = self._lookups, {}
        for key, (count, total, *buckets) in requests.items():
            counter, histogram = self._request_series[key]
            counter.inc(count)
            # prometheus_client has no bulk observe; its child histogram keeps one value per bucket plus the
            # sum (tests/proxy/test_metrics.py checks the scrape against direct observations).
            histogram._sum.inc(total)
            for value, observations in zip(histogram._buckets, buckets, strict=True):
                if observations:
                    value.inc(observations)
        for labels, count in lookups.items():
            self._lookup_series[labels].inc(count)

    def _schedule(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()  # no event loop to flush later from
            return
        if self._timer_loop is not loop:  # none yet, or set on a loop that has gone (tests)
            self._timer_loop = loop
            loop.call_later(FLUSH_INTERVAL_S, self._flush_on_timer)

    def _flush_on_timer(self) -> None:
        self._timer_loop = None
        self.flush()


HOT = HotSeries(REQUESTS, LATENCY, CACHE_LOOKUPS)


def observe_request(path: str, status: int, seconds: float) -> None:
    # Label values from a bounded set: route families and HTTP statuses, never the path itself.
    HOT.request(route_name(path), status, seconds)


def count_cache_lookup(result: str, tier: str) -> None:
    HOT.lookup(result, tier)


QUALITY_LEARNED = Counter(
    "imgedge_quality_learned_total", "q:auto qualities learned by a background search", ["format"]
)
QUALITY_ESTIMATED = Counter(
    "imgedge_quality_estimated_total",
    "q:auto encodes with the estimate (nothing learned yet)",
    ["format"],
)
