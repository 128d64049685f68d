"""Answers made on the spot by an app's `respond_now` (imgedge.web.immediate), written by the protocol
(imgedge.web.protocol): the same bytes the ASGI path writes, in order with pipelined requests, with keep-alive
and connection close as uvicorn has them. A real uvicorn server on a real socket."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import uvicorn
from starlette.types import Receive, Scope, Send

from benchmarks.raw_http import Connection, request_bytes
from imgedge.web.protocol import LimitedHttpToolsProtocol
from tests.conftest import free_port

KEEP_ALIVE_S = 1.0


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


def reply_for(name: str) -> Reply:
    body = f"answer for {name}\n".encode()
    headers = [(b"content-type", b"text/plain"), (b"x-name", name.encode()), (b"cache-control", b"no-store")]
    if name == "bad":
        headers.append((b"x-evil", b"one\r\nset-cookie: two"))
    if name != "unframed":
        headers.append((b"content-length", str(len(body)).encode()))
    return Reply(304 if name == "unchanged" else 200, headers, b"" if name == "unchanged" else body)


class Toy:
    """`/now/NAME` is answered on the spot, `/asgi/NAME` alike through ASGI, `/slow/SECONDS` late."""

    def __init__(self) -> None:
        self.asked_now = self.answered_now = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        kind, _, name = scope["path"].removeprefix("/").partition("/")
        if kind == "slow":
            await asyncio.sleep(float(name))
        reply = reply_for(name)
        await send({"type": "http.response.start", "status": reply.status, "headers": reply.headers})
        await send({"type": "http.response.body", "body": reply.body})

    def respond_now(self, scope: Scope) -> Reply | None:
        self.asked_now += 1
        kind, _, name = scope["path"].removeprefix("/").partition("/")
        if kind != "now":
            return None
        if name == "boom":
            raise RuntimeError("a bug in respond_now")
        reply = reply_for(name)
        self.answered_now += 1
        return Reply(reply.status, reply.headers, b"" if scope["method"] == "HEAD" else reply.body)


@pytest.fixture(scope="module")
def toy() -> Iterator[tuple[Toy, int]]:
    app, port = Toy(), free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", http=LimitedHttpToolsProtocol,
            proxy_headers=False, timeout_keep_alive=KEEP_ALIVE_S,
        )
    )  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the test server did not start"
        time.sleep(0.02)
    yield app, port
    server.should_exit = True
    thread.join(timeout=20)


def raw_exchange(
    port: int, data: bytes, *, until_close: bool = False, answers: int = 1, head: bool = False
) -> bytes:
    """What the server sends back for `data`: `answers` responses (to HEAD requests, with `head`), or
    everything until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        received = b""
        while until_close or not _complete(received, answers, head=head):
            chunk = sock.recv(1 << 16)
            if not chunk:
                break
            received += chunk
        return received


def _complete(received: bytes, answers: int, *, head: bool) -> bool:
    position = 0
    for _ in range(answers):
        head_end = received.find(b"\r\n\r\n", position)
        if head_end < 0:
            return False
        lines = received[position:head_end].decode("latin-1").lower().split("\r\n")
        length = 0
        if not head and " 304 " not in lines[0]:  # neither has a body, whatever its Content-Length says
            for line in lines:
                if line.startswith("content-length:"):
                    length = int(line.partition(":")[2])
        position = head_end + 4 + length
        if position > len(received):
            return False
    return True


def without_date(raw: bytes) -> bytes:
    return b"\r\n".join(line for line in raw.split(b"\r\n") if not line.startswith(b"date: "))


@pytest.mark.parametrize("name", ["plain", "unchanged", "unframed"])
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_an_answer_on_the_spot_is_byte_for_byte_the_asgi_one(
    toy: tuple[Toy, int], name: str, method: str
) -> None:
    app, port = toy
    asked = app.asked_now
    now = raw_exchange(port, request_bytes(method, f"/now/{name}"), head=method == "HEAD")
    through_asgi = raw_exchange(port, request_bytes(method, f"/asgi/{name}"), head=method == "HEAD")
    assert app.asked_now == asked + 2  # asked both times; answered only the first
    if name == "unframed" and method == "GET":
        # uvicorn frames a body without a length as chunks; the protocol knows the whole body and counts it.
        assert b"content-length: 20\r\n" in now and b"transfer-encoding: chunked" in through_asgi
        assert now.endswith(b"answer for unframed\n")
        return
    assert without_date(now) == without_date(through_asgi)
    assert now.startswith(b"HTTP/1.1 304 " if name == "unchanged" else b"HTTP/1.1 200 OK\r\n")


def test_http_1_0_and_connection_close_get_the_connection_closed(toy: tuple[Toy, int]) -> None:
    _, port = toy
    old = b"GET /now/plain HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"
    answered = raw_exchange(port, old, until_close=True)
    assert answered.startswith(b"HTTP/1.1 200 OK") and b"connection: close\r\n" in answered
    assert answered.endswith(b"answer for plain\n")
    closing = request_bytes("GET", "/now/plain", [("Connection", "close")])
    answered = raw_exchange(port, closing + request_bytes("GET", "/now/second"), until_close=True)
    assert answered.count(b"HTTP/1.1 ") == 1 and b"connection: close\r\n" in answered


def test_pipelined_requests_are_answered_in_order_whichever_path_each_takes(toy: tuple[Toy, int]) -> None:
    _, port = toy
    names = ["a", "slow", "b", "c", "slow", "d"]
    data = b"".join(request_bytes("GET", "/slow/0.3" if name == "slow" else f"/now/{name}") for name in names)
    answered = raw_exchange(port, data, answers=len(names))
    order = [line.partition(b": ")[2] for line in answered.split(b"\r\n") if line.startswith(b"x-name: ")]
    assert order == [b"a", b"0.3", b"b", b"c", b"0.3", b"d"]


def test_a_slow_request_after_an_answer_on_the_spot_is_not_cut_by_the_keep_alive_timeout(
    toy: tuple[Toy, int],
) -> None:
    _, port = toy
    data = request_bytes("GET", "/now/first") + request_bytes("GET", f"/slow/{KEEP_ALIVE_S * 2}")
    started = time.monotonic()
    answered = raw_exchange(port, data, answers=2)
    assert answered.count(b"HTTP/1.1 200 OK") == 2, answered
    assert time.monotonic() - started >= KEEP_ALIVE_S * 2
    with Connection(port, timeout_s=10) as conn:  # and an idle connection still closes on time
        conn.send(request_bytes("GET", "/now/idle"))
        assert conn.read_answer().status == 200
        closed_after = conn.wait_closed(KEEP_ALIVE_S * 5)
    assert closed_after is not None and closed_after < KEEP_ALIVE_S + 1.0


def test_thousands_of_pipelined_requests_in_one_write(toy: tuple[Toy, int]) -> None:
    app, port = toy
    count = 3000  # ~150 KB: a few reads, of which only the first 32 requests each are answered at once
    answered_before = app.answered_now
    answered = raw_exchange(port, request_bytes("GET", "/now/many") * count, answers=count)
    assert answered.count(b"HTTP/1.1 200 OK") == count
    assert app.answered_now - answered_before <= count // 10  # the rest took their turns through ASGI
    behind_slow = request_bytes("GET", "/slow/0.2") + request_bytes("GET", "/now/many") * count
    answered = raw_exchange(port, behind_slow, answers=count + 1)  # started one by one as each completes
    assert answered.count(b"HTTP/1.1 200 OK") == count + 1


def test_an_invalid_header_closes_the_connection_as_uvicorn_does_and_serving_goes_on(
    toy: tuple[Toy, int],
) -> None:
    _, port = toy
    for kind in ("now", "asgi"):
        assert raw_exchange(port, request_bytes("GET", f"/{kind}/bad"), until_close=True) == b""
    assert raw_exchange(port, request_bytes("GET", "/now/after")).startswith(b"HTTP/1.1 200 OK")


def test_other_methods_take_the_asgi_path(toy: tuple[Toy, int]) -> None:
    app, port = toy
    asked = app.asked_now
    answered = raw_exchange(port, request_bytes("POST", "/now/posted", body=b"x"))
    assert answered.startswith(b"HTTP/1.1 200 OK") and b"x-name: posted" in answered
    assert app.asked_now == asked  # only GET and HEAD are asked about


def test_a_respond_now_that_raises_leaves_the_request_to_asgi(toy: tuple[Toy, int]) -> None:
    _, port = toy
    answered = raw_exchange(
        port, request_bytes("GET", "/now/boom") + request_bytes("GET", "/now/next"), answers=2
    )
    assert answered.count(b"HTTP/1.1 200 OK") == 2 and b"x-name: boom" in answered
