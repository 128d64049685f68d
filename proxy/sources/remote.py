"""Originals from allowed http(s) URLs, with the network checks a public proxy needs.

Every connection is made by CheckedBackend: it resolves the host itself, refuses the connection unless every
address is public (or in IMGEDGE_REMOTE_ALLOWED_NETWORKS), and connects to the address it checked, so no
second lookup can change the answer in between (TLS still verifies the certificate for the host name).
Redirects are followed here, a bounded number, each target checked against the allow-list again; sizes and
the whole fetch are bounded; a stale cached copy is revalidated with If-None-Match / If-Modified-Since.
"""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING
from urllib.parse import urljoin

import anyio
import httpcore

from imgedge.imaging.errors import SourceTooLarge
from imgedge.netcheck import Network, is_allowed, parse_address
from imgedge.proxy.errors import BadGateway, Forbidden, GatewayTimeout, NotFound
from imgedge.proxy.metrics import ORIGIN_FETCHES
from imgedge.proxy.sources.allowlist import AllowedPrefix, admitted
from imgedge.proxy.sources.base import REMOTE, SourceImage, SourceRef
from imgedge.url.errors import UrlError

if TYPE_CHECKING:
    from imgedge.proxy.config import ProxyConfig

USER_AGENT = "imgedge"
_REDIRECTS = (301, 302, 303, 307, 308)


class RefusedAddress(Forbidden):
    default_message = "source address is not allowed"


class CheckedBackend(httpcore.AsyncNetworkBackend):
    """Connects only to addresses that pass `is_allowed`, and only to the address that was checked."""

    def __init__(self, allowed: Sequence[Network], inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self.allowed = tuple(allowed)
        self.inner = inner or httpcore.AnyIOBackend()

    async def checked_address(self, host: str, port: int) -> str:
        try:
            infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError:
            raise BadGateway(f"source host {host!r} does not resolve") from None
        addresses = [parse_address(str(sockaddr[0])) for *_, sockaddr in infos]
        # All of them, not just the first: a name with one private record is refused outright.
        if not addresses or not all(is_allowed(address, self.allowed) for address in addresses):
            raise RefusedAddress(f"source host {host!r} is not a public address")
        return str(addresses[0])

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        address = await self.checked_address(host, port)
        return await self.inner.connect_tcp(address, port, timeout, local_address, socket_options)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise RefusedAddress("unix sockets are not sources")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class RemoteSource:
    def __init__(self, config: ProxyConfig, backend: httpcore.AsyncNetworkBackend | None = None) -> None:
        self._prefixes: tuple[AllowedPrefix, ...] = config.remote_sources
        self._max_bytes = config.max_src_bytes
        self._timeout_s = config.remote_timeout_s
        self._max_redirects = config.remote_max_redirects
        self._pool = httpcore.AsyncConnectionPool(
            network_backend=backend or CheckedBackend(config.remote_networks),
            max_connections=64,
            keepalive_expiry=30.0,
        )
        self.fetches = 0

    async def fetch(self, ref: SourceRef, previous: SourceImage | None = None) -> SourceImage:
        if ref.kind != REMOTE:
            raise NotFound(f"this source has no {ref.kind} originals")
        self.fetches += 1
        ORIGIN_FETCHES.inc()
        try:
            with anyio.fail_after(self._timeout_s):
                return await self._follow(ref.location, previous)
        except TimeoutError:
            raise GatewayTimeout("source timed out") from None
        except httpcore.TimeoutException:
            raise GatewayTimeout("source timed out") from None
        except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol) as exc:
            raise BadGateway(f"source unreachable: {type(exc).__name__}") from None

    async def _follow(self, url: str, previous: SourceImage | None) -> SourceImage:
        for _ in range(self._max_redirects + 1):
            if not admitted(url, self._prefixes):
                raise Forbidden("source is not allowed (IMGEDGE_REMOTE_SOURCES)")
            async with self._pool.stream("GET", url, headers=_request_headers(previous)) as response:
                location = _header(response, b"location")
                if response.status in _REDIRECTS and location:
                    url = _redirect_target(url, location)
                    continue
                if response.status == 304 and previous is not None:
                    return previous
                _check_status(response.status)
                data = await self._read_body(response)
                etag = _header(response, b"etag").removeprefix("W/").strip('"')
                return SourceImage(
                    data=data,
                    etag=etag or hashlib.sha256(data).hexdigest()[:32],
                    moderation="approved",
                    last_modified=_header(response, b"last-modified"),
                )
        raise BadGateway(f"source redirected more than {self._max_redirects} times")

    async def _read_body(self, response: httpcore.Response) -> bytes:
        declared = _header(response, b"content-length")
        if declared.isdigit() and int(declared) > self._max_bytes:
            raise SourceTooLarge(f"source is {declared} bytes, limit is {self._max_bytes}")
        chunks: list[bytes] = []
        received = 0
        async for chunk in response.aiter_stream():
            received += len(chunk)
            if received > self._max_bytes:
                raise SourceTooLarge(f"source exceeds {self._max_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    async def ready(self) -> str | None:
        return None

    async def aclose(self) -> None:
        await self._pool.aclose()


def _redirect_target(url: str, location: str) -> str:
    try:
        target = SourceRef.parse(urljoin(url, location), part="source redirect")
    except UrlError as exc:
        raise BadGateway(exc.message) from None
    if target.kind != REMOTE:
        raise BadGateway("source redirected away from http(s)")
    return target.location


def _request_headers(previous: SourceImage | None) -> list[tuple[bytes, bytes]]:
    headers = [(b"User-Agent", USER_AGENT.encode()), (b"Accept", b"image/*")]
    if previous is not None:
        headers.append((b"If-None-Match", f'"{previous.etag}"'.encode("latin-1")))
        if previous.last_modified:
            headers.append((b"If-Modified-Since", previous.last_modified.encode("latin-1")))
    return headers


def _header(response: httpcore.Response, name: bytes) -> str:
    for key, value in response.headers:
        if key.lower() == name:
            return value.decode("latin-1").strip()
    return ""


def _check_status(status: int) -> None:
    if status == 200:
        return
    if status in (404, 410):
        raise NotFound("source not found")
    raise BadGateway(f"source answered {status}")
