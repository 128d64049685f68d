"""ProxyConfig from IMGEDGE_* variables: names that say what they hold, and a clear error for bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from imgedge.env import ConfigError
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
