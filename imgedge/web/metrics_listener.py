"""`/metrics` on an address of its own (IMGEDGE_METRICS_ADDRESS, IMGEDGE_GENERATOR_METRICS_ADDRESS), as
imgproxy's IMGPROXY_PROMETHEUS_BIND: Prometheus scrapes a private interface and the public port answers 404.
Worker processes share the address (SO_REUSEPORT); the proxy's multiprocess registry lets any one of them
answer for all. A deliberately small HTTP/1.0 server: one GET per connection, its head bounded in bytes
and time."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from imgedge.env import ConfigError

_MAX_HEAD = 8192
_HEAD_TIMEOUT_S = 5.0

# Returns (body, content type).
Render = Callable[[], tuple[bytes, str]]


def parse_address(text: str, setting: str) -> tuple[str, int]:
    host, sep, port = text.strip().rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"{setting} must be host:port, got {text!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


class MetricsListener:
    def __init__(self, address: tuple[str, int], render: Render) -> None:
        self.address = address
        self.render = render
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        host, port = self.address
        self._server = await asyncio.start_server(self._handle, host, port, reuse_port=True, limit=_MAX_HEAD)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), _HEAD_TIMEOUT_S)
            method, target = [*head.split(b"\r\n", 1)[0].split(b" "), b"", b""][:2]
            if method in (b"GET", b"HEAD") and target.split(b"?")[0] == b"/metrics":
                body, content_type = self.render()
                status = b"200 OK"
            else:
                body, content_type, status = b"not found\n", "text/plain; charset=utf-8", b"404 Not Found"
            writer.write(
                b"HTTP/1.0 " + status + b"\r\ncontent-type: " + content_type.encode() + b"\r\n"
                b"content-length: " + str(len(body)).encode() + b"\r\ncache-control: no-store\r\n"
                b"x-content-type-options: nosniff\r\nconnection: close\r\n\r\n"
                + (b"" if method == b"HEAD" else body)
            )
            await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
