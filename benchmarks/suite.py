"""One benchmark run: start the contenders, run the workloads alternating, collect every figure."""

from __future__ import annotations

import dataclasses
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pyvips

from benchmarks import corpus, load, machine, origin_amortisation, sizes, soak, targets, url_sets
from benchmarks.alternate import Comparison, Contender, compare
from benchmarks.bare_endpoint import BareServer
from benchmarks.imgedge_server import ImgedgeServer, environment
from benchmarks.limit import LimitPool, load_corpus, transform_once
from benchmarks.load_types import LoadResult, LoadSpec, Request
from benchmarks.modes import Mode
from benchmarks.ports import free_port
from benchmarks.rss import RssSampler, command_name, tree
from benchmarks.stats import median
from benchmarks.thumbor_server import ThumborServer, installed_version
from benchmarks.thumbor_server import path as thumbor_path
from imgedge.secrets import load_signing_keys
from imgedge.url.build import build_path

_ESTIMATED_MAX_UNCACHED_RPS = 600  # sizes the unique URL lists: wrk reports the whole -d even if one runs out


@dataclass(slots=True)
class Options:
    mode: Mode
    scratch: Path
    with_imgedge: bool = True
    with_thumbor: bool = True
    prefer_wrk: bool = True
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    imgedge_env: dict[str, str] = field(default_factory=dict)
    thumbor_venv: Path = Path(__file__).resolve().parent / ".venv-thumbor"
    log: Callable[[str], None] = print


@dataclass(slots=True)
class Contenders:
    limit: LimitPool
    bare: BareServer
    imgedge: ImgedgeServer | None = None
    thumbor: ThumborServer | None = None
    key: bytes | None = None

    def stop(self) -> None:
        for server in (self.thumbor, self.imgedge, self.bare):
            if server is not None:
                server.stop()
        self.limit.close()


def _load_dict(result: LoadResult) -> dict[str, Any]:
    return {**dataclasses.asdict(result), "rps": round(result.rps, 2)}


def _comparison_dict(comparison: Comparison) -> dict[str, Any]:
    return {
        "contenders": {name: comparison.summary(name) for name in comparison.rounds},
        "ratios": {pair: round(comparison.ratio(pair), 3) for pair in comparison.ratios},
        "ratios_per_round": {
            pair: [round(r, 3) for r in values] for pair, values in comparison.ratios.items()
        },
        "rounds": {name: [_load_dict(r) for r in runs] for name, runs in comparison.rounds.items()},
    }


class Suite:
    def __init__(self, options: Options) -> None:
        self.o = options
        self.mode = options.mode
        self.run_dir = options.scratch / "run"
        self.sampler = RssSampler()
        self.results: dict[str, Any] = {"mode": self.mode.name, "comparisons": {}, "notes": []}
        self.figures: dict[str, float | None] = {}
        self.originals: list[corpus.Original] = []
        self.squares: list[corpus.Original] = []
        self.probe = corpus.Original("origin-probe", Path(), 1024, 1024)  # a fresh asset for workload 4

    # ---- set-up -------------------------------------------------------------------------------------

    def _build_corpus(self) -> None:
        self.originals = corpus.build(
            self.o.scratch / "corpus", squares=self.mode.corpus_square, large=self.mode.corpus_large
        )
        self.squares = [o for o in self.originals if (o.width, o.height) == (1024, 1024)]

    def _start(self) -> Contenders:
        log = self.o.log
        if self.run_dir.exists():
            shutil.rmtree(self.run_dir)  # fresh caches and counters every run
        self.run_dir.mkdir(parents=True)
        log(f"starting the libvips limit ({self.o.workers} processes)")
        limit = LimitPool([o.path for o in self.squares], self.o.workers)
        for index, pid in enumerate(limit.pids()):
            self.sampler.watch(f"limit-{index + 1}", pid)
        imgedge = thumbor = None
        key: bytes | None = None
        bare_body = self.run_dir / "bare-body.webp"
        if self.o.with_imgedge:
            imgedge, key = self._start_imgedge()
            bare_body.write_bytes(imgedge_variant(imgedge, self.squares[0].asset_id, key))
        else:
            pyvips.cache_set_max(0)
            bare_body.write_bytes(_in_process_variant(self.squares[0].path))
        if self.o.with_thumbor and imgedge is not None:
            thumbor = self._start_thumbor(imgedge)
        log("starting the bare Starlette endpoint")
        bare = BareServer.start(
            bare_body, port=free_port(), workers=self.o.workers, log=self.run_dir / "bare.log"
        )
        self.sampler.watch("bare", bare.process.pid)
        self.sampler.start()
        return Contenders(limit, bare, imgedge, thumbor, key)

    def _start_imgedge(self) -> tuple[ImgedgeServer, bytes | None]:
        data_dir = self.run_dir / "data"
        env = environment(
            data_dir,
            port=free_port(),
            generator_port=free_port(),
            workers=self.o.workers,
            extra={"IMGEDGE_ALLOW_UNSIGNED": "0", **url_sets.DIALECT_ENV, **self.o.imgedge_env},
        )
        self.o.log("ingesting the corpus with `imgedge ingest`")
        probe = self.run_dir / "origin-probe.png"
        pyvips.Image.new_from_file(str(self.squares[0].path)).rot("d90").write_to_file(str(probe))
        probe_original = corpus.Original("origin-probe", probe, 1024, 1024)
        ingested = corpus.ingest([*self.originals, probe_original], env=env)
        self.originals, self.probe = ingested[:-1], ingested[-1]
        if self.mode.generated:
            self.o.log(f"generating {self.mode.generated} images with the built-in model")
            self.originals += corpus.generate(self.mode.generated, env=env, width=0, height=0)
        self.squares = [o for o in self.originals if (o.width, o.height) == (1024, 1024)]
        self.o.log(f"starting `imgedge serve` (workers={self.o.workers}, {self.o.imgedge_env or 'defaults'})")
        server = ImgedgeServer.start(env, log=self.run_dir / "imgedge.log")
        self.sampler.watch("imgedge", server.process.pid)
        # The soak judges the proxy alone: the generator's (static) model memory would dilute its growth.
        proxy = [pid for pid in tree(server.process.pid) if "proxy.app" in command_name(pid)]
        if proxy:
            self.sampler.watch("imgedge proxy", proxy[0])
        keys = load_signing_keys(data_dir)
        self.results["settings"] = {"workers": self.o.workers, "imgedge_env": self.o.imgedge_env}
        return server, keys[0] if keys else None

    def _start_thumbor(self, imgedge: ImgedgeServer) -> ThumborServer:
        # thumbor reads the very bytes imgedge's origin serves: the canonical PNG originals.
        root = self.run_dir / "thumbor-root"
        root.mkdir()
        for original in self.originals:
            (root / f"{original.name}-{original.width}x{original.height}.png").write_bytes(
                imgedge.original(original.asset_id)
            )
        self.o.log("starting thumbor (installing it into its virtualenv first if missing)")
        server = ThumborServer.start(
            self.o.thumbor_venv,
            root=root,
            port=free_port(),
            processes_count=self.o.workers,
            log=self.run_dir / "thumbor.log",
        )
        self.sampler.watch("thumbor", server.process.pid)
        return server

    # ---- load helpers -------------------------------------------------------------------------------

    def _load(
        self,
        base_url: str,
        requests: list[Request],
        connections: int,
        *,
        unique: bool = False,
        track: bool = False,
        duration_s: float | None = None,
    ) -> LoadResult:
        spec = LoadSpec(
            base_url,
            tuple(requests),
            connections,
            duration_s or self.mode.round_s,
            self.mode.max_requests,
            unique=unique,
            track_cache=track,
        )
        return load.run(spec, self.run_dir / "load", prefer_wrk=self.o.prefer_wrk)

    # ---- workloads ----------------------------------------------------------------------------------

    def uncached(self, c: Contenders, fmt: str, rounds: int) -> Comparison:
        mode = self.mode
        contenders: dict[str, Contender] = {}
        pairs: list[tuple[str, str]] = []
        if c.imgedge is not None:
            imgedge = c.imgedge
            ids = [o.asset_id for o in self.squares]
            unique = url_sets.UniqueVariants(c.key)
            count = int(_ESTIMATED_MAX_UNCACHED_RPS * mode.round_s)
            # Warm the source cache of every worker (as in production), outside the measurement.
            self._load(
                imgedge.base_url,
                unique.take(ids, fmt, count),
                mode.uncached_connections,
                unique=True,
                duration_s=min(2.0, mode.round_s),
            )

            def run_imgedge(_: int) -> LoadResult:
                requests = unique.take(ids, fmt, count)
                return self._load(
                    imgedge.base_url, requests, mode.uncached_connections, unique=True, track=True
                )

            contenders["imgedge"] = run_imgedge
            if fmt == "webp":
                contenders.update(self._dialect_contenders(imgedge, ids, fmt, count))
        if c.thumbor is not None and fmt in ("webp", "jpeg"):
            thumbor = c.thumbor
            files = [thumbor_path(f"{o.name}-1024x1024.png", fmt=fmt) for o in self.squares]
            requests = [Request(p) for p in files]
            self._load(thumbor.base_url, requests, mode.uncached_connections, duration_s=1.0)  # warm-up

            def run_thumbor(_: int) -> LoadResult:
                return self._load(thumbor.base_url, requests, mode.uncached_connections)

            contenders["thumbor"] = run_thumbor

        def run_limit(_: int) -> LoadResult:
            return c.limit.run("png", fmt, duration_s=mode.round_s, max_ops=mode.max_requests)

        contenders["limit"] = run_limit
        if fmt == "webp":

            def run_limit_pixels(_: int) -> LoadResult:
                return c.limit.run("pixels", fmt, duration_s=mode.round_s, max_ops=mode.max_requests)

            contenders["limit (pixels)"] = run_limit_pixels
        if "imgedge" in contenders:
            pairs = [("imgedge", "limit")]
            pairs += [("imgedge", "limit (pixels)")] if fmt == "webp" else []
            pairs += [("imgedge", "thumbor")] if "thumbor" in contenders else []
            dialects = [name for name in contenders if name.startswith("imgedge ")]
            pairs += [(name, "imgedge") for name in dialects] + [("imgedge", name) for name in dialects]
        return compare(f"uncached {fmt}", contenders, rounds, pairs, self.o.log)

    def _dialect_contenders(
        self, imgedge: ImgedgeServer, ids: list[str], fmt: str, count: int
    ) -> dict[str, Contender]:
        """The same uncached workload through imgedge's thumbor and imgproxy URLs."""
        contenders: dict[str, Contender] = {}
        for dialect in ("thumbor", "imgproxy"):
            variants = url_sets.UniqueDialectVariants(dialect)

            def run(_: int, variants: url_sets.UniqueDialectVariants = variants) -> LoadResult:
                requests = variants.take(ids, fmt, count)
                return self._load(
                    imgedge.base_url, requests, self.mode.uncached_connections, unique=True, track=True
                )

            contenders[f"imgedge {dialect} URLs"] = run
        return contenders

    def cache_hits(self, c: Contenders) -> Comparison:
        mode = self.mode
        contenders: dict[str, Contender] = {}
        requests = [Request("/hit")]
        if c.imgedge is not None:
            imgedge = c.imgedge
            requests = url_sets.fixed_variants(
                c.key, [o.asset_id for o in self.squares], ("webp", "jpeg", "avif")
            )
            # Every worker needs each variant in its memory tier before hits are what gets measured.
            for _ in range(2):
                self._load(imgedge.base_url, requests, 8, duration_s=1.0)

            def run_imgedge(_: int) -> LoadResult:
                return self._load(imgedge.base_url, requests, mode.hit_connections)

            contenders["imgedge"] = run_imgedge
        bare = c.bare
        bare_requests = [Request(r.path) for r in requests]  # same paths, same request sizes

        def run_bare(_: int) -> LoadResult:
            return self._load(bare.base_url, bare_requests, mode.hit_connections)

        contenders["bare starlette"] = run_bare
        pairs = [("imgedge", "bare starlette")] if "imgedge" in contenders else []
        comparison = compare("cache hits", contenders, mode.rounds, pairs, self.o.log)
        if c.imgedge is not None:
            # One tracked pass proves these were hits (tracking costs wrk CPU, so it is not measured).
            check = self._load(c.imgedge.base_url, requests, 8, track=True, duration_s=1.0)
            self.results["hits_verified"] = {"hits": check.hits, "misses": check.misses}
        return comparison

    def mix(self, c: Contenders, duration_s: float, seed: int) -> LoadResult:
        assert c.imgedge is not None
        ids = [o.asset_id for o in self.originals]
        requests = url_sets.zipf_mix(c.key, ids, 50_000, seed=seed, tail=8)
        return self._load(c.imgedge.base_url, requests, 16, track=True, duration_s=duration_s)

    # ---- the whole run ------------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        started = time.monotonic()
        log = self.o.log
        self._build_corpus()
        c = self._start()
        try:
            self._run_workloads(c)
        finally:
            self.sampler.sample()
            self.sampler.stop()
            c.stop()
        thumbor_version = installed_version(self.o.thumbor_venv) if c.thumbor is not None else "not run"
        self.results["machine"] = machine.describe(thumbor_version)
        self.results["corpus"] = [
            {
                "name": o.name,
                "asset_id": o.asset_id,
                "width": o.width,
                "height": o.height,
                "png_bytes": o.path.stat().st_size if o.path.is_file() else None,
            }
            for o in self.originals
        ]
        self.results["rss_peak"] = {
            name: {"total": m.peak_total, "per_process": m.peak_per_process}
            for name, m in self.sampler.memory.items()
        }
        self.results["targets"] = [dataclasses.asdict(t) for t in targets.evaluate(self.figures)]
        self.results["figures"] = self.figures
        self.results["elapsed_s"] = round(time.monotonic() - started, 1)
        log(f"done in {self.results['elapsed_s']} s")
        return self.results

    def _run_workloads(self, c: Contenders) -> None:
        log, mode = self.o.log, self.mode
        comparisons = self.results["comparisons"]
        log("workload 1: uncached transforms")
        webp = self.uncached(c, "webp", mode.rounds)
        comparisons["uncached_webp"] = _comparison_dict(webp)
        if c.imgedge is not None:
            self.figures["uncached_vs_limit"] = webp.ratio("imgedge/limit")
            self.figures["uncached_vs_limit_pixels"] = webp.ratio("imgedge/limit (pixels)")
            if c.thumbor is not None:
                self.figures["uncached_vs_thumbor"] = webp.ratio("imgedge/thumbor")
            for dialect in ("thumbor", "imgproxy"):
                self.figures[f"{dialect}_urls_vs_native"] = webp.ratio(f"imgedge {dialect} URLs/imgedge")
        for fmt in mode.extra_formats:
            comparisons[f"uncached_{fmt}"] = _comparison_dict(self.uncached(c, fmt, max(2, mode.rounds - 1)))
        log("workload 2: cache hits")
        hits = self.cache_hits(c)
        comparisons["cache_hits"] = _comparison_dict(hits)
        if c.imgedge is not None:
            self.figures["hits_vs_bare"] = hits.ratio("imgedge/bare starlette")
            self.figures["hits_p99_ms"] = hits.summary("imgedge")["p99_ms"]
            self._sizes(c)
            if mode.origin_variants:
                log("workload 4: origin amortisation")
                self._origin(c)
            if mode.mix_s:
                log("workload 3: realistic mix")
                mix = self.mix(c, mode.mix_s, seed=1)
                self.results["mix"] = _load_dict(mix)
            if mode.soak_s:
                log(f"workload 5: soak ({mode.soak_s:.0f} s of the mix)")
                tree_name = "imgedge proxy" if "imgedge proxy" in self.sampler.roots else "imgedge"
                result = soak.run(lambda: self.mix(c, mode.soak_s, seed=2), self.sampler, tree_name)
                self.results["soak"] = {
                    **dataclasses.asdict(result),
                    "growth": round(result.growth, 4),
                    "load": _load_dict(result.load),
                }
                self.figures["soak_growth"] = result.growth

    def _sizes(self, c: Contenders) -> None:
        assert c.imgedge is not None
        imgedge = c.imgedge
        assets = {o.name: (o.asset_id, len(imgedge.original(o.asset_id))) for o in self.squares}
        found = sizes.measure(imgedge.base_url, c.key, assets, (400, 1024), ("webp", "avif", "jpeg"))
        self.results["sizes"] = [{**dataclasses.asdict(s), "saving": round(s.saving, 4)} for s in found]
        for fmt in ("webp", "avif"):
            savings = [s.saving for s in found if s.format == fmt and s.width == 1024]
            self.figures[f"{fmt}_saving"] = median(savings) if savings else None
            self.figures[f"{fmt}_saving_worst"] = min(savings) if savings else None

    def _origin(self, c: Contenders) -> None:
        assert c.imgedge is not None
        requests = [
            Request(build_path(self.probe.asset_id, key=c.key, width=300 + i, fmt="webp"))
            for i in range(self.mode.origin_variants)
        ]
        result = origin_amortisation.run(c.imgedge, requests, self.o.workers)
        self.results["origin"] = dataclasses.asdict(result)


def imgedge_variant(server: ImgedgeServer, asset_id: str, key: bytes | None) -> bytes:
    response = httpx.get(server.base_url + build_path(asset_id, key=key, width=400, fmt="webp"), timeout=60.0)
    response.raise_for_status()
    return response.content


def _in_process_variant(path: Path) -> bytes:
    load_corpus([str(path)])
    return transform_once(0, "png", "webp", 400)
