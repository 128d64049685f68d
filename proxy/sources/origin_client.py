"""GET over HTTP/1.1 to the generator, for the one request a first view makes: the original's bytes.

httpx spent ~3 ms of the event loop's thread on each 2-3 MiB original (an h11 event per 64 KiB read, the
layers of httpcore and anyio, and a failed `import sniffio` behind each of its locks); this client hands each
socket read to llhttp (httptools, which uvicorn already uses to parse requests) and keeps the body's pieces
until the message ends (benchmarks/results/profile.md, "The eleventh round"). It speaks only what the
generator's origin needs: GET, keep-alive, Content-Length or chunked bodies, http or https.

Every response is bounded before it is kept: its head (bytes and header count), its body (the caller's
limit, checked against the declared length and again as it arrives) and its time (connect to last byte).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlsplit

import httptools

_MAX_HEAD_BYTES = 64 * 1024
_MAX_HEADERS = 100


class OriginUnreachable(Exception):
    """No usable answer: refused, reset or closed early, or not HTTP."""


class BodyTooLarge(Exception):
    pass


@dataclass(frozen=True, slots=True)
class OriginResponse:
    status: int
    headers: Mapping[str, str]  # lower-case names; the first of repeated headers
    body: bytes


class _Exchange(asyncio.Protocol):
    """One connection; one request at a time on it."""

    def __init__(self, max_body: int) -> None:
        self._max_body = max_body
        self._parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self._done: asyncio.Future[OriginResponse] | None = None
        self._headers: dict[str, str] = {}
        self._chunks: list[bytes] = []
        self._head_bytes = self._header_count = self._received = 0
        self.started = False  # whether any byte of the current response arrived
        self._expecting = False  # a request is out and its response has not ended

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports do not subclass asyncio's

    def data_received(self, data: bytes) -> None:
        if not self._expecting:
            self._fail(OriginUnreachable("origin sent bytes nobody asked for"))
            return
        self.started = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            # What a callback below raised arrives as the parser error's context.
            cause = exc.__context__
            if isinstance(cause, (BodyTooLarge, OriginUnreachable)):
                self._fail(cause)
            else:
                self._fail(OriginUnreachable(f"origin answered with a malformed response ({exc})"))
        except httptools.HttpParserUpgrade:
            self._fail(OriginUnreachable("origin asked to switch protocols"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._done is not None and not self._done.done():
            self._done.set_exception(OriginUnreachable("origin closed the connection before answering"))

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        if not self._expecting:
            raise OriginUnreachable("origin sent a second response")
        self._head_bytes += len(name) + len(value) + 4
        self._header_count += 1
        if self._head_bytes > _MAX_HEAD_BYTES or self._header_count > _MAX_HEADERS:
            raise OriginUnreachable("origin's response head is too large")
        self._headers.setdefault(name.decode("latin-1").lower(), value.decode("latin-1").strip())

    def on_headers_complete(self) -> None:
        declared = self._headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self._max_body:
            raise BodyTooLarge(f"source is {declared} bytes, limit is {self._max_body}")

    def on_body(self, body: bytes) -> None:
        if not self._expecting:
            raise OriginUnreachable("origin sent a second response")
        self._received += len(body)
        if self._received > self._max_body:
            raise BodyTooLarge(f"source exceeds {self._max_body} bytes")
        self._chunks.append(body)

    def on_message_complete(self) -> None:
        if not self._expecting:
            raise OriginUnreachable("origin sent a second response")
        status = self._parser.get_status_code()
        if 100 <= status < 200:
            self._new_message()  # an interim response (103 Early Hints): the answer is still to come
            return
        self._expecting = False
        assert self._done is not None
        if not self._parser.should_keep_alive():
            self.close()
        body = self._chunks[0] if len(self._chunks) == 1 else b"".join(self._chunks)
        self._chunks = []
        if not self._done.done():
            self._done.set_result(OriginResponse(status, self._headers, body))

    # the client's side
    def send(self, request: bytes) -> asyncio.Future[OriginResponse]:
        assert self.transport is not None
        self._done = asyncio.get_running_loop().create_future()
        self._new_message()
        self.started, self._expecting = False, True
        self.transport.write(request)
        return self._done

    def _new_message(self) -> None:
        self._headers, self._chunks = {}, []
        self._head_bytes = self._header_count = self._received = 0

    def _fail(self, exc: Exception) -> None:
        self._expecting = False
        self.close()
        if self._done is not None and not self._done.done():
            self._done.set_exception(exc)

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def reusable(self) -> bool:
        return not self.closed and self.transport is not None and not self.transport.is_closing()


class OriginClient:
    """Requests to one origin (`base_url`, path prefix included), with idle connections kept for reuse."""

    def __init__(
        self, base_url: str, *, headers: Mapping[str, str], timeout_s: float, max_body: int,
        max_connections: int = 64, max_idle: int = 16,
    ) -> None:  # fmt: skip
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"origin URL must be http(s)://host[:port][/prefix], not {base_url!r}")
        self._host = parts.hostname
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._ssl = ssl.create_default_context() if parts.scheme == "https" else None
        self._prefix = parts.path.rstrip("/")
        host_header = parts.netloc.rpartition("@")[2]
        fixed = {"Host": host_header, "User-Agent": "imgedge", "Accept-Encoding": "identity", **headers}
        if any(c in text for item in fixed.items() for text in item for c in "\r\n\0"):
            raise ValueError("origin request headers may not contain line breaks")
        self._head_lines = "".join(f"{name}: {value}\r\n" for name, value in fixed.items())
        self._timeout_s = timeout_s
        self._max_body = max_body
        self._max_connections = max_connections
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: list[_Exchange] = []
        self._max_idle = max_idle
        self._loop: asyncio.AbstractEventLoop | None = None

    async def get(self, path: str, *, timeout_s: float | None = None) -> OriginResponse:
        """The whole response to `GET {prefix}{path}`; OriginUnreachable, BodyTooLarge or TimeoutError."""
        request = f"GET {self._prefix}{path} HTTP/1.1\r\n{self._head_lines}\r\n".encode("latin-1")
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            # Connections and the semaphore belong to the loop they were made on (tests run several loops).
            self._loop, self._idle, self._slots = loop, [], asyncio.Semaphore(self._max_connections)
        async with self._slots, asyncio.timeout(timeout_s or self._timeout_s):
            while self._idle:
                exchange = self._idle.pop()
                if not exchange.reusable():
                    continue
                try:
                    return await self._exchange(exchange, request)
                except OriginUnreachable:
                    # The origin may close an idle connection just as it is reused: a fresh one decides.
                    if exchange.started:
                        raise
            return await self._exchange(await self._connect(), request)

    async def _connect(self) -> _Exchange:
        loop = asyncio.get_running_loop()
        try:
            _, exchange = await loop.create_connection(
                lambda: _Exchange(self._max_body), self._host, self._port, ssl=self._ssl,
                server_hostname=self._host if self._ssl is not None else None,
            )  # fmt: skip
        except OSError as exc:
            raise OriginUnreachable(f"cannot connect to the origin ({exc.strerror or exc})") from None
        return exchange

    async def _exchange(self, exchange: _Exchange, request: bytes) -> OriginResponse:
        try:
            response = await exchange.send(request)
        except BaseException:
            exchange.close()  # cancelled or timed out mid-response: the connection's state is unknown
            raise
        if exchange.reusable() and len(self._idle) < self._max_idle:
            self._idle.append(exchange)
        else:
            exchange.close()
        return response

    async def aclose(self) -> None:
        for exchange in self._idle:
            exchange.close()
        self._idle.clear()
