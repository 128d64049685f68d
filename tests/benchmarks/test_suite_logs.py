"""A run keeps the previous run's server logs (only those) when it clears its scratch directory."""

from __future__ import annotations

from pathlib import Path

from benchmarks.suite import _keep_logs


def test_the_previous_runs_logs_are_kept_and_nothing_else(tmp_path: Path) -> None:
    run = tmp_path / "run"
    (run / "prewarm-learned").mkdir(parents=True)
    (run / "imgedge.log").write_text("warming a with 10 learned variants\n")
    (run / "prewarm-learned" / "serve.log").write_text("nested\n")
    (run / "data.bin").write_bytes(b"\0" * 1024)
    kept = tmp_path / "previous-run-logs"
    (kept / "stale.log").parent.mkdir(parents=True)
    (kept / "stale.log").write_text("from the run before\n")
    _keep_logs(run, kept)
    assert sorted(p.relative_to(kept).as_posix() for p in kept.rglob("*") if p.is_file()) == [
        "imgedge.log", "prewarm-learned/serve.log",
    ]  # fmt: skip
    assert (kept / "imgedge.log").read_text() == "warming a with 10 learned variants\n"
