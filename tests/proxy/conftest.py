from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import pyvips
from starlette.testclient import TestClient

from imgedge.cache.config import CacheConfig
from imgedge.proxy.app import create_app
from imgedge.proxy.config import ProxyConfig


@pytest.fixture(autouse=True, scope="session")
def no_libvips_operation_cache() -> None:
    # As the proxy runs (proxy/lifespan.py): with the cache on, an operation killed at a deadline would be
    # handed, still killed, to the next transform that asks for the same operation.
    pyvips.cache_set_max(0)


@pytest.fixture(scope="module")
def fuzz_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    tmp: Path = tmp_path_factory.mktemp("fuzz")
    (tmp / "o").mkdir()
    config = ProxyConfig(
        data_dir=tmp, source="filesystem", originals_dir=tmp / "o", keys=(b"k",), allow_unsigned=True
    )
    app = create_app(config, cache_config=CacheConfig(disk_dir=None))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
