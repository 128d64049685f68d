"""Origin faults, overload and hostile URLs against the proxy app."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import quote

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from imgedge.cache.config import CacheConfig
from imgedge.proxy.app import create_app
from imgedge.proxy.config import ProxyConfig
from imgedge.url.build import build_path
from tests.conftest import running

KEY = b"k"


def flaky_origin(image: bytes, failures: int) -> tuple[Starlette, dict[str, int]]:
    calls = {"n": 0}

    async def original(request: Request) -> Response:
        calls["n"] += 1
        if request.path_params["asset_id"] == "dead" or calls["n"] <= failures:
            return PlainTextResponse("boom", status_code=503)
        return Response(image, media_type="image/png", headers={"ETag": '"x"'})

    return Starlette(routes=[Route("/originals/{asset_id}", original)]), calls


def test_origin_5xx_is_retried_then_served(tmp_path: Path, photo_png: bytes) -> None:
    origin, calls = flaky_origin(photo_png, failures=2)
    with running(origin) as origin_url:
        config = ProxyConfig(data_dir=tmp_path, keys=(KEY,), origin_url=origin_url, origin_retries=2)
        with running(create_app(config, cache_config=CacheConfig(disk_dir=None))) as url:
            response = httpx.get(url + build_path("a", key=KEY, width=50))
            assert response.status_code == 200
            assert calls["n"] == 3


def test_dead_origin_trips_the_breaker(tmp_path: Path, photo_png: bytes) -> None:
    origin, calls = flaky_origin(photo_png, failures=0)
    with running(origin) as origin_url:
        config = ProxyConfig(data_dir=tmp_path, keys=(KEY,), origin_url=origin_url, origin_retries=1)
        with running(create_app(config, cache_config=CacheConfig(disk_dir=None))) as url:
            for _ in range(5):
                assert httpx.get(url + build_path("dead", key=KEY, width=50)).status_code == 502
            assert calls["n"] == 10
            fast = httpx.get(url + build_path("dead", key=KEY, width=51))
            assert fast.status_code == 502 and int(fast.headers["retry-after"]) >= 1
            assert calls["n"] == 10  # the breaker answered without touching the origin


def test_full_queue_answers_503_with_retry_after(tmp_path: Path, photo_png: bytes) -> None:
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "big.png").write_bytes(photo_png)
    config = ProxyConfig(data_dir=tmp_path, source="filesystem", originals_dir=tmp_path / "o", keys=(KEY,),
                         transform_threads=1, queue_size=1)  # fmt: skip
    with running(create_app(config, cache_config=CacheConfig(disk_dir=None))) as url:
        httpx.get(url + build_path("big", key=KEY, width=10))  # warm the source cache

        async def burst() -> list[httpx.Response]:
            async with httpx.AsyncClient(timeout=60) as client:
                paths = [build_path("big", key=KEY, width=3000 + i, fit="force", height=3000, fmt="png",
                                    extra=["el:1"]) for i in range(6)]  # fmt: skip
                return await asyncio.gather(*(client.get(url + p) for p in paths))

        responses = asyncio.run(burst())
        statuses = [r.status_code for r in responses]
        assert 503 in statuses and 200 in statuses and set(statuses) <= {200, 503}
        assert all(r.headers["retry-after"] == "1" for r in responses if r.status_code == 503)
        assert httpx.get(url + build_path("big", key=KEY, width=20)).status_code == 200


def test_svg_and_other_untrusted_formats_are_refused(tmp_path: Path) -> None:
    (tmp_path / "o").mkdir()
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><image href="file:///etc/passwd"/></svg>'
    (tmp_path / "o" / "vector.svg").write_bytes(svg)
    config = ProxyConfig(data_dir=tmp_path, source="filesystem", originals_dir=tmp_path / "o", keys=(KEY,))
    with running(create_app(config, cache_config=CacheConfig(disk_dir=None))) as url:
        response = httpx.get(url + build_path("vector", key=KEY, width=10))
        assert response.status_code == 415, response.text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.one_of(
            st.text(alphabet=st.characters(codec="utf-8", exclude_characters="/?#"), max_size=20),
            st.sampled_from(["w:1", "h:abc", "g:fp:1:1:1", "c:-1:0:1:1", "q:", ":", "::", "exp:0", "f:auto",
                             "pr:", "dpr:nan", "bl:inf", "rot:90.0", "_", "unsafe", "a" * 200]),
        ),
        min_size=0, max_size=8,
    )
)  # fmt: skip
def test_fuzzed_urls_never_answer_500(fuzz_client: TestClient, segments: list[str]) -> None:
    response = fuzz_client.get("http://testserver/" + "/".join(quote(s, safe="") for s in segments))
    assert response.status_code < 500, (segments, response.text)


def test_fuzzed_signatures_are_403(fuzz_client: TestClient) -> None:
    good = build_path("x", key=KEY, width=10)
    for bad in ("A" * 43, good.split("/")[1][:-1], "%00", "==", good.split("/")[1].upper()):
        assert fuzz_client.get(f"/{bad}/w:10/x").status_code in (400, 403)
