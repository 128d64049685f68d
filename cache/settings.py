"""The cache's settings: tier sizes, the disk and Redis tiers, purge fan-out."""

from __future__ import annotations

from imgedge import settings as s

MEMORY_BYTES = s.size(
    "cache",
    "IMGEDGE_CACHE_MEMORY_BYTES",
    128 << 20,
    "memory tier for variants, per host: each of the `IMGEDGE_WORKERS` proxy processes keeps its share",
)
DISK_BYTES = s.size("cache", "IMGEDGE_CACHE_DISK_BYTES", 2 << 30, "disk tier for variants")
SOURCE_MEMORY_BYTES = s.size(
    "cache",
    "IMGEDGE_CACHE_SOURCE_MEMORY_BYTES",
    256 << 20,
    "memory tier for originals (encoded and as raw pixels), per host, shared out like the above",
)
SOURCE_DISK_BYTES = s.size("cache", "IMGEDGE_CACHE_SOURCE_DISK_BYTES", 4 << 30, "disk tier for originals")
DISK_DIR = s.text(
    "cache", "IMGEDGE_CACHE_DISK_DIR", "", "directory of the disk tiers; `off` disables them",
    kind="path", shown_default="data/cache",
)  # fmt: skip
REDIS_URL = s.text(
    "cache", "IMGEDGE_CACHE_REDIS_URL", "", "Redis shared by every proxy instance, e.g. `redis://127.0.0.1:6379/0`",
    kind="url",
)  # fmt: skip
REDIS_MAX_ENTRY_BYTES = s.size(
    "cache", "IMGEDGE_CACHE_REDIS_MAX_ENTRY_BYTES", 8 << 20, "larger variants stay out of Redis"
)
REDIS_TTL_S = s.integer(
    "cache", "IMGEDGE_CACHE_REDIS_TTL_S", 7 * 24 * 3600, "Redis entry lifetime, seconds", low=1
)
PURGE_ACK_TIMEOUT_S = s.number(
    "cache", "IMGEDGE_CACHE_PURGE_ACK_TIMEOUT_S", 2.0,
    "how long a purge waits for every instance to acknowledge it over Redis", low=0.001, kind="seconds",
)  # fmt: skip
CDN_PURGE_URLS = s.items(
    "cache",
    "IMGEDGE_CDN_PURGE_URLS",
    (),
    "CDN (Varnish) URLs each purge also sends a ban by Surrogate-Key to",
)
