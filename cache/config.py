"""Cache configuration from IMGEDGE_CACHE_* environment variables, with defaults for one machine."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from urllib.parse import urlsplit

from imgedge.env import ConfigError, env_float, env_int, env_list

_MiB = 1 << 20
_GiB = 1 << 30
_UNITS = {"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10, "m": _MiB, "mb": _MiB, "mib": _MiB}
_UNITS |= {"g": _GiB, "gb": _GiB, "gib": _GiB}
_SIZE = re.compile(r"\s*(\d+)\s*([a-zA-Z]*)\s*")
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

    @property
    def result_dir(self) -> Path | None:
        return None if self.disk_dir is None else self.disk_dir / "results"

    @property
    def source_dir(self) -> Path | None:
        return None if self.disk_dir is None else self.disk_dir / "sources"

    @property
    def purge_log_path(self) -> Path | None:
        return None if self.disk_dir is None else self.disk_dir / "purge.log"

    @classmethod
    def from_env(cls, data_dir: Path, environ: Mapping[str, str] | None = None) -> CacheConfig:
        env = os.environ if environ is None else environ
        defaults = cls()
        disk_dir_raw = env.get("IMGEDGE_CACHE_DISK_DIR", "").strip()
        if disk_dir_raw.lower() in _OFF:
            disk_dir: Path | None = None
        else:
            disk_dir = Path(disk_dir_raw) if disk_dir_raw else data_dir / "cache"
        cfg = cls(
            memory_bytes=_size(env, "IMGEDGE_CACHE_MEMORY_BYTES", defaults.memory_bytes),
            disk_dir=disk_dir,
            disk_bytes=_size(env, "IMGEDGE_CACHE_DISK_BYTES", defaults.disk_bytes),
            redis_url=env.get("IMGEDGE_CACHE_REDIS_URL", "").strip() or None,
            redis_max_entry_bytes=_size(
                env, "IMGEDGE_CACHE_REDIS_MAX_ENTRY_BYTES", defaults.redis_max_entry_bytes
            ),
            redis_ttl_s=env_int("IMGEDGE_CACHE_REDIS_TTL_S", defaults.redis_ttl_s, env),
            source_memory_bytes=_size(env, "IMGEDGE_CACHE_SOURCE_MEMORY_BYTES", defaults.source_memory_bytes),
            source_disk_bytes=_size(env, "IMGEDGE_CACHE_SOURCE_DISK_BYTES", defaults.source_disk_bytes),
            purge_ack_timeout_s=env_float(
                "IMGEDGE_CACHE_PURGE_ACK_TIMEOUT_S", defaults.purge_ack_timeout_s, env
            ),
            cdn_purge_urls=env_list("IMGEDGE_CDN_PURGE_URLS", (), env),
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


def parse_size(text: str) -> int:
    """Byte count such as 1048576, 512MiB, 2G (binary multiples)."""
    match = _SIZE.fullmatch(text)
    if match is None or match.group(2).lower() not in _UNITS:
        raise ValueError(f"not a size: {text!r} (use e.g. 1048576, 512MiB, 2GiB)")
    return int(match.group(1)) * _UNITS[match.group(2).lower()]


def _env_name(field_name: str) -> str:
    return "IMGEDGE_CACHE_" + field_name.upper()


def _size(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return parse_size(raw)
    except ValueError as exc:
        raise CacheConfigError(f"{name}: {exc}") from None
