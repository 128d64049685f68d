"""The generator's store over HTTP: `GET {origin}/originals/{asset_id}`, with retries and a breaker."""

from __future__ import annotations

import hashlib
import random
from typing import TYPE_CHECKING

import anyio

from imgedge.errors import PublicError
from imgedge.imaging.errors import SourceTooLarge
from imgedge.origin_protocol import MODERATION_HEADER, label_from_headers, originals_path
from imgedge.proxy.breaker import CircuitBreaker
from imgedge.proxy.errors import BadGateway, Forbidden, GatewayTimeout, NotFound, Withdrawn
from imgedge.proxy.metrics import ORIGIN_FETCHES
from imgedge.proxy.sources.base import SourceImage, SourceRef, asset_id_of
from imgedge.proxy.sources.origin_client import BodyTooLarge, OriginClient, OriginUnreachable

if TYPE_CHECKING:
    from imgedge.proxy.config import ProxyConfig


class _Retryable(BadGateway):
    """A failure worth another try: 5xx or a refused connection."""


class HttpSource:
    def __init__(self, config: ProxyConfig) -> None:
        headers = {"Authorization": f"Bearer {config.origin_token}"} if config.origin_token else {}
        self._client = OriginClient(
            config.origin_url, headers=headers, timeout_s=config.origin_timeout_s,
            max_body=config.max_src_bytes,
        )  # fmt: skip
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
                await self._client.get("/healthz", timeout_s=1.0)
            except (OriginUnreachable, TimeoutError):
                if anyio.current_time() >= deadline:
                    return  # the usual retries, breaker and 502 from here on
                await anyio.sleep(0.2)
            else:
                self._reached = True

    async def _fetch_once(self, asset_id: str) -> SourceImage:
        self.fetches += 1
        ORIGIN_FETCHES.inc()
        try:
            response = await self._client.get(originals_path(asset_id))
        except TimeoutError:
            raise GatewayTimeout("origin timed out") from None
        except OriginUnreachable:
            raise _Retryable("origin unreachable") from None
        except BodyTooLarge as exc:
            raise SourceTooLarge(str(exc)) from None
        self._reached = True
        _check_status(response.status)
        data, headers = response.body, response.headers
        etag = headers.get("etag", "").strip('"') or hashlib.sha256(data).hexdigest()[:32]
        moderation = headers.get(MODERATION_HEADER, "approved")
        return SourceImage(data=data, etag=etag, moderation=moderation, label=label_from_headers(headers))

    async def ready(self) -> str | None:
        """None when the origin answers its health check, else the reason."""
        try:
            response = await self._client.get("/healthz", timeout_s=2.0)
        except (OriginUnreachable, BodyTooLarge, TimeoutError) as exc:
            return f"origin unreachable: {type(exc).__name__}"
        return None if response.status == 200 else f"origin health check answered {response.status}"

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
