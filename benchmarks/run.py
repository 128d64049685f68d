"""`python -m benchmarks.run [--quick|--full]`: run the suite and write benchmarks/results/latest.*"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import autoquality, chart, prompt_reuse, report_markdown
from benchmarks.modes import MODES
from benchmarks.ports import free_port
from benchmarks.suite import SKIPPABLE, Options, Suite
from benchmarks.ticker import PhaseTicker

HERE = Path(__file__).resolve().parent
CHART_NAME = "latest.png"


def write_report(results: dict[str, Any], out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [out_dir / "latest.json"]
    written[0].write_text(json.dumps(results, indent=1, default=str) + "\n")
    chart_name = None
    if chart.available():
        chart.draw(results, out_dir / CHART_NAME)
        chart_name = CHART_NAME
        written.append(out_dir / CHART_NAME)
    else:
        results["notes"].append("matplotlib is not installed: no chart this time")
    (out_dir / "latest.md").write_text(report_markdown.render(results, chart_name))
    written.append(out_dir / "latest.md")
    return written


def _env_pairs(pairs: list[str]) -> dict[str, str]:
    env = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.startswith(("IMGEDGE_", "VIPS_", "MALLOC_")):
            raise SystemExit(f"--env takes IMGEDGE_*/VIPS_*/MALLOC_* NAME=VALUE, got {pair!r}")
        env[name] = value
    return env


def _skip(raw: str) -> frozenset[str]:
    names = frozenset(n.strip() for n in raw.split(",") if n.strip())
    unknown = names - set(SKIPPABLE)
    if unknown:
        raise SystemExit(
            f"--skip: unknown workloads {', '.join(sorted(unknown))}; known: {', '.join(SKIPPABLE)}"
        )
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    chosen = parser.add_mutually_exclusive_group()
    chosen.add_argument(
        "--quick", dest="mode", action="store_const", const="quick", help="about 5 min (default)"
    )
    chosen.add_argument("--full", dest="mode", action="store_const", const="full", help="longer, 5 min soak")
    chosen.add_argument("--tiny", dest="mode", action="store_const", const="tiny", help="seconds; for tests")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes per contender")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for `imgedge serve` (repeatable), e.g. VIPS_CONCURRENCY=1",
    )
    parser.add_argument("--no-thumbor", action="store_true", help="skip thumbor (no virtualenv needed)")
    parser.add_argument("--no-nextjs", action="store_true", help="skip the Next.js image optimizer")
    parser.add_argument("--no-imgedge", action="store_true", help="only the libvips limit and bare endpoint")
    parser.add_argument(
        "--skip",
        default="",
        metavar="NAMES",
        help=f"workloads to leave out, comma-separated ({', '.join(SKIPPABLE)})",
    )
    parser.add_argument("--httpx", action="store_true", help="use the httpx client even where wrk exists")
    parser.add_argument("--out", type=Path, default=HERE / "results", help="where latest.* go")
    parser.add_argument("--scratch", type=Path, default=HERE / "scratch")
    args = parser.parse_args(argv)
    started = time.strftime("%H:%M:%S")
    # On a terminal, the current phase and its running time are redrawn on stderr between log lines.
    with PhaseTicker() as ticker:
        log = ticker.log
        log(f"benchmark ({args.mode or 'quick'} mode) started at {started}")
        skip = _skip(args.skip)
        options = Options(
            mode=MODES[args.mode or "quick"],
            scratch=args.scratch,
            with_imgedge=not args.no_imgedge,
            with_thumbor=not args.no_thumbor,
            with_nextjs=not args.no_nextjs,
            skip=skip,
            prefer_wrk=not args.httpx,
            workers=args.workers,
            imgedge_env=_env_pairs(args.env),
            log=log,
        )
        results = Suite(options).run()
        write_report(results, args.out)  # kept if one of the longer measurements below fails
        if args.mode != "tiny" and "autoquality" not in skip:
            log("q:auto against q80 and thumbor (bytes, SSIMULACRA2, miss time)")
            thumbor_port = None if args.no_thumbor else free_port()
            results["autoquality"] = autoquality.measure(args.scratch, thumbor_port=thumbor_port)
            log("repeated prompts through the API, prompt URLs against asset URLs")
            results["prompt_reuse"] = prompt_reuse.measure(args.scratch)
        for path in write_report(results, args.out):
            log(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
