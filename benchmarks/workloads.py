"""The workloads, each a side-by-side comparison (or a single measurement) on the running contenders."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import httpx_load, load, saturated, url_sets, wrk_load
from benchmarks.alternate import Comparison, Contender, CpuReader, compare
from benchmarks.contenders import Contenders
from benchmarks.cpu_time import trees_cpu_s
from benchmarks.load_types import LoadResult, LoadSpec, Request
from benchmarks.modes import Mode
from benchmarks.nextjs_server import path as nextjs_path
from benchmarks.thumbor_server import path as thumbor_path
from imgedge.url.build import build_path

_ESTIMATED_MAX_UNCACHED_RPS = 600  # sizes the unique URL lists: wrk reports the whole -d even if one runs out
WEBP_ACCEPT = "image/webp,*/*"


@dataclass(slots=True)
class Workloads:
    c: Contenders
    mode: Mode
    run_dir: Path
    prefer_wrk: bool
    log: Callable[[str], None]
    _unique: url_sets.UniqueVariants = field(init=False)
    _versions: Iterator[int] = field(init=False)  # Next.js: `?v=N` makes each request a new cache key

    def __post_init__(self) -> None:
        self._unique = url_sets.UniqueVariants(self.c.key)
        self._versions = itertools.count(1)

    # ---- load helpers -------------------------------------------------------------------------------

    def load(
        self, base_url: str, requests: list[Request], connections: int, *, unique: bool = False,
        track: bool = False, duration_s: float | None = None, scratch: str = "load", wrk: bool | None = None,
    ) -> LoadResult:  # fmt: skip
        spec = LoadSpec(
            base_url, tuple(requests), connections, duration_s or self.mode.round_s, self.mode.max_requests,
            unique=unique, track_cache=track,
        )  # fmt: skip
        prefer = self.prefer_wrk if wrk is None else wrk
        result = load.run(spec, self.run_dir / scratch, prefer_wrk=prefer)
        if result.requests >= spec.max_requests:
            self.log(f"  the run reached its cap of {spec.max_requests} requests: its rate is a lower bound")
        return result

    def _compare(
        self, name: str, contenders: dict[str, Contender], rounds: int, pairs: list[tuple[str, str]]
    ) -> Comparison:
        return compare(name, contenders, rounds, pairs, self.log, cpu=self._cpu_readers(contenders))

    def _cpu_readers(self, contenders: dict[str, Contender]) -> dict[str, CpuReader]:
        """Each contender's server processes: imgedge's whole `imgedge serve` tree (proxy workers, and the
        generator that serves cold originals), thumbor's, Next.js', the bare endpoint's, the loop's pool."""
        c = self.c
        roots: dict[str, list[int]] = {"limit": c.limit.pids()}
        for label, server in (("imgedge", c.imgedge), ("thumbor", c.thumbor), ("nextjs", c.nextjs),
                              ("bare starlette", c.bare)):  # fmt: skip
            if server is not None:
                roots[label] = [server.process.pid]
        readers: dict[str, CpuReader] = {}
        for name in contenders:
            # "imgedge thumbor URLs" and "imgedge webp" are imgedge; "limit (pixels)" is the loop's pool.
            owner = next((key for key in roots if name == key or name.startswith(f"{key} ")), None)
            if owner is not None:
                readers[name] = functools.partial(trees_cpu_s, roots[owner])
        return readers

    def counted(self, base_url: str, requests: list[Request], connections: int) -> LoadResult:
        """Exactly these requests, each once, timed from first to last (for lists too short for wrk)."""
        spec = LoadSpec(
            base_url, tuple(requests), connections, 600.0, len(requests), unique=True, track_cache=True
        )
        return httpx_load.run(spec)

    def _unique_imgedge(self, fmt: str, *, quality: int | None = 80, accept: str = "") -> list[Request]:
        ids = [o.asset_id for o in self.c.squares]
        count = int(_ESTIMATED_MAX_UNCACHED_RPS * self.mode.round_s)
        return self._unique.take(ids, fmt, count, quality=quality, accept=accept)

    def _nextjs_requests(self, count: int, accept: str) -> list[Request]:
        names = [self.c.file_name(o) for o in self.c.squares]
        return [
            Request(nextjs_path(name, version=next(self._versions)), accept)
            for _, name in zip(range(count), itertools.cycle(names), strict=False)
        ]

    # ---- uncached: unique variants of cached originals ----------------------------------------------

    def _imgedge_uncached(self, fmt: str, *, quality: int | None = 80, accept: str = "") -> Contender:
        assert self.c.imgedge is not None
        base = self.c.imgedge.base_url
        connections = self.mode.uncached_connections

        def run(_: int) -> LoadResult:
            requests = self._unique_imgedge(fmt, quality=quality, accept=accept)
            return self.load(base, requests, connections, unique=True, track=True)

        return run

    def _dialect_contenders(self, fmt: str) -> dict[str, Contender]:
        """The same uncached workload through imgedge's thumbor and imgproxy URLs."""
        assert self.c.imgedge is not None
        base, connections = self.c.imgedge.base_url, self.mode.uncached_connections
        ids = [o.asset_id for o in self.c.squares]
        count = int(_ESTIMATED_MAX_UNCACHED_RPS * self.mode.round_s)
        contenders: dict[str, Contender] = {}
        for dialect in ("thumbor", "imgproxy"):
            variants = url_sets.UniqueDialectVariants(dialect)

            def run(_: int, variants: url_sets.UniqueDialectVariants = variants) -> LoadResult:
                return self.load(base, variants.take(ids, fmt, count), connections, unique=True, track=True)

            contenders[f"imgedge {dialect} URLs"] = run
        return contenders

    def _warm_sources(self) -> None:
        # Every worker's source cache holds the originals' pixels before misses are measured (as in
        # production, where originals are requested many times); the cold workload measures the rest.
        assert self.c.imgedge is not None
        warm = self._unique_imgedge("webp")
        self.load(self.c.imgedge.base_url, warm, self.mode.uncached_connections, unique=True,
                  duration_s=min(2.0, self.mode.round_s))  # fmt: skip

    def uncached(self, fmt: str, rounds: int) -> Comparison:
        contenders: dict[str, Contender] = {}
        pairs: list[tuple[str, str]] = []
        if self.c.imgedge is not None:
            self._warm_sources()
            contenders["imgedge"] = self._imgedge_uncached(fmt)
            pairs = [("imgedge", "limit")] + ([("imgedge", "limit (pixels)")] if fmt == "webp" else [])
            if fmt == "webp":
                dialects = self._dialect_contenders(fmt)
                contenders.update(dialects)
                pairs += [(name, "imgedge") for name in dialects] + [("imgedge", name) for name in dialects]
        if self.c.thumbor is not None and fmt in ("webp", "jpeg"):
            contenders["thumbor"] = self._thumbor(fmt, self.mode.round_s)
            pairs += [("imgedge", "thumbor")] if "imgedge" in contenders else []
        if self.c.nextjs is not None and fmt == "webp":
            contenders["nextjs"] = self._nextjs(WEBP_ACCEPT)
            pairs += [("imgedge", "nextjs")] if "imgedge" in contenders else []
        contenders["limit"] = self._limit("png", fmt)
        if fmt == "webp":
            contenders["limit (pixels)"] = self._limit("pixels", fmt)
        return self._compare(f"uncached {fmt}", contenders, rounds, pairs)

    def _thumbor(self, fmt: str, duration_s: float, count: int = 0) -> Contender:
        assert self.c.thumbor is not None
        base = self.c.thumbor.base_url
        files = [thumbor_path(self.c.file_name(o), fmt=fmt) for o in self.c.squares]
        requests = [Request(p) for p in files]
        self.load(base, requests, self.mode.uncached_connections, duration_s=1.0)  # warm-up

        def run(_: int) -> LoadResult:
            if count:
                cycled = [r for _, r in zip(range(count), itertools.cycle(requests), strict=False)]
                return self.counted(base, cycled, self.mode.uncached_connections)
            return self.load(base, requests, self.mode.uncached_connections, duration_s=duration_s)

        return run

    def _nextjs(self, accept: str, count: int = 0) -> Contender:
        assert self.c.nextjs is not None
        base = self.c.nextjs.base_url
        connections = self.mode.uncached_connections
        self.counted(base, self._nextjs_requests(2 * len(self.c.squares), accept), connections)  # warm-up

        def run(_: int) -> LoadResult:
            if count:
                return self.counted(base, self._nextjs_requests(count, accept), connections)
            requests = self._nextjs_requests(int(_ESTIMATED_MAX_UNCACHED_RPS * self.mode.round_s), accept)
            return self.load(base, requests, connections, unique=True)

        return run

    def _limit(self, start: str, fmt: str) -> Contender:
        def run(_: int) -> LoadResult:
            return self.c.limit.run(start, fmt, duration_s=self.mode.round_s, max_ops=self.mode.max_requests)

        return run

    # ---- AVIF through f:auto, side by side with WebP misses -----------------------------------------

    def avif_auto(self, rounds: int) -> Comparison:
        """What Chromium gets: f:auto with its Accept, the table's default quality, against WebP misses."""
        contenders: dict[str, Contender] = {}
        pairs: list[tuple[str, str]] = []
        if self.c.imgedge is not None:
            self._warm_sources()
            accept = url_sets.CHROMIUM_ACCEPT
            contenders["imgedge"] = self._imgedge_uncached("auto", quality=None, accept=accept)
            contenders["imgedge webp"] = self._imgedge_uncached("webp", quality=None)
            pairs = [("imgedge", "imgedge webp"), ("imgedge", "limit")]
        if self.c.nextjs is not None:
            contenders["nextjs"] = self._nextjs(url_sets.CHROMIUM_ACCEPT)
            pairs += [("imgedge", "nextjs")] if "imgedge" in contenders else []
        contenders["limit"] = self._limit("pixels", "avif")
        return self._compare("uncached avif (f:auto)", contenders, rounds, pairs)

    # ---- cold: the first request of a never-seen asset ----------------------------------------------

    def cold(self, rounds: int) -> Comparison:
        per_round = self.mode.cold_per_round
        contenders: dict[str, Contender] = {}
        pairs: list[tuple[str, str]] = []
        if self.c.imgedge is not None and len(self.c.cold_ids) >= rounds * per_round:
            imgedge = self.c.imgedge

            def run_imgedge(index: int) -> LoadResult:
                ids = self.c.cold_ids[index * per_round : (index + 1) * per_round]
                paths = [build_path(i, key=self.c.key, width=400, fmt="webp", quality=80) for i in ids]
                return self.counted(
                    imgedge.base_url, [Request(p) for p in paths], self.mode.uncached_connections
                )

            contenders["imgedge"] = run_imgedge
        if self.c.thumbor is not None:
            contenders["thumbor"] = self._thumbor("webp", 0, count=per_round)
            pairs += [("imgedge", "thumbor")] if "imgedge" in contenders else []
        if self.c.nextjs is not None:
            contenders["nextjs"] = self._nextjs(WEBP_ACCEPT, count=per_round)
            pairs += [("imgedge", "nextjs")] if "imgedge" in contenders else []
        return self._compare("cold webp", contenders, rounds, pairs)

    # ---- cache hits ---------------------------------------------------------------------------------

    def hit_requests(self) -> list[Request]:
        return url_sets.fixed_variants(
            self.c.key, [o.asset_id for o in self.c.squares], ("webp", "jpeg", "avif")
        )

    def cache_hits(self, *, wrk: bool, connections: int) -> Comparison:
        client = "wrk" if wrk and wrk_load.available() else "httpx"
        contenders: dict[str, Contender] = {}
        requests = [Request("/hit")]
        if self.c.imgedge is not None:
            base = self.c.imgedge.base_url
            requests = self.hit_requests()
            for _ in range(2):  # every worker needs each variant in its memory tier before hits are measured
                self.load(base, requests, 8, duration_s=1.0)

            def run_imgedge(_: int) -> LoadResult:
                return self.load(base, requests, connections, wrk=wrk)

            contenders["imgedge"] = run_imgedge
        bare = self.c.bare
        assert bare is not None
        bare_requests = [Request(r.path) for r in requests]  # same paths, same request sizes

        def run_bare(_: int) -> LoadResult:
            return self.load(bare.base_url, bare_requests, connections, wrk=wrk)

        contenders["bare starlette"] = run_bare
        pairs = [("imgedge", "bare starlette")] if "imgedge" in contenders else []
        return self._compare(f"cache hits ({client})", contenders, self.mode.rounds, pairs)

    def verify_hits(self) -> dict[str, int]:
        """One tracked pass proves the hit workload's requests were hits (tracking costs client CPU)."""
        assert self.c.imgedge is not None
        check = self.load(self.c.imgedge.base_url, self.hit_requests(), 8, track=True, duration_s=1.0)
        return {"hits": check.hits, "misses": check.misses}

    # ---- hits while misses saturate the transform pool ----------------------------------------------

    def saturated(self) -> list[saturated.SaturatedResult]:
        assert self.c.imgedge is not None
        base = self.c.imgedge.base_url
        self._warm_sources()
        hits = self.hit_requests()
        self.load(base, hits, 8, duration_s=1.0)
        found = []
        for index in range(self.mode.saturated_rounds):
            misses = self._unique_imgedge("webp")
            result = saturated.run(
                functools.partial(self.load, base, hits, 4, track=True, scratch="load-hits"),
                functools.partial(
                    self.load, base, misses, 16, unique=True, track=True, scratch="load-misses"
                ),
            )
            hit, miss = result.hits, result.misses
            self.log(
                f"  saturated round {index + 1}: hits {hit.rps:.0f} req/s p99 {hit.p99_ms:.1f} ms; "
                f"misses {miss.rps:.0f} req/s p99 {miss.p99_ms:.0f} ms, {miss.errors} errors"
            )
            found.append(result)
        return found

    # ---- the realistic mix --------------------------------------------------------------------------

    def mix(self, duration_s: float, seed: int) -> LoadResult:
        assert self.c.imgedge is not None
        ids = [o.asset_id for o in self.c.originals]
        requests = url_sets.zipf_mix(self.c.key, ids, 50_000, seed=seed, tail=8)
        return self.load(self.c.imgedge.base_url, requests, 16, track=True, duration_s=duration_s)
