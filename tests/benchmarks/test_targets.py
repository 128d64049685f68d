"""The targets are judged from the run's figures, and a missed one is reported with its margin and cause."""

from __future__ import annotations

import dataclasses

from benchmarks import report_markdown, targets

MACHINE = {
    "date": "2026-01-01 00:00 UTC", "cores": 2, "cpu": "test", "ram_gib": 1.0, "kernel": "6",
    "python": "3.11", "versions": {"libvips": "8"},
}  # fmt: skip


def test_targets_read_their_figures_and_say_by_how_much() -> None:
    figures: dict[str, float | None] = {
        "uncached_vs_thumbor": 3.3, "cold_vs_thumbor": 1.2, "saturated_hit_p99_ms": 12.0,
        "soak_rss_vs_allowed": 0.9, "soak_growth": None,
    }  # fmt: skip
    judged = {t.name: t for t in targets.evaluate(figures)}
    assert judged["Uncached WebP vs thumbor"].met is True
    assert judged["Uncached WebP vs thumbor"].margin == "+10% against the goal"
    assert judged["Cold WebP vs thumbor"].met is False
    assert judged["Cold WebP vs thumbor"].margin == "-20% against the goal"
    assert judged["Hit p99 while misses saturate the pool"].met is True
    assert judged["Proxy RSS after the soak"].met is True
    assert judged["Soak RSS growth"].met is None and judged["Soak RSS growth"].measured == "not measured"


def test_the_report_explains_missed_targets() -> None:
    judged = targets.evaluate({"cold_vs_thumbor": 0.8, "uncached_vs_thumbor": 4.0})
    results = {
        "mode": "quick", "machine": MACHINE, "comparisons": {}, "notes": [],
        "targets": [dataclasses.asdict(t) for t in judged],
    }  # fmt: skip
    text = report_markdown.render(results, None)
    assert (
        "| Cold WebP vs thumbor | >= 1.5x thumbor's req/s | 0.80x | **missed** | -47% against the goal |"
        in text
    )
    assert "Why the missed ones are missed" in text
    assert "- **Cold WebP vs thumbor** (-47% against the goal): both decode the same PNG" in text
    assert "**Uncached WebP vs thumbor**" not in text  # met: nothing to explain


def test_a_missed_hit_p99_is_put_beside_the_bare_endpoints_in_the_same_rounds() -> None:
    judged = targets.evaluate({"hits_p99_ms": 11.2})
    run = {"rps": 9000.0, "p50_ms": 5.0, "p95_ms": 8.0, "errors": 0}
    hits = {
        "contenders": {
            "imgedge": {**run, "p99_ms": 11.2, "cpu_ms": 0.139},
            "bare starlette": {**run, "p99_ms": 10.5, "cpu_ms": 0.094},
        },
        "ratios": {"imgedge/bare starlette": 1.0},
    }
    results = {
        "mode": "quick", "machine": MACHINE, "comparisons": {"cache_hits": hits}, "notes": [],
        "targets": [dataclasses.asdict(t) for t in judged],
    }  # fmt: skip
    text = report_markdown.render(results, None)
    assert (
        "- **Cache hit p99 at 64 connections** (-12% headroom): this run's p99: imgedge 11.2 ms, "
        "bare starlette 10.5 ms; wrk's 64 connections" in text
    )
