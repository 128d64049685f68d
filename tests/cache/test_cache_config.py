from __future__ import annotations

from pathlib import Path

import pytest

from imgedge.cache.config import CacheConfig, CacheConfigError
from imgedge.settings import parse_size


def test_defaults_work_out_of_the_box(tmp_path: Path) -> None:
    cfg = CacheConfig.from_env(tmp_path, {})
    assert cfg.disk_dir == tmp_path / "cache"
    assert cfg.result_dir == tmp_path / "cache" / "results"
    assert cfg.source_cache_dir == tmp_path / "cache" / "sources"
    assert cfg.purge_log_path == tmp_path / "cache" / "purge.log"
    assert cfg.redis_url is None
    assert cfg.memory_bytes > 0 and cfg.disk_bytes > 0
    assert cfg.source_memory_bytes > 0 and cfg.source_disk_bytes > 0


def test_environment_overrides(tmp_path: Path) -> None:
    cfg = CacheConfig.from_env(
        tmp_path,
        {
            "IMGEDGE_CACHE_MEMORY_BYTES": "64MiB",
            "IMGEDGE_CACHE_DISK_DIR": str(tmp_path / "elsewhere"),
            "IMGEDGE_CACHE_DISK_BYTES": "3G",
            "IMGEDGE_CACHE_REDIS_URL": "redis://cache:6379/2",
            "IMGEDGE_CACHE_REDIS_TTL_S": "60",
            "IMGEDGE_CACHE_SOURCE_MEMORY_BYTES": "0",
            "IMGEDGE_CACHE_PURGE_ACK_TIMEOUT_S": "0.5",
        },
    )
    assert cfg.memory_bytes == 64 << 20
    assert cfg.disk_dir == tmp_path / "elsewhere"
    assert cfg.disk_bytes == 3 << 30
    assert cfg.redis_url == "redis://cache:6379/2"
    assert cfg.redis_ttl_s == 60
    assert cfg.source_memory_bytes == 0
    assert cfg.purge_ack_timeout_s == 0.5


def test_disk_can_be_turned_off(tmp_path: Path) -> None:
    cfg = CacheConfig.from_env(tmp_path, {"IMGEDGE_CACHE_DISK_DIR": "off"})
    assert cfg.disk_dir is None and cfg.result_dir is None and cfg.purge_log_path is None


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"IMGEDGE_CACHE_MEMORY_BYTES": "lots"}, "IMGEDGE_CACHE_MEMORY_BYTES"),
        ({"IMGEDGE_CACHE_DISK_BYTES": "12 parsecs"}, "IMGEDGE_CACHE_DISK_BYTES"),
        ({"IMGEDGE_CACHE_REDIS_TTL_S": "soon"}, "IMGEDGE_CACHE_REDIS_TTL_S"),
        ({"IMGEDGE_CACHE_REDIS_TTL_S": "0"}, "IMGEDGE_CACHE_REDIS_TTL_S"),
        ({"IMGEDGE_CACHE_REDIS_URL": "http://cache:6379"}, "IMGEDGE_CACHE_REDIS_URL"),
        ({"IMGEDGE_CACHE_PURGE_ACK_TIMEOUT_S": "-1"}, "IMGEDGE_CACHE_PURGE_ACK_TIMEOUT_S"),
    ],
)
def test_bad_values_name_the_variable(tmp_path: Path, env: dict[str, str], message: str) -> None:
    with pytest.raises(CacheConfigError, match=message):
        CacheConfig.from_env(tmp_path, env)


def test_disk_dir_that_is_a_file_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(CacheConfigError, match="not a directory"):
        CacheConfig.from_env(tmp_path, {"IMGEDGE_CACHE_DISK_DIR": str(tmp_path / "file")})


def test_validate_rejects_negative_sizes() -> None:
    with pytest.raises(CacheConfigError, match="IMGEDGE_CACHE_MEMORY_BYTES"):
        CacheConfig(memory_bytes=-1).validate()


@pytest.mark.parametrize(
    ("text", "size"), [("1024", 1024), ("1k", 1024), ("2 MiB", 2 << 20), ("1GB", 1 << 30), ("7b", 7)]
)
def test_parse_size(text: str, size: int) -> None:
    assert parse_size(text) == size
