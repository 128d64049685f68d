"""Where originals come from. The pipeline only ever sees bytes; stores plug in through this table."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import anyio
import httpx

from imgedge.errors import PublicError
from imgedge.imaging.errors import SourceTooLarge
from imgedge.origin_protocol import MODERATION_HEADER, originals_path
from imgedge.proxy.breaker import CircuitBreaker
from imgedge.proxy.config import ProxyConfig
from imgedge.proxy.errors import BadGateway, Forbidden, GatewayTimeout, NotFound, Withdrawn
from imgedge.proxy.metrics import ORIGIN_FETCHES


class _Retryable(BadGateway):
    """A failure worth another try: 5xx or a refused connection."""


@dataclass(frozen=True, slots=True)
class SourceImage:
    data: bytes
    etag: str  # the origin's validator for these bytes, without quotes
    moderation: str  # approved | pending | rejected


class Source(Protocol):
    async def fetch(self, asset_id: str) -> SourceImage: ...
    async def ready(self) -> str | None: ...
    async def aclose(self) -> None: ...


class HttpSource:
    """The generator's store over HTTP: `GET {origin}/originals/{asset_id}`."""

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

    async def fetch(self, asset_id: str) -> SourceImage:
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

    async def _fetch_once(self, asset_id: str) -> SourceImage:
        self.fetches += 1
        ORIGIN_FETCHES.inc()
        try:
            async with self._client.stream("GET", self._base + originals_path(asset_id)) as response:
                if response.status_code == 404:
                    raise NotFound("asset not found")
                if response.status_code == 451:
                    raise Withdrawn()
                if response.status_code in (401, 403):
                    raise Forbidden("asset is not available")
                if response.status_code >= 500:
                    raise _Retryable(f"origin answered {response.status_code}")
                if response.status_code != 200:
                    raise BadGateway(f"origin answered {response.status_code}")
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
                data = b"".join(chunks)
                etag = response.headers.get("etag", "").strip('"') or hashlib.sha256(data).hexdigest()[:32]
                moderation = response.headers.get(MODERATION_HEADER, "approved")
                return SourceImage(data=data, etag=etag, moderation=moderation)
        except httpx.TimeoutException:
            raise GatewayTimeout("origin timed out") from None
        except httpx.TransportError:
            raise _Retryable("origin unreachable") from None

    async def ready(self) -> str | None:
        """None when the origin answers its health check, else the reason."""
        try:
            response = await self._client.get(f"{self._base}/healthz", timeout=2.0)
        except httpx.HTTPError as exc:
            return f"origin unreachable: {type(exc).__name__}"
        return None if response.status_code == 200 else f"origin health check answered {response.status_code}"

    async def aclose(self) -> None:
        await self._client.aclose()


class DirectorySource:
    """Originals as files: `{root}/{id}`, `{root}/{id}.*` or the store's layout `{root}/ab/{id}.png`."""

    def __init__(self, config: ProxyConfig) -> None:
        self._root = config.source_dir
        self._max_bytes = config.max_src_bytes
        self.fetches = 0

    def _find(self, asset_id: str) -> Path | None:
        candidates = [self._root / asset_id, self._root / asset_id[:2] / f"{asset_id}.png"]
        candidates += sorted(self._root.glob(f"{asset_id}.*"))
        return next((p for p in candidates if p.is_file()), None)

    async def fetch(self, asset_id: str) -> SourceImage:
        self.fetches += 1
        ORIGIN_FETCHES.inc()
        path = await anyio.to_thread.run_sync(self._find, asset_id)
        if path is None:
            raise NotFound("asset not found")
        size = path.stat().st_size
        if size > self._max_bytes:
            raise SourceTooLarge(f"source is {size} bytes, limit is {self._max_bytes}")
        data = await anyio.Path(path).read_bytes()
        return SourceImage(data=data, etag=hashlib.sha256(data).hexdigest()[:32], moderation="approved")

    async def ready(self) -> str | None:
        return None if self._root.is_dir() else f"source directory {self._root} is missing"

    async def aclose(self) -> None:
        return None


SOURCES: dict[str, type[HttpSource] | type[DirectorySource]] = {
    "http": HttpSource,
    "filesystem": DirectorySource,
}


def build_source(config: ProxyConfig) -> Source:
    return SOURCES[config.source](config)
