"""The generator's store over HTTP: `GET {origin}/originals/{asset_id}`, with retries and a breaker."""

from __future__ import annotations

import hashlib
import random
from typing import TYPE_CHECKING

import anyio
import httpx

from imgedge.errors import PublicError
from imgedge.imaging.errors import SourceTooLarge
from imgedge.origin_protocol import MODERATION_HEADER, label_from_headers, originals_path
from imgedge.proxy.breaker import CircuitBreaker
from imgedge.proxy.errors import BadGateway, Forbidden, GatewayTimeout, NotFound, Withdrawn
from imgedge.proxy.metrics import ORIGIN_FETCHES
from imgedge.proxy.sources.base import SourceImage, SourceRef, asset_id_of

if TYPE_CHECKING:
    from imgedge.proxy.config import ProxyConfig


class _Retryable(BadGateway):
    """A failure worth another try: 5xx or a refused connection."""


class HttpSource:
    def __init__(self, config: ProxyConfig, client: httpx.AsyncClient | None = None) -> None:
        self._base = config.origin_url
        self._max_bytes = config.max_src_bytes
        headers = {"Authorization": f"Bearer {config.origin_token}"} if config.origin_token else {}
        self._client = client or httpx.AsyncClient(
            timeout=httpx.Timeout(config.origin_timeout_s),
            headers=headers,
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
        )
        self.fetches = 0
        self._retries = config.origin_retries
        self._backoff_s = 0.05
        self.breaker = CircuitBreaker(threshold=5, cooldown_s=config.origin_cooldown_s)
        self._wait_s = config.origin_wait_s
        # Whether the origin has answered anything since this process started.
        self._reached = False

    async def fetch(self, ref: SourceRef, previous: SourceImage | None = None) -> SourceImage:
        asset_id = asset_id_of(ref)
        if not self._reached:
            await self._first_contact()
        if not self.breaker.allow():
            raise BadGateway("origin is failing; not trying for a moment",
                             headers={"Retry-After": str(self.breaker.retry_after())})  # fmt: skip
        for attempt in range(self._retries + 1):
            try:
                image = await self._fetch_once(asset_id)
            except _Retryable as exc:
                if attempt == self._retries:
                    self.breaker.failure()
                    raise BadGateway(exc.message) from None
                # Jittered exponential backoff, so many proxies do not retry in lockstep.
                await anyio.sleep(self._backoff_s * (2**attempt) * (0.5 + random.random()))
            except GatewayTimeout:
                self.breaker.failure()
                raise
            except PublicError:
                self.breaker.success()  # a 404 or a refused credential: the origin itself is fine
                raise
            else:
                self.breaker.success()
                return image
        raise AssertionError("unreachable")

    async def _first_contact(self) -> None:
        """A generator that is still starting (under `imgedge serve`, or on another host) is not an outage:
        until the origin has answered once, a miss waits for it (bounded) instead of answering 502 at once."""
        deadline = anyio.current_time() + self._wait_s
        while not self._reached:
            try:
                await self._client.get(f"{self._base}/healthz", timeout=1.0)
            except httpx.TransportError:
                if anyio.current_time() >= deadline:
                    return  # the usual retries, breaker and 502 from here on
                await anyio.sleep(0.2)
            else:
                self._reached = True

    async def _fetch_once(self, asset_id: str) -> SourceImage:
        self.fetches += 1
        ORIGIN_FETCHES.inc()
        try:
            async with self._client.stream("GET", self._base + originals_path(asset_id)) as response:
                self._reached = True
                _check_status(response.status_code)
                data = await self._read_body(response)
                etag = response.headers.get("etag", "").strip('"') or hashlib.sha256(data).hexdigest()[:32]
                moderation = response.headers.get(MODERATION_HEADER, "approved")
                label = label_from_headers(response.headers)
                return SourceImage(data=data, etag=etag, moderation=moderation, label=label)
        except httpx.TimeoutException:
            raise GatewayTimeout("origin timed out") from None
        except httpx.TransportError:
            raise _Retryable("origin unreachable") from None

    async def _read_body(self, response: httpx.Response) -> bytes:
        declared = int(response.headers.get("content-length") or 0)
        if declared > self._max_bytes:
            raise SourceTooLarge(f"source is {declared} bytes, limit is {self._max_bytes}")
        chunks: list[bytes] = []
        received = 0
        async for chunk in response.aiter_bytes():
            received += len(chunk)
            if received > self._max_bytes:
                raise SourceTooLarge(f"source exceeds {self._max_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    async def ready(self) -> str | None:
        """None when the origin answers its health check, else the reason."""
        try:
            response = await self._client.get(f"{self._base}/healthz", timeout=2.0)
        except httpx.HTTPError as exc:
            return f"origin unreachable: {type(exc).__name__}"
        return None if response.status_code == 200 else f"origin health check answered {response.status_code}"

    async def aclose(self) -> None:
        await self._client.aclose()


def _check_status(status: int) -> None:
    if status == 404:
        raise NotFound("asset not found")
    if status == 451:
        raise Withdrawn()
    if status in (401, 403):
        raise Forbidden("asset is not available")
    if status >= 500:
        raise _Retryable(f"origin answered {status}")
    if status != 200:
        raise BadGateway(f"origin answered {status}")
