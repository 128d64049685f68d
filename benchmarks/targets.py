"""The issue's targets, each judged from ratios measured side by side in this run."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    goal: str
    measured: str
    met: bool | None  # None: not measured in this run (the contender or workload was skipped)
    margin: str  # how far past (or short of) the goal


def at_least(name: str, goal: str, value: float | None, threshold: float, unit: str = "x") -> Target:
    if value is None:
        return Target(name, goal, "not measured", None, "")
    shown = f"{value * 100:.0f}%" if unit == "%" else f"{value:.2f}x"
    margin = value / threshold - 1
    return Target(name, goal, shown, value >= threshold, f"{margin * 100:+.0f}% against the goal")


def at_most(name: str, goal: str, value: float | None, threshold: float, unit: str) -> Target:
    if value is None:
        return Target(name, goal, "not measured", None, "")
    shown = f"{value * 100:.1f}%" if unit == "%" else f"{value:.1f} {unit}"
    margin = 1 - value / threshold if threshold else 0.0
    return Target(name, goal, shown, value < threshold, f"{margin * 100:+.0f}% headroom")


# What profile.md measured about each target's cost structure, printed under the table when it is missed.
WHEN_MISSED = {
    "Uncached WebP vs libvips loop from raw pixels": (
        "the loop is libvips alone (its own WebP saver, one libvips thread per image as in the proxy); "
        "imgedge resizes from the pyramid's 512 px level and encodes common WebP variants through libwebp "
        "directly, the same bytes for ~1-2.5 ms less CPU, and the request around the transform still costs "
        "more than both save: the event loop's 2.3-2.9 ms per miss on the fourteenth round's slow host "
        "(~1.0-1.2 ms on a faster one: parsing, signature, two cache lookups, the hand-offs to the transform "
        "pool and the disk tier's thread, the entry's hash, metrics, the reply) and the disk tier's new file "
        "per entry, up to ~2 ms of kernel CPU on the sixteenth round's host (ext4 without a journal passes "
        "over every recently freed inode): 1.0x needs a request that costs nothing (profile.md, 'The sixth "
        "round', 'The fourteenth round' and 'The sixteenth round')"
    ),
    "AVIF misses (f:auto, Chromium) vs WebP misses": (
        "an AVIF miss's AV1 encode (aom at effort 0, the cheapest setting on encoders.md's Pareto front) "
        "costs ~1.5x a WebP encode on a faster host and ~2x on the fourteenth round's slow one; that round "
        "made WebP misses ~9% faster twice (libwebp without libvips' saver; one libvips thread per "
        "transform) and AVIF misses ~14% faster once (the same one thread); the fifteenth encodes q:auto "
        "AVIF above 256 px with 4:2:0 chroma, not 4:4:4, 12-16% less encode CPU for 1-2% more bytes, which "
        "made f:auto AVIF misses 8% and 17% faster in two alternating runs (profile.md, 'The fourteenth "
        "round' and 'The fifteenth round')"
    ),
    "Cold WebP vs thumbor": (
        "both decode the same PNG; 1.5x leaves imgedge two thirds of thumbor's CPU per request (~22-24 ms): "
        "its decode and shrink (~9.7 ms, the inflate ~6.7 of them) and encode (~6.5 ms) take ~16, the "
        "generator serving the 2.3 MiB original ~1.4 ms and the proxy receiving it ~0.6 ms (~2.5 ms through "
        "httpx before the eleventh round), the request, its cache lookups and thread hand-offs the rest; "
        "until the twelfth round a round's connections all landed on one proxy worker; on that round's "
        "slower host the workers taking turns raised it from 1.07x to 1.23-1.25x, and reading a canonical "
        "original's header once, from its chunks, made first views 7-9% faster; the fourteenth round's "
        "WebP through libwebp directly and one libvips thread per transform another ~4% and ~5% (profile.md)"
    ),
    "Cache hit p99 at 64 connections": (
        "wrk's 64 connections and the servers share the machine's cores, so a hit's p99 there is mostly "
        "time spent waiting for a core, not the hit's ~0.1 ms of CPU; the bare endpoint, which does less per "
        "request, reached 16.6-21.8 ms on the twelfth and thirteenth rounds' host and 8.0 ms on the "
        "fourteenth's (profile.md, 'The twelfth round' and 'The fourteenth round')"
    ),
    "Hit p99 while misses saturate the pool": (
        "hits wait for CPU when every core is busy; transform threads are niced (IMGEDGE_TRANSFORM_NICE) "
        "but on a shared machine other processes' load is not (profile.md, 'Hits under saturated misses')"
    ),
    "Proxy RSS after the soak": (
        "a worker's RSS swings with the q:auto search it runs (one at a time per host; since the seventh "
        "round ~25 MiB of SSIMULACRA2 planes held at 1280 px, ~52 at the peak, 75 and 163 before) and the "
        "un-encoded variants waiting for one, and with what glibc has not yet handed back; no uvicorn master "
        "or resource tracker adds its 41 MiB any more (profile.md, 'The seventh round')"
    ),
    "thumbor URLs vs native URLs": (
        "the same pipeline, cache and encode behind another URL parser: parsing and checking a thumbor URL "
        "costs 30 us against 17 for a native one, 0.1% of a ~10 ms miss, so the ratio is 1.00 and what "
        "a run shows is the noise between adjacent 5 s rounds on a shared machine, about +-5% "
        "(profile.md, 'The fifth round')"
    ),
    "imgproxy URLs vs native URLs": (
        "the same pipeline, cache and encode behind another URL parser: parsing and checking an imgproxy "
        "URL costs 20 us against 17 for a native one, 0.03% of a ~10 ms miss, so the ratio is 1.00 and what "
        "a run shows is the noise between adjacent 5 s rounds on a shared machine, about +-5% "
        "(profile.md, 'The fifth round')"
    ),
    "Cache hits vs bare Starlette (wrk)": (
        "a repeated hit is answered inside the HTTP protocol's callback, without a request task, the four "
        "web layers or the ASGI messages; what is left is the proxy's own Python work (key, lookup, headers, "
        "request id, metrics) and the seven headers the bare endpoint does not send, and it weighs more on a "
        "slower host: ~36 us of server CPU per hit against the bare endpoint's ~30 on the eleventh round's "
        "AMD EPYC (91% by wrk), 139-155 against 96-100 us on the eighteenth round's Intel Xeon (72-81%), "
        "where a worker's profile under wrk spends a fifth of its time writing answers to the socket and no "
        "other piece over a tenth (profile.md, 'The ninth round' and 'The eighteenth round')"
    ),
}


def evaluate(figures: dict[str, float | None]) -> list[Target]:
    """`figures`: the few numbers the targets need, None where not measured."""
    f = figures.get
    return [
        at_least("Uncached WebP vs thumbor", ">= 3x thumbor's req/s", f("uncached_vs_thumbor"), 3.0),
        at_least(
            "Uncached WebP vs libvips loop from raw pixels",
            ">= 1.0x the loop's req/s",
            f("uncached_vs_limit_pixels"),
            1.0,
        ),
        at_least("Cold WebP vs thumbor", ">= 1.5x thumbor's req/s", f("cold_vs_thumbor"), 1.5),
        at_least(
            "AVIF misses (f:auto, Chromium) vs WebP misses", ">= 0.5x the WebP req/s", f("avif_vs_webp"), 0.5
        ),
        at_least(
            "Cache hits vs bare Starlette (wrk)", ">= 75% of the bare endpoint", f("hits_vs_bare"), 0.75, "%"
        ),
        at_least(
            "Cache hits vs bare Starlette (httpx client)",
            ">= 75% of the bare endpoint",
            f("hits_vs_bare_httpx"),
            0.75,
            "%",
        ),
        at_most("Cache hit p99 at 64 connections", "< 10 ms", f("hits_p99_ms"), 10.0, "ms"),
        at_most("Hit p99 while misses saturate the pool", "< 20 ms", f("saturated_hit_p99_ms"), 20.0, "ms"),
        at_least("WebP 1024 px smaller than PNG", ">= 85% smaller (median)", f("webp_saving"), 0.85, "%"),
        at_least("AVIF 1024 px smaller than PNG", ">= 85% smaller (median)", f("avif_saving"), 0.85, "%"),
        at_least(
            "thumbor URLs vs native URLs",
            ">= 95% of the native URL's req/s (uncached WebP)",
            f("thumbor_urls_vs_native"),
            0.95,
            "%",
        ),
        at_least(
            "imgproxy URLs vs native URLs",
            ">= 95% of the native URL's req/s (uncached WebP)",
            f("imgproxy_urls_vs_native"),
            0.95,
            "%",
        ),
        at_most(
            "Proxy RSS after the soak",
            "<= memory budgets + 150 MiB per worker",
            f("soak_rss_vs_allowed"),
            1.0 + 1e-9,
            "%",
        ),
        at_most("Soak RSS growth", "< 10% from end of first fifth to end", f("soak_growth"), 0.10, "%"),
    ]
