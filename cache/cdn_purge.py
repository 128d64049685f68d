"""Tell CDN caches (Varnish) to drop every variant of an asset, after imgedge's own tiers are purged.

Each URL in IMGEDGE_CDN_PURGE_URLS gets `BAN /` with `Surrogate-Key: <asset id>`, which
deploy/varnish/default.vcl turns into a ban on objects carrying that key. A CDN that answers anything but
2xx, or cannot be reached, fails the purge, so the admin caller retries instead of trusting a stale CDN.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

logger = logging.getLogger(__name__)

# Matches the ACL'd method in the reference VCL; Fastly-style CDNs use PURGE on a surrogate-key endpoint.
DEFAULT_METHOD = "BAN"


class CdnPurgeFailed(RuntimeError):
    pass


class CdnPurger:
    def __init__(self, urls: Sequence[str], *, method: str = DEFAULT_METHOD, timeout_s: float = 5.0) -> None:
        import httpx  # only where CDN purges are configured: ~6 MiB in each proxy worker

        self.urls = tuple(urls)
        self._method = method
        self._client = httpx.AsyncClient(timeout=timeout_s)
        self._errors = httpx.HTTPError
        self.sent = 0
        self.failed = 0

    async def purge(self, surrogate_key: str) -> None:
        results = await asyncio.gather(
            *(self._send(url, surrogate_key) for url in self.urls), return_exceptions=True
        )
        errors = [str(result) for result in results if isinstance(result, BaseException)]
        if errors:
            self.failed += 1
            raise CdnPurgeFailed("; ".join(errors))
        self.sent += 1

    def stats(self) -> dict[str, int]:
        return {"cdn_sent": self.sent, "cdn_failed": self.failed}

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _send(self, url: str, surrogate_key: str) -> None:
        try:
            response = await self._client.request(self._method, url, headers={"Surrogate-Key": surrogate_key})
        except self._errors as exc:
            logger.warning("CDN purge of %s at %s failed: %s", surrogate_key, url, exc)
            raise CdnPurgeFailed(f"{url}: {exc or type(exc).__name__}") from exc
        if not response.is_success:
            logger.warning("CDN purge of %s at %s answered %s", surrogate_key, url, response.status_code)
            raise CdnPurgeFailed(f"{url}: HTTP {response.status_code}")
