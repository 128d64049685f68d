"""`latest.md`: the tables a person reads, rendered from the same dict that becomes `latest.json`."""

from __future__ import annotations

from typing import Any

from benchmarks.stats import median
from benchmarks.targets import WHEN_MISSED

_MIB = 1024 * 1024
_WORKLOADS = {
    "uncached_webp": "Uncached 1024² PNG → 400 px WebP q80",
    "cold_webp": "Cold: first request of a never-seen asset → 400 px WebP q80",
    "uncached_jpeg": "Uncached 1024² PNG → 400 px JPEG q80",
    "uncached_avif": "Uncached, f:auto with Chromium's Accept → 400 px AVIF (default quality)",
    "cache_hits": "Cache hits, 400 px variants, 64 connections (wrk)",
    "cache_hits_httpx": "Cache hits, 400 px variants, 16 connections (httpx client)",
}

_HOW = " ".join(
    (
        "How each contender works: **imgedge** is `imgedge serve` with one proxy worker per core;",
        "uncached requests use unique variants (verified by `Cache-Status`) and start from the source",
        "cache, which holds the original as raw sRGB pixels (as in production); cold requests name",
        "assets never requested before, so each one fetches its original from the generator and decodes it.",
        "**imgedge webp** (in the AVIF table) is the same server's WebP misses in the same rounds.",
        "**limit** is an in-process pyvips loop, one process per core, doing the same transform from the",
        "PNG original (decode → thumbnail to 400 px → encode with imgedge's settings);",
        "**limit (pixels)** starts from raw pixels, like imgedge's source cache.",
        "**thumbor** 7.8 uses its file loader on the same canonical PNGs, no storage, no result storage,",
        "same format, quality and width (every request decodes its PNG: uncached and cold are alike for it),",
        "one single-process server per core sharing the port through SO_REUSEPORT (its own `--processes`",
        "handed every connection of a round to one process).",
        "**nextjs** is `next start` of a minimal Next.js 16 app with its default sharp optimizer on local",
        "copies of the same PNGs (`/_next/image?url=…&w=400&q=80`, a `?v=N` query making every request a new",
        "cache key; its AVIF quality is its own mapping of q=80).",
        "**bare starlette** returns one 400 px WebP from memory under uvicorn with the proxy's worker count.",
        "**imgedge thumbor URLs** and **imgedge imgproxy URLs** are the same imgedge and the same unique",
        "variants, spelled and signed as thumbor and imgproxy URLs.",
        "Cold rounds are a fixed number of requests from the httpx client, for every contender.",
    )
)


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return [_row(header), _row(["---"] * len(header)), *(_row(r) for r in rows), ""]


def _main_table(results: dict[str, Any]) -> list[str]:
    rows = []
    for key, title in _WORKLOADS.items():
        comparison = results["comparisons"].get(key)
        if comparison is None:
            continue
        for name, s in comparison["contenders"].items():
            ratio = comparison["ratios"].get(f"imgedge/{name}")
            rows.append(
                [
                    title,
                    name,
                    f"{s['rps']:.1f}",
                    f"{s['p50_ms']:.1f}",
                    f"{s['p95_ms']:.1f}",
                    f"{s['p99_ms']:.1f}",
                    f"{int(s['errors'])}",
                    _cpu_text(s.get("cpu_ms")),
                    f"{ratio:.2f}" if ratio is not None else "",
                ]
            )
    header = ["workload", "contender", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors",
              "server CPU / request", "imgedge / this"]  # fmt: skip
    return _table(header, rows)


def _cpu_text(ms: float | None) -> str:
    if ms is None:
        return ""
    return f"{ms * 1000:.0f} µs" if ms < 1 else f"{ms:.2f} ms"


# Each missed target's own figures from this run, printed beside profile.md's analysis: CPU per request for
# the targets it explains, the bare endpoint's p99 in the same rounds for the latency one.
_RUN_FIGURES = {
    "Uncached WebP vs libvips loop from raw pixels": ("uncached_webp", "imgedge", "limit (pixels)", "cpu_ms"),
    "Cold WebP vs thumbor": ("cold_webp", "imgedge", "thumbor", "cpu_ms"),
    "Cache hits vs bare Starlette (wrk)": ("cache_hits", "imgedge", "bare starlette", "cpu_ms"),
    "thumbor URLs vs native URLs": ("uncached_webp", "imgedge thumbor URLs", "imgedge", "cpu_ms"),
    "imgproxy URLs vs native URLs": ("uncached_webp", "imgedge imgproxy URLs", "imgedge", "cpu_ms"),
    "Cache hit p99 at 64 connections": ("cache_hits", "imgedge", "bare starlette", "p99_ms"),
}
_FIGURE_TEXT = {
    "cpu_ms": ("server CPU per request", _cpu_text),
    "p99_ms": ("p99", lambda ms: f"{ms:.1f} ms"),
}


def _run_figures(results: dict[str, Any], target: str) -> str:
    key, mine, theirs, field = _RUN_FIGURES.get(target, ("", "", "", "cpu_ms"))
    contenders = results["comparisons"].get(key, {}).get("contenders", {})
    a, b = (contenders.get(name, {}).get(field) for name in (mine, theirs))
    if a is None or b is None:
        return ""
    what, text = _FIGURE_TEXT[field]
    return f"this run's {what}: {mine} {text(a)}, {theirs} {text(b)}; "


def _targets(results: dict[str, Any]) -> list[str]:
    rows = []
    for t in results["targets"]:
        verdict = {True: "**met**", False: "**missed**", None: "not measured"}[t["met"]]
        rows.append([t["name"], t["goal"], t["measured"], verdict, t["margin"]])
    missed = [t for t in results["targets"] if t["met"] is False and t["name"] in WHEN_MISSED]
    why = [
        f"- **{t['name']}** ({t['margin']}): {_run_figures(results, t['name'])}{WHEN_MISSED[t['name']]}."
        for t in missed
    ]
    return [
        "## Targets", "", *_table(["target", "goal", "measured", "verdict", "margin"], rows),
        *(["Why the missed ones are missed, from what was measured:", "", *why, ""] if why else []),
    ]  # fmt: skip


def _sizes(results: dict[str, Any]) -> list[str]:
    found = results.get("sizes")
    if not found:
        return []
    rows = []
    for width in sorted({s["width"] for s in found}):
        for fmt in ("webp", "avif", "jpeg"):
            picked = [s for s in found if s["width"] == width and s["format"] == fmt]
            if picked:
                rows.append(
                    [
                        f"{width} px",
                        fmt,
                        f"{median([s['bytes'] for s in picked]) / 1024:.1f}",
                        f"{median([s['original_bytes'] for s in picked]) / 1024:.0f}",
                        f"{median([s['saving'] for s in picked]) * 100:.1f}%",
                        f"{min(s['saving'] for s in picked) * 100:.1f}%",
                    ]
                )
    header = ["width", "format", "median KiB", "PNG original KiB", "median saving", "worst saving"]
    return ["## Bytes per variant against the 1024² PNG original", "", *_table(header, rows)]


def _mix_soak_origin(results: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    mix = results.get("mix")
    if mix:
        timeline = mix["hit_timeline"]
        total = mix["hits"] + mix["misses"]
        lines += ["## Realistic mix (Zipf over assets x srcset widths x browsers, 16 connections)", ""]
        lines += [
            f"{mix['rps']:.1f} req/s, p50 {mix['p50_ms']:.1f} ms, p95 {mix['p95_ms']:.1f} ms, "
            f"p99 {mix['p99_ms']:.1f} ms; hit ratio {mix['hits'] / max(1, total) * 100:.1f}% overall.",
            "",
        ]
        shown = [f"{s}s {h / max(1, n) * 100:.0f}%" for s, h, n in timeline]
        lines += ["Hit ratio by second: " + ", ".join(shown), ""]
    origin = results.get("origin")
    if origin:
        lines += ["## Origin amortisation", ""]
        lines += [
            f"{origin['variants']} distinct variants of one never-requested asset at once → "
            f"{origin['origin_fetches']} origin fetches ({origin['ok']} answered 200; "
            f"{origin['proxy_processes']} proxy processes, each with its own source cache).",
            "",
        ]
    cold_fetches = results.get("cold_origin_fetches")
    if cold_fetches is not None:
        cold = results["comparisons"].get("cold_webp", {}).get("contenders", {}).get("imgedge", {})
        lines += [
            f"The cold workload made {cold_fetches} origin fetches for {int(cold.get('requests', 0))} "
            f"requests ({int(cold.get('misses', 0))} of them answered as misses).",
            "",
        ]
    soak = results.get("soak")
    if soak:
        lines += ["## Soak", ""]
        lines += [
            f"{soak['duration_s']:.0f} s of the mix at {soak['load']['rps']:.1f} req/s: imgedge proxy RSS "
            f"(its workers) {soak['rss_at_first_fifth'] / _MIB:.0f} MiB at the end of the first "
            "fifth, "
            f"{soak['rss_final'] / _MIB:.0f} MiB at the end ({soak['growth'] * 100:+.1f}%), "
            f"peak {soak['rss_peak'] / _MIB:.0f} MiB{_pss_text(soak)}. Configured memory budgets (both "
            f"memory tiers, summed over the workers): {soak.get('memory_budgets', 0) / _MIB:.0f} MiB; "
            f"allowed: budgets + 150 MiB x {soak.get('workers', 0)} workers = "
            f"{soak.get('allowed', 0) / _MIB:.0f} MiB.",
            "",
        ]
        rows = [[name, f"{size / _MIB:.0f}"] for name, size in sorted(soak["final_per_process"].items())]
        lines += _table(["proxy process at the end of the soak", "RSS MiB"], rows)
    return lines


def _pss_text(soak: dict[str, Any]) -> str:
    pss = soak.get("pss_final", 0)
    if not pss:
        return ""  # an older run's results, or no /proc/PID/smaps_rollup
    return (
        f"; their PSS at the end, which counts the pages of shared libraries once instead of once per "
        f"worker, {pss / _MIB:.0f} MiB"
    )


def _saturated(results: dict[str, Any]) -> list[str]:
    rounds = results.get("saturated")
    if not rounds:
        return []
    rows = []
    for index, r in enumerate(rounds, 1):
        hits, misses = r["hits"], r["misses"]
        hit_cells = [
            f"{hits['rps']:.0f}",
            f"{hits['p50_ms']:.1f}",
            f"{hits['p99_ms']:.1f}",
            f"{hits['misses']}",
        ]
        miss_cells = [f"{misses['rps']:.1f}", f"{misses['p50_ms']:.0f}", f"{misses['p99_ms']:.0f}"]
        rows.append([str(index), *hit_cells, *miss_cells, f"{misses['errors']}"])
    header = ["round", "hits req/s", "hit p50 ms", "hit p99 ms", "hit requests not hits",
              "misses req/s", "miss p50 ms", "miss p99 ms", "miss errors (503s)"]  # fmt: skip
    return [
        "## Hits while misses saturate the transform pool",
        "",
        "Two clients at once: 16 connections walking unique uncached WebP variants (every transform thread "
        "of every worker busy), and 4 connections requesting cached variants; latency is each client's own.",
        "",
        *_table(header, rows),
    ]


def _prewarm(results: dict[str, Any]) -> list[str]:
    found = results.get("prewarm")
    if not found:
        return []
    rows = []
    for name, r in found.items():
        assets = max(1, r["new_assets"])
        rows.append(
            [
                name,
                str(r["new_assets"]),
                f"{r['first_hit_ratio'] * 100:.0f}%",
                f"{r['hits'] / max(1, r['requests']) * 100:.0f}%",
                f"{r['warm_transforms'] / assets:.1f}",
                f"{r['traffic_transforms'] / assets:.1f}",
                f"{r['transforms_per_asset']:.1f}",
            ]
        )
    header = ["warm-up", "new assets", "first requests already cached", "all requests cached",
              "warm-up transforms / asset", "miss transforms / asset", "transforms / asset"]  # fmt: skip
    learned = found.get("learned", {}).get("popular", [])
    shown = ", ".join(
        f"{v['options'] or '(original size)'} {v['format']} {v['share'] * 100:.0f}%" for v in learned[:8]
    )
    return [
        "## Predictive warm-up: new assets on a site with its own sizes",
        "",
        "Two instances: the generator warms each approved upload with what the proxy learned from traffic "
        "(`IMGEDGE_WARM_LEARNED=1`), or with the fixed srcset widths in both negotiated formats "
        "(`IMGEDGE_WARM_LEARNED=0`). Visitors then view each new asset 30 times from the site's mix "
        "(cards 256² cover, 828, 384, 1200 and 640 px wide; Chromium, Safari and older browsers); the first "
        "request of each distinct variant counts.",
        "",
        *_table(header, rows),
        f"What the proxy had learned: {shown}." if shown else "",
        "",
    ]


def _rss(results: dict[str, Any]) -> list[str]:
    rows = []
    for tree, memory in results.get("rss_peak", {}).items():
        for process, size in sorted(memory["per_process"].items()):
            rows.append([tree, process, f"{size / _MIB:.0f}"])
        rows.append([tree, "**all together**", f"**{memory['total'] / _MIB:.0f}**"])
    return ["## Peak RSS of every process", "", *_table(["contender", "process", "peak RSS MiB"], rows)]


def render(results: dict[str, Any], chart_name: str | None) -> str:
    m = results["machine"]
    versions = ", ".join(f"{k} {v}" for k, v in m["versions"].items())
    lines = [
        f"# imgedge benchmark — {results['mode']} mode",
        "",
        f"{m['date']} · {m['cores']} cores ({m['cpu']}) · {m['ram_gib']} GiB RAM · Linux {m['kernel']} · "
        f"Python {m['python']} · load average at the end (1/5/15 min): "
        f"{' / '.join(str(x) for x in m.get('load_average', [])) or 'unknown'}",
        "",
        f"Versions: {versions}.",
        "",
        "All contenders ran on this machine in one run, alternating in rotating order; each figure is the "
        "median over rounds, and each ratio the median of per-round ratios. Absolute numbers depend on the "
        "(shared, noisy) machine; the ratios are what to compare.",
        "",
    ]
    if chart_name:
        lines += [f"![req/s per contender]({chart_name})", ""]
    lines += _main_table(results)
    lines += [
        _HOW,
        "",
    ]
    lines += _targets(results)
    lines += _sizes(results)
    lines += _saturated(results)
    lines += _mix_soak_origin(results)
    lines += _prewarm(results)
    lines += _rss(results)
    if results.get("autoquality"):
        lines += autoquality_section(results["autoquality"])
    if results.get("prompt_reuse"):
        lines += prompt_reuse_section(results["prompt_reuse"])
    notes = results.get("notes") or []
    if notes:
        lines += ["## Notes", "", *(f"- {n}" for n in notes), ""]
    return "\n".join(lines)


AUTOQUALITY_TITLE = "## q:auto: bytes and SSIMULACRA2 at 400 px"


def autoquality_section(results: dict[str, Any]) -> list[str]:
    """The q:auto table: one row per photo, and the targets it is held to."""
    rows = []
    for name, r in results["rows"].items():
        thumbor = r.get("thumbor_webp_q80")
        cells = [name, f"{thumbor['bytes'] / 1024:.1f} / {thumbor['score']:.1f}" if thumbor else "not run"]
        for column in ("imgedge_webp_q80", "auto_webp", "imgedge_avif_q80", "auto_avif"):
            c = r[column]
            quality = (
                f" (q{c['quality']}{' ' + c['tuning'] if c.get('tuning') else ''})" if "quality" in c else ""
            )
            cells.append(f"{c['bytes'] / 1024:.1f} / {c['score']:.1f}{quality}")
        rows.append(cells)
    header = [
        "photo",
        "thumbor WebP q80",
        "imgedge WebP q80",
        "q:auto WebP",
        "imgedge AVIF q80",
        "q:auto AVIF",
    ]
    lines = [
        AUTOQUALITY_TITLE,
        "",
        f"KiB / SSIMULACRA2 per variant (target {results['target']}), the nine scikit-image photos at native "
        f"resolution resized to {results['width']} px; q:auto columns use the learned quality (and the "
        "libwebp preset the search chose, where it is not the default).",
        "",
        *_table(header, rows),
    ]
    s = results["summary"]
    target_rows = []
    for fmt in ("webp", "avif"):
        f = s[fmt]
        vs_thumbor = f.get("bytes_vs_thumbor")
        target_rows += [
            [f"q:auto {fmt}: lowest SSIMULACRA2 (learned / first miss)", ">= 70",
             f"{f['min_score']:.1f} / {f['min_first_score']:.1f}",
             _verdict(min(f["min_score"], f["min_first_score"]) >= 70)],
            [f"q:auto {fmt}: median bytes vs thumbor WebP q80", "<= 0.80x",
             f"{vs_thumbor:.3f}x" if vs_thumbor is not None else "not run",
             _verdict(vs_thumbor is not None and vs_thumbor <= 0.8)],
            [f"q:auto {fmt}: first miss (estimate) vs q80 encode", "<= 1.5x",
             f"{f['first_miss_ratio']:.2f}x", _verdict(f["first_miss_ratio"] <= 1.5)],
            [f"q:auto {fmt}: later misses (learned) vs q80 encode", "<= 1.0x",
             f"{f['later_miss_ratio']:.2f}x", _verdict(f["later_miss_ratio"] <= 1.0)],
            [f"q:auto {fmt}: background search, once per asset/format/size class", "(reported)",
             f"{f['median_search_ms']:.0f} ms CPU", ""],
        ]  # fmt: skip
    lines += _table(["target", "goal", "measured", "verdict"], target_rows)
    lines += [
        "Miss times: the same 400 px resize encoded at q80, at the estimate (first miss) and at the learned "
        f"quality (later misses), {results.get('rounds', 15)} rounds in rotating order in one process; each "
        "ratio is the median over "
        "the photos of the median per-round ratio to q80. The proxy adds the same fetch and resize to all "
        "three. The search runs after the first miss has been answered (one at a time, in the background), "
        "and its result serves every later variant of the "
        "asset in that format and size class. Levels: low = 50, good = 70 (the default), best = 80 on "
        "the SSIMULACRA2 scale, whose anchors are 50 medium, 70 high and 90 visually lossless "
        "(docs/quality.md).",
        "",
    ]
    return lines


def _verdict(met: bool) -> str:
    return "**met**" if met else "**missed**"


def splice_section(path: Any, section: list[str]) -> None:
    """Replace (or add) the q:auto section of an existing latest.md."""
    text = path.read_text() if path.exists() else ""
    start = text.find(AUTOQUALITY_TITLE)
    if start >= 0:
        end = text.find("\n## ", start + len(AUTOQUALITY_TITLE))
        text = text[:start] + text[end + 1 :] if end >= 0 else text[:start]
    path.write_text(text.rstrip("\n") + "\n\n" + "\n".join(section))


PROMPT_REUSE_TITLE = "## Repeated prompts and prompt URLs"


def prompt_reuse_section(results: dict[str, Any]) -> list[str]:
    """Repeated prompts through the API, and prompt URLs against asset URLs of the same image."""
    api, urls = results["api"], results["urls"]

    def pair(row: dict[str, Any]) -> str:
        return f"{row['p50']:.1f} / {row['p99']:.1f}"

    return [
        PROMPT_REUSE_TITLE,
        "",
        "One `imgedge serve` (tiny model, 512² originals), sequential requests on one connection, the two"
        " columns of each pair interleaved (`python -m benchmarks.prompt_reuse`).",
        "",
        "| request | p50 / p99 ms | against | p50 / p99 ms |",
        "|---|---|---|---|",
        f"| `POST /v1/images`, a finished request repeated (200 `reused`, n={api['reused']['n']}) "
        f"| {pair(api['reused'])} | `GET /v1/jobs/{{id}}` of the same job | {pair(api['job_read'])} |",
        f"| prompt URL, later hits (n={urls['prompt_hits']['n']}) | {pair(urls['prompt_hits'])} "
        f"| asset URL of the same variant, hits | {pair(urls['asset_hits'])} |",
        "",
        "| first request | ms |",
        "|---|---|",
        f"| the request through the API (generated, polled to done) | {api['first_generation_ms']:.0f} |",
        f"| prompt URL (generation + transform, one request) | {urls['prompt_first_ms']:.0f} |",
        f"| asset URL of the same image at another width (transform only) | {urls['asset_first_ms']:.0f} |",
        "",
        f"Target: a repeated request's p99 under 50 ms (measured {api['reused']['p99']:.1f} ms).",
        "",
    ]
