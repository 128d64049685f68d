"""The origin client against real sockets: a local server that answers each request with a scripted reply."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest

from imgedge.proxy.sources.origin_client import BodyTooLarge, OriginClient, OriginUnreachable


class Closing(bytes):
    """A reply after which the origin closes the connection."""


# What a reply does, given the request's head and its number on its connection (0 for the first).
Reply = Callable[[bytes, int], bytes | None]  # None: close the connection without answering


@dataclass
class Origin:
    url: str
    heads: list[bytes] = field(default_factory=list)
    connections: int = 0


def ok(body: bytes, *extra: str) -> bytes:
    head = ["HTTP/1.1 200 OK", f"Content-Length: {len(body)}", 'ETag: "e"', *extra]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


@asynccontextmanager
async def origin(reply: Reply, *, hold: bool = False) -> AsyncIterator[Origin]:
    """`hold`: answer nothing and keep the connection open (a hung origin)."""
    state = Origin("")

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        state.connections += 1
        try:
            for number in range(100):
                head = await reader.readuntil(b"\r\n\r\n")
                state.heads.append(head)
                if hold:
                    await asyncio.sleep(30)
                answer = reply(head, number)
                if answer is None:
                    break
                writer.write(answer)
                await writer.drain()
                if isinstance(answer, Closing):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    state.url = f"http://127.0.0.1:{port}/prefix"
    async with server:
        yield state


def client(url: str, *, max_body: int = 1 << 20, timeout_s: float = 5.0) -> OriginClient:
    return OriginClient(url, headers={"Authorization": "Bearer t"}, timeout_s=timeout_s, max_body=max_body)


async def test_a_body_is_read_whole_and_the_connection_is_kept_for_the_next_request() -> None:
    body = bytes(range(256)) * 4000
    async with origin(lambda head, n: ok(body, "X-Imgedge-Moderation: approved")) as server:
        c = client(server.url)
        first = await c.get("/originals/a")
        second = await c.get("/originals/b")
        await c.aclose()
    assert first.status == 200 and first.body == body and second.body == body
    assert first.headers["x-imgedge-moderation"] == "approved" and first.headers["etag"] == '"e"'
    assert server.connections == 1
    head = server.heads[0].decode()
    assert head.startswith("GET /prefix/originals/a HTTP/1.1\r\n")
    assert "Authorization: Bearer t\r\n" in head and f"Host: {server.url.split('/')[2]}\r\n" in head


async def test_a_chunked_body_is_joined() -> None:
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    async with origin(lambda head, n: chunked) as server:
        response = await client(server.url).get("/x")
    assert response.body == b"hello world"


async def test_a_declared_length_over_the_limit_is_refused_before_the_body() -> None:
    head_only = b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n"
    async with origin(lambda head, n: head_only) as server:
        with pytest.raises(BodyTooLarge):
            await client(server.url, max_body=4096).get("/x")


async def test_a_chunked_body_growing_past_the_limit_is_refused() -> None:
    chunk = b"400\r\n" + b"x" * 1024 + b"\r\n"
    endless = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk * 8
    async with origin(lambda head, n: endless) as server:
        with pytest.raises(BodyTooLarge):
            await client(server.url, max_body=4096).get("/x")


@pytest.mark.parametrize(
    "answer",
    [
        b"SPDY/9 nonsense\r\n\r\n",  # not HTTP
        Closing(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort"),  # closed mid-body
        None,  # closed without a word
        b"HTTP/1.1 200 OK\r\n" + b"X-A: b\r\n" * 200 + b"Content-Length: 0\r\n\r\n",  # too many headers
        b"HTTP/1.1 200 OK\r\nX-Big: " + b"v" * 70_000 + b"\r\nContent-Length: 0\r\n\r\n",  # too large a head
    ],
)
async def test_a_broken_answer_is_unreachable(answer: bytes | None) -> None:
    async with origin(lambda head, n: answer) as server:
        with pytest.raises(OriginUnreachable):
            await client(server.url).get("/x")


async def test_a_hung_origin_times_out() -> None:
    async with origin(lambda head, n: b"", hold=True) as server:
        c = client(server.url, timeout_s=0.3)
        started = asyncio.get_running_loop().time()
        with pytest.raises(TimeoutError):
            await c.get("/x")
    assert asyncio.get_running_loop().time() - started < 2.0


async def test_nobody_listening_is_unreachable() -> None:
    async with origin(lambda head, n: ok(b"")) as server:
        url = server.url
    with pytest.raises(OriginUnreachable):
        await client(url).get("/x")


async def test_a_kept_connection_the_origin_drops_on_reuse_is_replaced_by_a_fresh_one() -> None:
    # The second request on a connection gets no answer: the origin closed it just as it was reused.
    async with origin(lambda head, n: ok(b"fine") if n == 0 else None) as server:
        c = client(server.url)
        assert (await c.get("/a")).body == b"fine"
        assert (await c.get("/b")).body == b"fine"
    assert server.connections == 2


async def test_connection_close_is_honoured() -> None:
    async with origin(lambda head, n: ok(b"once", "Connection: close")) as server:
        c = client(server.url)
        await c.get("/a")
        await c.get("/b")
    assert server.connections == 2


async def test_a_second_response_nobody_asked_for_closes_the_connection() -> None:
    async with origin(lambda head, n: ok(b"one") + ok(b"two")) as server:
        c = client(server.url)
        assert (await c.get("/a")).body == b"one"
        assert (await c.get("/b")).body == b"one"  # on a fresh connection: the first was dropped
    assert server.connections == 2


async def test_an_interim_response_is_passed_over() -> None:
    early = b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
    async with origin(lambda head, n: early + ok(b"final")) as server:
        response = await client(server.url).get("/x")
    assert response.status == 200 and response.body == b"final" and "link" not in response.headers


def test_only_http_and_https_origins_and_headers_without_line_breaks() -> None:
    with pytest.raises(ValueError, match="origin URL"):
        client("ftp://example.com")
    with pytest.raises(ValueError, match="line breaks"):
        OriginClient("http://o", headers={"Authorization": "Bearer x\r\nX-Evil: 1"}, timeout_s=1, max_body=1)
