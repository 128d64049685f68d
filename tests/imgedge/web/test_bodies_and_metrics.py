"""The body limit and the metrics guard as ASGI parts, over real HTTP (uvicorn with imgedge's protocol)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Scope

from imgedge.errors import PublicError
from imgedge.web.bodies import BodyLimit
from imgedge.web.metrics_access import check_metrics_access
from imgedge.web.metrics_listener import MetricsListener, parse_address
from tests.conftest import free_port, running


def respond(_: Scope, exc: PublicError) -> ASGIApp:
    return JSONResponse({"error": exc.message}, status_code=exc.status, headers=exc.headers)


async def echo(request: Request) -> Response:
    return PlainTextResponse(str(len(await request.body())))


async def metrics(request: Request) -> Response:
    check_metrics_access(request.scope, "s3cret")
    return PlainTextResponse("ok")


async def public_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, PublicError)
    return JSONResponse({"error": exc.message}, status_code=exc.status, headers=exc.headers)


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    app = Starlette(
        routes=[Route("/echo", echo, methods=["POST"]), Route("/metrics", metrics)],
        exception_handlers={PublicError: public_error},
    )
    limited = BodyLimit(app, limit_for=lambda _: 1000, respond=respond, timeout_s=1.0)
    with running(limited) as base:
        yield base


def test_bodies_within_the_limit_are_read(url: str) -> None:
    assert httpx.post(f"{url}/echo", content=b"x" * 1000).text == "1000"
    assert httpx.post(f"{url}/echo", content=iter([b"x" * 500, b"y" * 500])).text == "1000"


def test_a_declared_length_over_the_limit_is_refused_unread(url: str) -> None:
    response = httpx.post(f"{url}/echo", content=b"x" * 1001)
    assert response.status_code == 413 and response.headers["connection"] == "close"
    assert "1000 bytes" in response.json()["error"]


def test_a_chunked_body_is_refused_as_it_passes_the_limit(url: str) -> None:
    response = httpx.post(f"{url}/echo", content=iter([b"x" * 600, b"y" * 600, b"z" * 10**6]))
    assert response.status_code == 413


def test_metrics_are_for_loopback_or_the_token(url: str) -> None:
    assert httpx.get(f"{url}/metrics").status_code == 200
    forwarded = {"X-Forwarded-For": "203.0.113.1"}
    assert httpx.get(f"{url}/metrics", headers=forwarded).status_code == 403
    token = {"Authorization": "Bearer s3cret", **forwarded}
    assert httpx.get(f"{url}/metrics", headers=token).status_code == 200


async def test_the_metrics_listener_serves_metrics_only() -> None:
    port = free_port()
    listener = MetricsListener(parse_address(f"127.0.0.1:{port}", "X"), lambda: (b"up 1\n", "text/plain"))
    await listener.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            scrape = await client.get("/metrics")
            other = await client.get("/admin/stats")
        assert (scrape.status_code, scrape.text) == (200, "up 1\n")
        assert scrape.headers["x-content-type-options"] == "nosniff"
        assert other.status_code == 404
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 10_000)  # a head that never ends
        assert await asyncio.wait_for(reader.read(), 10) == b""
        writer.close()
    finally:
        await listener.stop()


@pytest.mark.parametrize("text", ["9090", "host:", "host:70000", ":x"])
def test_metrics_addresses_are_host_and_port(text: str) -> None:
    from imgedge.env import ConfigError

    with pytest.raises(ConfigError):
        parse_address(text, "IMGEDGE_METRICS_ADDRESS")
