"""HTTP header values: caching policy, validators, timings."""

from __future__ import annotations

from imgedge.origin_protocol import IMMUTABLE

PENDING_MAX_AGE = 60


def variant_cache_control(moderation: str, expires: int, now: float, lifetime: int = 0) -> str:
    """Approved, content-addressed assets never change; anything else may still be withdrawn. A `lifetime`
    (remote sources, which may change at their origin) caps the max-age."""
    if moderation == "approved" and not expires and not lifetime:
        return IMMUTABLE
    max_age = PENDING_MAX_AGE if moderation != "approved" else lifetime or 31536000
    if expires:
        max_age = max(0, min(max_age, int(expires - now)))
    if moderation != "approved":
        return f"private, max-age={max_age}, stale-while-revalidate=30, stale-if-error=300"
    return f"public, max-age={max_age}"


def error_cache_control(status: int) -> str:
    # A CDN may remember a bad URL briefly; everything else (auth, origin trouble) must not stick.
    return "public, max-age=10" if status in (400, 404, 413, 415, 422) else "no-store"


def server_timing(timings: dict[str, float]) -> str:
    return ", ".join(f"{name};dur={ms:.1f}" for name, ms in timings.items())
