"""The soak's paragraph: the workers' RSS against the allowance, and their PSS beside it when measured."""

from __future__ import annotations

from typing import Any

from benchmarks import report_markdown

MIB = 1 << 20
MACHINE = {
    "date": "2026-01-01 00:00 UTC", "cores": 2, "cpu": "test", "ram_gib": 1.0, "kernel": "6",
    "python": "3.11", "versions": {"libvips": "8"},
}  # fmt: skip


def _soak(**extra: Any) -> dict[str, Any]:
    return {
        "duration_s": 300.0, "load": {"rps": 5159.4}, "rss_at_first_fifth": 701 * MIB, "rss_final": 632 * MIB,
        "growth": -0.099, "rss_peak": 946 * MIB, "memory_budgets": 384 * MIB, "workers": 2,
        "allowed": 684 * MIB, "final_per_process": {"1 uvicorn": 316 * MIB, "2 uvicorn": 316 * MIB}, **extra,
    }  # fmt: skip


def _render(soak: dict[str, Any]) -> str:
    results = {"mode": "full", "machine": MACHINE, "comparisons": {}, "notes": [], "targets": []}
    return report_markdown.render({**results, "soak": soak}, None)


def test_the_soak_reports_pss_beside_rss() -> None:
    text = _render(_soak(pss_final=572 * MIB))
    assert (
        "632 MiB at the end (-9.9%), peak 946 MiB; their PSS at the end, which counts the pages of shared "
        "libraries once instead of once per worker, 572 MiB. Configured memory budgets" in text
    )


def test_a_run_without_pss_says_nothing_of_it() -> None:
    text = _render(_soak())
    assert "peak 946 MiB. Configured memory budgets" in text
    assert "PSS" not in text
