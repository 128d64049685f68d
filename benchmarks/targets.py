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


def evaluate(figures: dict[str, float | None]) -> list[Target]:
    """`figures`: the few numbers the targets need, None where not measured."""
    return [
        at_least(
            "Uncached WebP vs thumbor", ">= 2x thumbor's req/s", figures.get("uncached_vs_thumbor"), 2.0
        ),
        at_least(
            "Uncached WebP vs libvips limit",
            ">= 85% of the limit's req/s (PNG start)",
            figures.get("uncached_vs_limit"),
            0.85,
            "%",
        ),
        at_least(
            "Cache hits vs bare Starlette",
            ">= 60% of the bare endpoint's req/s",
            figures.get("hits_vs_bare"),
            0.60,
            "%",
        ),
        at_most("Cache hit p99 at 64 connections", "< 10 ms", figures.get("hits_p99_ms"), 10.0, "ms"),
        at_least(
            "WebP 1024 px smaller than PNG", ">= 85% smaller (median)", figures.get("webp_saving"), 0.85, "%"
        ),
        at_least(
            "AVIF 1024 px smaller than PNG", ">= 85% smaller (median)", figures.get("avif_saving"), 0.85, "%"
        ),
        at_least(
            "thumbor URLs vs native URLs",
            ">= 95% of the native URL's req/s (uncached WebP)",
            figures.get("thumbor_urls_vs_native"),
            0.95,
            "%",
        ),
        at_least(
            "imgproxy URLs vs native URLs",
            ">= 95% of the native URL's req/s (uncached WebP)",
            figures.get("imgproxy_urls_vs_native"),
            0.95,
            "%",
        ),
        at_most(
            "Soak RSS growth", "< 10% from end of first fifth to end", figures.get("soak_growth"), 0.10, "%"
        ),
    ]
