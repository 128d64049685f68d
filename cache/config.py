"""Cache configuration from IMGEDGE_CACHE_* environment variables, with defaults for one machine."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from urllib.parse import urlsplit

from imgedge import common_settings as C
from imgedge.cache import settings as S
from imgedge.env import ConfigError

_MiB = 1 << 20
_GiB = 1 << 30
_OFF = frozenset({"off", "none", "disabled"})
_REDIS_SCHEMES = frozenset({"redis", "rediss", "unix"})


# One error type for every package's settings; the old name stays for callers of this package.
CacheConfigError = ConfigError


@dataclass(frozen=True, slots=True)
class CacheConfig:
    memory_bytes: int = 128 * _MiB
    disk_dir: Path | None = None
    disk_bytes: int = 2 * _GiB
    redis_url: str | None = None
    redis_max_entry_bytes: int = 8 * _MiB
    redis_ttl_s: int = 7 * 24 * 3600
    source_memory_bytes: int = 256 * _MiB
    source_disk_bytes: int = 4 * _GiB
    purge_ack_timeout_s: float = 2.0
    # CDN caches (Varnish) that each admin purge must also reach, after imgedge's own tiers.
    cdn_purge_urls: tuple[str, ...] = ()
    # Processes on this host that share the memory budgets above; each memory tier gets its share, so the
    # host's memory does not grow with the worker count (the disk tier, shared, serves the rest).
    workers: int = 1

    def per_process(self, budget: int) -> int:
        return budget // max(1, self.workers)

    @property
    def result_dir(self) -> Path | None:
        return None if self.disk_dir is None else self.disk_dir / "results"

    @property
    def source_cache_dir(self) -> Path | None:
        return None if self.disk_dir is None else self.disk_dir / "sources"

    @property
    def purge_log_path(self) -> Path | None:
        return None if self.disk_dir is None else self.disk_dir / "purge.log"

    @classmethod
    def from_env(cls, data_dir: Path, environ: Mapping[str, str] | None = None) -> CacheConfig:
        disk_dir_raw = S.DISK_DIR.read(environ)
        if disk_dir_raw.lower() in _OFF:
            disk_dir: Path | None = None
        else:
            disk_dir = Path(disk_dir_raw) if disk_dir_raw else data_dir / "cache"
        cfg = cls(
            memory_bytes=S.MEMORY_BYTES.read(environ),
            disk_dir=disk_dir,
            disk_bytes=S.DISK_BYTES.read(environ),
            redis_url=S.REDIS_URL.read(environ) or None,
            redis_max_entry_bytes=S.REDIS_MAX_ENTRY_BYTES.read(environ),
            redis_ttl_s=S.REDIS_TTL_S.read(environ),
            source_memory_bytes=S.SOURCE_MEMORY_BYTES.read(environ),
            source_disk_bytes=S.SOURCE_DISK_BYTES.read(environ),
            purge_ack_timeout_s=S.PURGE_ACK_TIMEOUT_S.read(environ),
            cdn_purge_urls=S.CDN_PURGE_URLS.read(environ),
            workers=C.WORKERS.read(environ),
        )
        cfg.validate()
        return cfg

    def validate(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, int | float) and value < 0:
                raise CacheConfigError(f"{_env_name(f.name)} must not be negative, got {value}")
        if self.redis_ttl_s == 0:
            raise CacheConfigError("IMGEDGE_CACHE_REDIS_TTL_S must be at least 1 second")
        if self.purge_ack_timeout_s == 0:
            raise CacheConfigError("IMGEDGE_CACHE_PURGE_ACK_TIMEOUT_S must be more than 0")
        if self.redis_url is not None and urlsplit(self.redis_url).scheme not in _REDIS_SCHEMES:
            raise CacheConfigError(
                "IMGEDGE_CACHE_REDIS_URL must start with redis://, rediss:// or unix://, "
                f"got {self.redis_url!r}"
            )
        for url in self.cdn_purge_urls:
            if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
                raise CacheConfigError(f"IMGEDGE_CDN_PURGE_URLS must hold http(s) URLs, got {url!r}")
        if self.disk_dir is not None and self.disk_dir.exists() and not self.disk_dir.is_dir():
            raise CacheConfigError(f"IMGEDGE_CACHE_DISK_DIR {self.disk_dir} exists and is not a directory")


def _env_name(field_name: str) -> str:
    return "IMGEDGE_CACHE_" + field_name.upper()
