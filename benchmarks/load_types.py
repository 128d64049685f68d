"""What a load run is asked to do, and what it reports, whichever client produced the load."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Request:
    path: str
    accept: str = ""


@dataclass(frozen=True, slots=True)
class LoadSpec:
    base_url: str  # always http://127.0.0.1:PORT
    requests: tuple[Request, ...]
    connections: int
    duration_s: float
    max_requests: int  # the run stops at whichever bound comes first
    unique: bool = False  # each request at most once (uncached workloads): stop when the list is used up
    track_cache: bool = False  # read Cache-Status on every response (costs the client some CPU)


@dataclass(slots=True)
class LoadResult:
    client: str
    requests: int
    errors: int  # connection errors, timeouts and non-2xx answers
    duration_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    hits: int = 0
    misses: int = 0
    hit_timeline: list[tuple[int, int, int]] = field(default_factory=list)  # (second, hits, responses)
    server_cpu_s: float = 0.0  # what the contender's processes spent meanwhile (0: not measured)

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s > 0 else 0.0

    @property
    def cpu_ms_per_request(self) -> float | None:
        return self.server_cpu_s * 1000 / self.requests if self.server_cpu_s > 0 and self.requests else None
