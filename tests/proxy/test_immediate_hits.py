"""ImmediateHits.respond_now (the answer uvicorn's protocol asks for before it starts a request task) gives a
repeated memory-tier hit exactly what the ASGI path gives it, and declines everything else."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from libthumbor import CryptoURL
from prometheus_client import REGISTRY
from starlette.testclient import TestClient

from imgedge.cache.config import CacheConfig
from imgedge.proxy import metrics
from imgedge.proxy.app import create_app
from imgedge.proxy.asgi import ImmediateHits
from imgedge.proxy.config import ProxyConfig
from imgedge.proxy.dialects.next_image_config import NextImageConfig
from imgedge.proxy.replies import Reply
from imgedge.url.build import build_path
from imgedge.web.clients import TrustedProxies
from imgedge.web.limits import WebLimits
from tests.conftest import photo
from tests.proxy.test_negotiate import CHROMIUM, SAFARI_15

KEY = b"immediate-key"
THUMBOR_KEY = "immediate-thumbor-key"
# Headers whose values differ from one request to the next by design.
PER_REQUEST = {b"x-request-id", b"server-timing"}


@pytest.fixture(scope="module")
def originals(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("immediate-originals")
    photo("coffee").write_to_file(str(root / "coffee.png"))
    return root


@pytest.fixture(scope="module")
def client(originals: Path) -> Iterator[TestClient]:
    config = ProxyConfig(
        data_dir=originals, source="filesystem", originals_dir=originals, keys=(KEY,),
        thumbor_key=THUMBOR_KEY.encode(),
        next_image=NextImageConfig(path="/_next/image", formats=("avif", "webp"), qualities=(75,)),
    )  # fmt: skip
    app = create_app(config, cache_config=CacheConfig(disk_dir=None))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def front(client: TestClient) -> ImmediateHits:
    app = client.app
    assert isinstance(app, ImmediateHits)
    return app


def scope(path: str, method: str = "GET", **sent: str) -> dict[str, Any]:
    """As uvicorn's httptools protocol builds it: lowercased header names, the raw path as sent."""
    raw_path, _, query = path.partition("?")
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": raw_path, "raw_path": raw_path.encode(), "query_string": query.encode(),
        "root_path": "", "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8080), "state": {},
        "headers": [(b"host", b"testserver"), *((k.lower().encode(), v.encode()) for k, v in sent.items())],
    }  # fmt: skip


def comparable(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    return [(name, value) for name, value in headers if name not in PER_REQUEST]


def asgi_answer(client: TestClient, path: str, method: str = "GET", **headers: str) -> Reply:
    response = client.request(method, path, headers=headers)
    # TestClient hands back the raw header list; nothing is added to a transform's headers past the app.
    return Reply(response.status_code, [(k.lower(), v) for k, v in response.headers.raw], response.content)


THUMBOR_URL = "/thumbor" + CryptoURL(key=THUMBOR_KEY).generate(
    width=300, height=200, image_url="coffee", filters=["format(webp)"]
)
CASES = [
    (build_path("coffee", key=KEY, width=200, fmt="webp"), "GET", {}),
    (build_path("coffee", key=KEY, width=200, fmt="auto"), "GET", {"Accept": CHROMIUM}),
    (build_path("coffee", key=KEY, width=200, fmt="auto"), "GET", {"Accept": SAFARI_15}),
    (build_path("coffee", key=KEY, width=200, fmt="auto"), "HEAD", {"Accept": CHROMIUM}),
    (build_path("coffee", key=KEY, width=210, fmt="auto", quality=60), "GET", {"Accept": "*/*"}),
    (THUMBOR_URL, "GET", {}),
    ("/_next/image?url=%2Fcoffee&w=640&q=75", "GET", {"Accept": CHROMIUM}),  # Next.js's own headers
    ("/_next/image?url=%2Fcoffee&w=640&q=75", "HEAD", {"Accept": SAFARI_15}),
]


@pytest.mark.parametrize(("path", "method", "headers"), CASES)
def test_a_repeated_hit_gets_what_the_asgi_path_gives_it(
    client: TestClient, path: str, method: str, headers: dict[str, str]
) -> None:
    first = client.request("GET", path, headers=headers)
    assert first.status_code == 200  # made now, or by a case before
    through_asgi = asgi_answer(client, path, method, **headers)
    assert dict(through_asgi.headers)[b"cache-status"] == b"imgedge; hit; detail=memory"
    now = front(client).respond_now(scope(path, method, **headers))
    assert now is not None
    assert (now.status, now.body) == (through_asgi.status, through_asgi.body)
    assert comparable(now.headers) == comparable(through_asgi.headers)
    assert dict(now.headers)[b"x-request-id"] != dict(through_asgi.headers)[b"x-request-id"]


def test_a_matching_etag_gets_a_304_and_a_sane_request_id_is_kept(client: TestClient) -> None:
    path = build_path("coffee", key=KEY, width=220, fmt="webp")
    etag = client.get(path).headers["etag"]
    now = front(client).respond_now(scope(path, **{"If-None-Match": etag, "X-Request-Id": "cdn-42"}))
    assert now is not None and now.status == 304 and now.body == b""
    assert dict(now.headers)[b"x-request-id"] == b"cdn-42"
    through_asgi = asgi_answer(client, path, **{"If-None-Match": etag})
    assert comparable(now.headers) == comparable(through_asgi.headers)


def test_an_immediate_hit_is_counted_like_any_other(client: TestClient) -> None:
    path = build_path("coffee", key=KEY, width=230, fmt="webp")
    client.get(path)

    def counted() -> tuple[float, float]:
        metrics.HOT.flush()
        requests = REGISTRY.get_sample_value(
            "imgedge_proxy_requests_total", {"route": "transform", "status": "200"}
        )
        hit = {"result": "hit", "tier": "memory"}
        lookups = REGISTRY.get_sample_value("imgedge_cache_lookups_total", hit)
        return requests or 0.0, lookups or 0.0

    before = counted()
    assert front(client).respond_now(scope(path)) is not None
    assert counted() == (before[0] + 1, before[1] + 1)


def test_everything_else_is_left_to_the_asgi_path(client: TestClient) -> None:
    hits = front(client)
    seen = build_path("coffee", key=KEY, width=240, fmt="webp")
    client.get(seen)
    assert hits.respond_now(scope(seen)) is not None
    never_seen = build_path("coffee", key=KEY, width=241, fmt="webp")
    assert hits.respond_now(scope(never_seen)) is None  # not verified yet: parsing and checking are ASGI's
    assert "miss" in client.get(never_seen).headers["cache-status"]  # the look above made nothing
    forged = build_path("coffee", key=b"forged", width=240, fmt="webp")
    assert hits.respond_now(scope(forged)) is None
    assert client.get(forged).status_code == 403
    assert hits.respond_now(scope(seen, "POST")) is None
    assert hits.respond_now(scope(seen, **{"Content-Length": "5"})) is None  # BodyLimit's to refuse
    assert hits.respond_now(scope(seen, **{"Transfer-Encoding": "chunked"})) is None
    assert hits.respond_now(scope("/healthz")) is None
    assert hits.respond_now(scope(seen + "?x=1")) is None  # another URL, not verified


def one_client(originals: Path) -> TestClient:
    config = ProxyConfig(data_dir=originals, source="filesystem", originals_dir=originals, keys=(KEY,))
    app = create_app(config, cache_config=CacheConfig(disk_dir=None))
    return TestClient(app, raise_server_exceptions=False)


def test_a_variant_no_longer_in_memory_is_left_to_the_asgi_path(originals: Path) -> None:
    with one_client(originals) as test_client:
        hits = front(test_client)
        path = build_path("coffee", key=KEY, width=250, fmt="webp")
        assert test_client.get(path).status_code == 200
        assert hits.respond_now(scope(path)) is not None
        hits.transforms.results.clear_memory()
        assert hits.respond_now(scope(path)) is None
        assert "miss" in test_client.get(path).headers["cache-status"]


def test_an_expired_url_is_left_to_the_asgi_path_which_refuses_it(originals: Path) -> None:
    with one_client(originals) as test_client:
        hits = front(test_client)
        # An expiry of whole seconds: 2 s from now is at least 1 s away, and past after 2.1 s.
        path = build_path("coffee", key=KEY, width=260, fmt="webp", expires_in=2)
        assert test_client.get(path).status_code == 200
        assert hits.respond_now(scope(path)) is not None
        time.sleep(2.1)
        assert hits.respond_now(scope(path)) is None
        refused = test_client.get(path)
        assert (refused.status_code, refused.text) == (403, "URL has expired\n")


def test_the_access_log_sees_an_immediate_hit_as_the_asgi_path_does(
    originals: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("IMGEDGE_ACCESS_LOG", "all")
    trusted = WebLimits(trusted_proxies=TrustedProxies.parse(["127.0.0.1"]))
    config = ProxyConfig(
        data_dir=originals, source="filesystem", originals_dir=originals, keys=(KEY,), web=trusted
    )
    with TestClient(create_app(config, cache_config=CacheConfig(disk_dir=None))) as test_client:
        hits = front(test_client)
        path = build_path("coffee", key=KEY, width=270, fmt="webp")
        test_client.get(path)
        declined = scope(path + "?v=1", **{"X-Forwarded-For": "203.0.113.7"})
        before = {**declined, "headers": list(declined["headers"])}
        with caplog.at_level(logging.INFO, logger="imgedge.access"):
            assert hits.respond_now(declined) is None
            assert declined == before  # a declined request goes on to ASGI as it came
            assert hits.respond_now(scope(path, **{"X-Forwarded-For": "203.0.113.7"})) is not None
    fields = [record.fields for record in caplog.records if record.name == "imgedge.access"]  # type: ignore[attr-defined]
    assert fields[-1]["client"] == "203.0.113.7" and fields[-1]["cache"] == "imgedge; hit; detail=memory"
    assert fields[-1]["status"] == 200 and fields[-1]["path"] == path
