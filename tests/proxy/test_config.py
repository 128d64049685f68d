"""ProxyConfig from IMGEDGE_* variables: names that say what they hold, and a clear error for bad values."""

from __future__ import annotations

from pathlib import Path

import pytest
import pyvips
from starlette.testclient import TestClient

from imgedge.cache.config import CacheConfig
from imgedge.env import ConfigError
from imgedge.proxy.app import create_app
from imgedge.proxy.config import ProxyConfig


@pytest.fixture()
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setenv("IMGEDGE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("IMGEDGE_KEYS", "k")
    for name in ("IMGEDGE_SOURCE_DIR", "IMGEDGE_TRANSFORM_THREADS", "IMGEDGE_SOURCE"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_originals_dir_defaults_under_the_data_dir_and_keeps_its_variable(
    env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert ProxyConfig.from_env().originals_dir == tmp_path / "originals"
    env.setenv("IMGEDGE_SOURCE_DIR", str(tmp_path / "elsewhere"))
    assert ProxyConfig.from_env().originals_dir == tmp_path / "elsewhere"


def test_transform_threads(env: pytest.MonkeyPatch) -> None:
    env.setenv("IMGEDGE_TRANSFORM_THREADS", "3")
    assert ProxyConfig.from_env().transform_threads == 3
    env.setenv("IMGEDGE_TRANSFORM_THREADS", "0")
    with pytest.raises(ConfigError, match="IMGEDGE_TRANSFORM_THREADS must be at least 1"):
        ProxyConfig.from_env()


def test_dialect_and_remote_source_settings(env: pytest.MonkeyPatch) -> None:
    env.setenv("IMGEDGE_THUMBOR_SECURITY_KEY", "secret")
    env.setenv("IMGEDGE_IMGPROXY_KEY", "736563726574,6b6579")
    env.setenv("IMGEDGE_IMGPROXY_SALT", "68656C6C6F,73616c74")
    env.setenv("IMGEDGE_IMGPROXY_SIGNATURE_SIZE", "8")
    env.setenv("IMGEDGE_REMOTE_SOURCES", "https://images.example.com/,s3://bucket/prefix/")
    env.setenv("IMGEDGE_REMOTE_ALLOWED_NETWORKS", "10.0.0.0/8")
    config = ProxyConfig.from_env()
    assert config.thumbor_key == b"secret" and config.thumbor_prefix == "/thumbor"
    assert config.imgproxy_keys == ((b"secret", b"hello"), (b"key", b"salt"))
    assert config.imgproxy_signature_size == 8
    assert [p.scheme for p in config.remote_sources] == ["https", "s3"]
    assert [str(n) for n in config.remote_networks] == ["10.0.0.0/8"]


@pytest.mark.parametrize(
    ("name", "value", "error"),
    [
        ("IMGEDGE_IMGPROXY_SALT", "68656C6C6F,00", "1 keys but IMGEDGE_IMGPROXY_SALT has 2"),
        ("IMGEDGE_IMGPROXY_SALT", "nothex", "must be hex"),
        ("IMGEDGE_REMOTE_SOURCES", "ftp://files.example.com/", "IMGEDGE_REMOTE_SOURCES"),
        ("IMGEDGE_REMOTE_ALLOWED_NETWORKS", "intranet", "not an IP address"),
        ("IMGEDGE_THUMBOR_PREFIX", "thumbor/", "must look like /name"),
        ("IMGEDGE_IMGPROXY_PREFIX", "/thumbor", "must differ"),
        ("IMGEDGE_IMGPROXY_SIGNATURE_SIZE", "33", "at most 32"),
    ],
)
def test_bad_dialect_or_source_settings_stop_start_up(
    env: pytest.MonkeyPatch, name: str, value: str, error: str
) -> None:
    env.setenv("IMGEDGE_IMGPROXY_KEY", "736563726574")
    env.setenv("IMGEDGE_IMGPROXY_SALT", "68656C6C6F")
    env.setenv(name, value)
    with pytest.raises(ConfigError, match=error):
        ProxyConfig.from_env()


def test_libvips_threads_per_transform(env: pytest.MonkeyPatch) -> None:
    assert ProxyConfig.from_env().transform_libvips_threads == 1
    env.setenv("IMGEDGE_TRANSFORM_LIBVIPS_THREADS", "0")
    assert ProxyConfig.from_env().transform_libvips_threads == 0
    env.setenv("IMGEDGE_TRANSFORM_LIBVIPS_THREADS", "-1")
    with pytest.raises(ConfigError, match="IMGEDGE_TRANSFORM_LIBVIPS_THREADS"):
        ProxyConfig.from_env()


@pytest.mark.parametrize(("setting", "expected"), [(1, 1), (2, 2), (0, 3)])
def test_the_proxy_sets_libvips_threads_when_it_starts(tmp_path: Path, setting: int, expected: int) -> None:
    before = pyvips.concurrency_get()
    pyvips.concurrency_set(3)  # what VIPS_CONCURRENCY or libvips' own default would have left
    try:
        config = ProxyConfig(data_dir=tmp_path, keys=("k",), transform_libvips_threads=setting)
        with TestClient(create_app(config, cache_config=CacheConfig(disk_dir=None))) as client:
            assert client.get("/healthz").status_code == 200
            assert pyvips.concurrency_get() == expected
    finally:
        pyvips.concurrency_set(before)
