"""One benchmark run: start the contenders, run the workloads alternating, collect every figure."""

from __future__ import annotations

import dataclasses
import os
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import corpus, fresh_assets, machine, nextjs_server, origin_amortisation, prewarm, sizes, soak
from benchmarks import targets as target_rules
from benchmarks.alternate import Comparison
from benchmarks.contenders import Contenders, Starter
from benchmarks.imgedge_server import ImgedgeServer, environment
from benchmarks.load_types import LoadResult, Request
from benchmarks.modes import Mode
from benchmarks.ports import free_port
from benchmarks.rss import RssSampler
from benchmarks.stats import median
from benchmarks.thumbor_server import installed_version
from benchmarks.workloads import Workloads
from imgedge.secrets import load_signing_keys
from imgedge.url.build import build_path

_MIB = 1 << 20
SKIPPABLE = (
    "jpeg", "avif", "cold", "hits", "second-client", "saturated", "origin", "mix", "prewarm", "soak",
    "autoquality",  # run by benchmarks.run after the suite
)  # fmt: skip


@dataclass(slots=True)
class Options:
    mode: Mode
    scratch: Path
    with_imgedge: bool = True
    with_thumbor: bool = True
    with_nextjs: bool = True
    prefer_wrk: bool = True
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    imgedge_env: dict[str, str] = field(default_factory=dict)
    thumbor_venv: Path = Path(__file__).resolve().parent / ".venv-thumbor"
    skip: frozenset[str] = frozenset()  # names from SKIPPABLE
    log: Callable[[str], None] = print


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

    # ---- set-up -------------------------------------------------------------------------------------

    def _start(self) -> Contenders:
        if self.run_dir.exists():
            _keep_logs(self.run_dir, self.o.scratch / "previous-run-logs")
            shutil.rmtree(self.run_dir)  # fresh caches and counters every run
        self.run_dir.mkdir(parents=True)
        originals = corpus.build(
            self.o.scratch / "corpus", squares=self.mode.corpus_square, large=self.mode.corpus_large
        )
        squares = [o for o in originals if (o.width, o.height) == (1024, 1024)]
        start = Starter(
            self.run_dir, self.sampler, self.o.workers, self.o.imgedge_env, self.o.thumbor_venv, self.o.log,
            self.results["notes"],
        )  # fmt: skip
        c = Contenders(limit=start.limit(squares), originals=originals, squares=squares)
        try:
            if self.o.with_imgedge:
                cold = self.mode.cold_per_round * self.mode.rounds if self._wants("cold") else 0
                start.imgedge(c, generated=self.mode.generated, cold=cold)
                copies = start.canonical_copies(c)
                if self.o.with_thumbor:
                    c.thumbor = start.thumbor(copies)
                if self.o.with_nextjs:
                    c.nextjs = start.nextjs({k: v for k, v in copies.items() if "1024x1024" in k})
                self.results["settings"] = {"workers": self.o.workers, "imgedge_env": self.o.imgedge_env}
            c.bare = start.bare(c)
        except BaseException:
            c.stop()
            raise
        self.sampler.start()
        return c

    # ---- the whole run ------------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        started = time.monotonic()
        c = self._start()
        try:
            self._run_workloads(c)
        finally:
            self.sampler.sample()
            self.sampler.stop()
            c.stop()
        thumbor_version = installed_version(self.o.thumbor_venv) if c.thumbor is not None else "not run"
        self.results["machine"] = machine.describe(thumbor_version)
        self.results["machine"]["versions"]["next"] = (
            nextjs_server.installed_version() if c.nextjs is not None else "not run"
        )
        self.results["corpus"] = [
            {"name": o.name, "asset_id": o.asset_id, "width": o.width, "height": o.height,
             "png_bytes": o.path.stat().st_size if o.path.is_file() else None}
            for o in c.originals
        ]  # fmt: skip
        self.results["rss_peak"] = {
            name: {"total": m.peak_total, "per_process": m.peak_per_process}
            for name, m in self.sampler.memory.items()
        }
        self.results["targets"] = [dataclasses.asdict(t) for t in target_rules.evaluate(self.figures)]
        self.results["figures"] = self.figures
        self.results["elapsed_s"] = round(time.monotonic() - started, 1)
        self.o.log(f"done in {self.results['elapsed_s']} s")
        return self.results

    def _wants(self, name: str) -> bool:
        return name not in self.o.skip

    def _run_workloads(self, c: Contenders) -> None:
        w = Workloads(c, self.mode, self.run_dir, self.o.prefer_wrk, self.o.log)
        self._uncached(c, w)
        if self._wants("hits"):
            self._hits(c, w)
        if c.imgedge is None:
            return
        self._sizes(c)
        if self.mode.saturated_rounds and self._wants("saturated"):
            self.o.log("workload 4: hits while misses saturate the transform pool")
            self._saturated(w)
        if self.mode.origin_variants and self._wants("origin"):
            self.o.log("workload 5: origin amortisation")
            self._origin(c)
        if self.mode.mix_s and self._wants("mix"):
            self.o.log("workload 6: realistic mix")
            self.results["mix"] = _load_dict(w.mix(self.mode.mix_s, seed=1))
        if self.mode.prewarm_assets and self._wants("prewarm"):
            self.o.log("workload 7: predictive warm-up, learned against the srcset list")
            self._prewarm(c)
        if self.mode.soak_s and self._wants("soak"):
            self.o.log(f"workload 8: soak ({self.mode.soak_s:.0f} s of the mix)")
            self._soak(c, w)

    def _uncached(self, c: Contenders, w: Workloads) -> None:
        comparisons, figures, mode = self.results["comparisons"], self.figures, self.mode
        self.o.log("workload 1: uncached transforms")
        webp = w.uncached("webp", mode.rounds)
        comparisons["uncached_webp"] = _comparison_dict(webp)
        if c.imgedge is not None:
            figures["uncached_vs_limit"] = webp.ratio("imgedge/limit")
            figures["uncached_vs_limit_pixels"] = webp.ratio("imgedge/limit (pixels)")
            if c.thumbor is not None:
                figures["uncached_vs_thumbor"] = webp.ratio("imgedge/thumbor")
            for dialect in ("thumbor", "imgproxy"):
                figures[f"{dialect}_urls_vs_native"] = webp.ratio(f"imgedge {dialect} URLs/imgedge")
            if c.nextjs is not None:
                figures["uncached_vs_nextjs"] = webp.ratio("imgedge/nextjs")
        if "jpeg" in mode.extra_formats and self._wants("jpeg"):
            comparisons["uncached_jpeg"] = _comparison_dict(w.uncached("jpeg", max(2, mode.rounds - 1)))
        if "avif" in mode.extra_formats and self._wants("avif"):
            avif = w.avif_auto(max(2, mode.rounds - 1))
            comparisons["uncached_avif"] = _comparison_dict(avif)
            figures["avif_vs_webp"] = avif.ratio("imgedge/imgedge webp") if c.imgedge is not None else None
        if mode.cold_per_round and self._wants("cold") and (c.imgedge is not None or c.thumbor is not None):
            self.o.log("workload 2: cold (the first request of a never-seen asset)")
            fetches = c.imgedge.origin_fetches() if c.imgedge is not None else 0
            cold = w.cold(mode.rounds)
            comparisons["cold_webp"] = _comparison_dict(cold)
            if c.imgedge is not None:
                self.results["cold_origin_fetches"] = c.imgedge.origin_fetches() - fetches
                figures["cold_vs_thumbor"] = cold.ratio("imgedge/thumbor") if c.thumbor is not None else None

    def _hits(self, c: Contenders, w: Workloads) -> None:
        comparisons = self.results["comparisons"]
        self.o.log("workload 3: cache hits")
        hits = w.cache_hits(wrk=True, connections=self.mode.hit_connections)
        comparisons["cache_hits"] = _comparison_dict(hits)
        if c.imgedge is not None:
            self.figures["hits_vs_bare"] = hits.ratio("imgedge/bare starlette")
            self.figures["hits_p99_ms"] = hits.summary("imgedge")["p99_ms"]
            self.results["hits_verified"] = w.verify_hits()
        if self.mode.second_client and self._wants("second-client"):
            second = w.cache_hits(wrk=False, connections=16)
            comparisons["cache_hits_httpx"] = _comparison_dict(second)
            if c.imgedge is not None:
                self.figures["hits_vs_bare_httpx"] = second.ratio("imgedge/bare starlette")

    def _saturated(self, w: Workloads) -> None:
        found = w.saturated()
        self.results["saturated"] = [
            {"hits": _load_dict(r.hits), "misses": _load_dict(r.misses)} for r in found
        ]
        self.figures["saturated_hit_p99_ms"] = median([r.hits.p99_ms for r in found])

    def _sizes(self, c: Contenders) -> None:
        assert c.imgedge is not None
        imgedge = c.imgedge
        assets = {o.name: (o.asset_id, len(imgedge.original(o.asset_id))) for o in c.squares}
        found = sizes.measure(imgedge.base_url, c.key, assets, (400, 1024), ("webp", "avif", "jpeg"))
        self.results["sizes"] = [{**dataclasses.asdict(s), "saving": round(s.saving, 4)} for s in found]
        for fmt in ("webp", "avif"):
            savings = [s.saving for s in found if s.format == fmt and s.width == 1024]
            self.figures[f"{fmt}_saving"] = median(savings) if savings else None
            self.figures[f"{fmt}_saving_worst"] = min(savings) if savings else None

    def _origin(self, c: Contenders) -> None:
        assert c.imgedge is not None and c.probe is not None
        requests = [
            Request(build_path(c.probe.asset_id, key=c.key, width=300 + i, fmt="webp"))
            for i in range(self.mode.origin_variants)
        ]
        result = origin_amortisation.run(c.imgedge, requests, self.o.workers)
        self.results["origin"] = dataclasses.asdict(result)

    def _soak(self, c: Contenders, w: Workloads) -> None:
        assert c.imgedge is not None
        tree_name = "imgedge proxy" if "imgedge proxy" in self.sampler.groups else "imgedge"
        result = soak.run(lambda: w.mix(self.mode.soak_s, seed=2), self.sampler, tree_name)
        budgets = memory_budgets(c.imgedge)
        allowed = budgets + 150 * _MIB * self.o.workers
        self.results["soak"] = {
            **dataclasses.asdict(result), "growth": round(result.growth, 4), "load": _load_dict(result.load),
            "memory_budgets": budgets, "allowed": allowed, "workers": self.o.workers,
        }  # fmt: skip
        self.figures["soak_growth"] = result.growth
        self.figures["soak_rss_vs_allowed"] = result.rss_final / allowed if allowed else None

    def _prewarm(self, c: Contenders) -> None:
        seeds = c.squares
        found: dict[str, prewarm.PrewarmResult] = {}
        failures: list[str] = []

        def one(learned: bool) -> None:
            name = "learned" if learned else "srcset"
            try:
                found[name] = self._prewarm_instance(seeds, learned=learned)
            except Exception as exc:  # reported, not fatal: the other workloads' figures still count
                failures.append(f"warm-up workload ({name}) failed: {exc}")

        threads = [threading.Thread(target=one, args=(flag,)) for flag in (True, False)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.results["notes"] += failures
        self.results["prewarm"] = {
            name: {**dataclasses.asdict(r), "first_hit_ratio": round(r.first_hit_ratio, 4),
                   "transforms_per_asset": round(r.transforms_per_asset, 2)}
            for name, r in found.items()
        }  # fmt: skip

    def _prewarm_instance(self, seeds: list[corpus.Original], *, learned: bool) -> prewarm.PrewarmResult:
        name = "learned" if learned else "srcset"
        data_dir = self.run_dir / f"prewarm-{name}"
        env = environment(
            data_dir, port=free_port(), generator_port=free_port(), workers=self.o.workers,
            extra={
                "IMGEDGE_ALLOW_UNSIGNED": "0", "IMGEDGE_WARM_LEARNED": "1" if learned else "0",
                "IMGEDGE_WARM_ON_START": "0", "IMGEDGE_RATE_PER_MINUTE": "100000",
                "IMGEDGE_RATE_BURST": "10000", **self.o.imgedge_env,
            },
        )  # fmt: skip
        seed_ids = [o.asset_id for o in corpus.ingest(seeds, env=env)]
        server = ImgedgeServer.start(env, log=self.run_dir / f"prewarm-{name}.log")
        try:
            key = load_signing_keys(data_dir)[0]
            fresh = fresh_assets.images(seeds, start=100_000 if learned else 200_000)
            return prewarm.run(
                server, learned=learned, key=key, seed_ids=seed_ids, fresh=fresh,
                new_assets=self.mode.prewarm_assets, views_per_asset=30, teach_views=600,
            )  # fmt: skip
        finally:
            server.stop()


def memory_budgets(server: ImgedgeServer) -> int:
    """The memory tiers' configured sizes summed over every proxy process, as /admin/stats reports them."""
    total = 0
    for stats in server.stats_by_process():
        for cache in ("results", "sources"):
            total += int(stats.get(cache, {}).get("memory", {}).get("max_bytes", 0))
    return total


def _keep_logs(run_dir: Path, kept: Path) -> None:
    """The last run's server logs, so a one-off in its report can still be read after the next run starts
    (its caches and data, a gigabyte or more, go)."""
    if kept.exists():
        shutil.rmtree(kept)
    for log in run_dir.rglob("*.log"):
        target = kept / log.relative_to(run_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(log, target)
