"""The front door: which paths are transforms, and how the transform path answers what respond cannot."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from imgedge.cache.config import CacheConfig
from imgedge.proxy.app import create_app
from imgedge.proxy.asgi import ProxyApp
from imgedge.proxy.config import ProxyConfig
from imgedge.proxy.routes import TRANSFORM, route_name
from imgedge.proxy.sources import SourceImage, SourceRef

KEY = b"k"


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/healthz", "healthz"), ("/readyz", "readyz"), ("/metrics", "metrics"), ("/admin/stats", "admin"),
        ("/admin/anything/else", "admin"), ("/healthz/", TRANSFORM), ("/metricsx", TRANSFORM),
        ("/_/w:10/admin", TRANSFORM), ("/sig/w:10/healthz", TRANSFORM),
    ],
)  # fmt: skip
def test_route_names(path: str, name: str) -> None:
    assert route_name(path) == name


class BrokenSource:
    """An origin whose client has a bug: raises something that is not a PublicError."""

    async def fetch(self, ref: SourceRef) -> SourceImage:
        raise RuntimeError("bug")

    async def ready(self) -> str | None:
        return None

    async def aclose(self) -> None:
        return None


@pytest.fixture()
def client(tmp_path: Path) -> Iterator[TestClient]:
    config = ProxyConfig(data_dir=tmp_path, keys=(KEY,), allow_unsigned=True, admin_token="t")
    app = create_app(config, source=BrokenSource(), cache_config=CacheConfig(disk_dir=None))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def service_routes(client: TestClient) -> list[Route]:
    app: Any = client.app
    while not isinstance(app, ProxyApp):  # the web layers (client address, access log, limits) wrap it
        app = app.app
    service = app.service
    assert isinstance(service, Starlette)
    return [r for r in service.routes if isinstance(r, Route)]


def test_every_service_route_is_outside_the_transform_paths(client: TestClient) -> None:
    routes = service_routes(client)
    names = {route_name(re.sub(r"\{[^}]+\}", "x", route.path)) for route in routes}
    assert TRANSFORM not in names
    assert names == {"healthz", "readyz", "metrics", "admin", "info"}
    assert client.get("/healthz").status_code == 200
    assert client.get("/admin/stats").status_code == 401
    assert client.get("/admin/nothing-here").status_code == 404


def test_other_methods_on_transform_paths_are_405(client: TestClient) -> None:
    response = client.post("/_/w:10/cat")
    assert response.status_code == 405 and response.headers["allow"] == "GET, HEAD"
    assert response.headers["cache-control"] == "no-store"


def test_an_unexpected_error_is_a_500_that_says_nothing_and_is_not_cached(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    response = client.get("/_/w:10/cat")
    assert response.status_code == 500 and response.text == "internal error\n"
    assert response.headers["cache-control"] == "no-store"
    assert "unhandled error on /_/w:10/cat" in caplog.text
    assert client.get("/_/w:abc/cat").status_code == 400  # still answering
