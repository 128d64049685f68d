"""The benchmark machinery in its tiny mode: the libvips loop and the bare endpoint only (no thumbor, no
imgedge, no wrk), so CI notices when benchmarks/ rots. A few seconds; absolute numbers are not checked."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.modes import TINY
from benchmarks.run import write_report
from benchmarks.suite import Options, Suite


def test_tiny_run_writes_a_complete_report(tmp_path: Path) -> None:
    options = Options(
        mode=TINY, scratch=tmp_path / "scratch", with_imgedge=False, with_thumbor=False, with_nextjs=False,
        prefer_wrk=False, workers=1, log=lambda _: None,
    )  # fmt: skip
    results = Suite(options).run()
    written = write_report(results, tmp_path / "results")

    assert {p.name for p in written} >= {"latest.json", "latest.md"}
    data = json.loads((tmp_path / "results" / "latest.json").read_text())
    assert data["mode"] == "tiny"
    assert {"date", "cores", "cpu", "ram_gib", "versions"} <= set(data["machine"])

    uncached = data["comparisons"]["uncached_webp"]["contenders"]
    assert set(uncached) == {"limit", "limit (pixels)"}
    assert all(s["requests"] > 0 and s["rps"] > 0 for s in uncached.values())
    assert all(s["cpu_ms"] > 1.0 for s in uncached.values())  # a 400 px WebP costs the loop's pool ms
    hits = data["comparisons"]["cache_hits"]["contenders"]["bare starlette"]
    assert hits["requests"] > 0 and hits["errors"] == 0
    # The bare endpoint's processes, not the client's; a 1 s round of hits can stay under one clock tick.
    assert hits.get("cpu_ms", 0.0) < 5.0
    assert hits["p50_ms"] <= hits["p95_ms"] <= hits["p99_ms"]

    assert len(data["targets"]) == 14
    assert all(t["met"] is None for t in data["targets"])  # imgedge was not run
    assert any(tree.startswith("limit") for tree in data["rss_peak"])
    assert data["rss_peak"]["bare"]["total"] > 0

    markdown = (tmp_path / "results" / "latest.md").read_text()
    for heading in ("# imgedge benchmark", "## Targets", "## Peak RSS of every process"):
        assert heading in markdown
    assert "| workload | contender | req/s |" in markdown
    assert "server CPU / request" in markdown
