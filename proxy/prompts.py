"""A prompt URL's generation → the asset id it made, so the rest of the request is an asset request.

The mapping is kept in the result tiers under its own key, tagged with the asset (a purge of the asset drops
it with the variants), so once one proxy instance has resolved a prompt URL every instance sharing the Redis
tier serves it as an ordinary hit. Otherwise the generator API makes it: `POST /v1/images` with the proxy's
origin token (IMGEDGE_ORIGIN_TOKEN, which the generator accepts as the proxy's credential), then polling the
job, up to IMGEDGE_PROMPT_URL_WAIT; identical prompt URLs in flight share one resolution (per process, and
across instances through Redis), and the generator collapses whatever still arrives twice onto one job.
"""

from __future__ import annotations

import importlib
import time
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread

from imgedge.cache.build import Flights
from imgedge.cache.entry import Entry
from imgedge.cache.keys import asset_tag, generation_key
from imgedge.cache.tiered import TieredCache
from imgedge.errors import PublicError
from imgedge.origin_protocol import MODERATION_HEADER
from imgedge.proxy.errors import BadGateway, Overloaded, Withdrawn
from imgedge.proxy.sources.base import SourceRef
from imgedge.url.errors import UrlError
from imgedge.url.prompt import parse_generation

if TYPE_CHECKING:
    import httpx

    from imgedge.proxy.config import ProxyConfig

RETRY_AFTER_S = 5
_POLL_FIRST_S, _POLL_MAX_S = 0.05, 0.5
_MAPPING_TYPE = "text/x-imgedge-asset-id"


class NotReady(Overloaded):
    default_message = "the image is still being generated; retry"


class PromptResolver:
    def __init__(
        self,
        config: ProxyConfig,
        results: TieredCache,
        flights: Flights,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.base = config.origin_url
        self.wait_s = config.prompt_url_wait_s
        self.results = results
        self.flights = flights
        self._token = config.origin_token
        self._timeout_s = config.origin_timeout_s
        self.client = client
        self.generations = 0  # resolutions that reached the generator

    async def resolve(self, ref: SourceRef) -> SourceRef:
        key = generation_key(ref.location)
        entry = self.results.get_local(key)
        if entry is None:
            entry, _ = await self.results.get(key)
        if entry is not None:
            return SourceRef.asset(entry.body.decode("ascii"))
        deadline = time.monotonic() + self.wait_s  # this caller's own wait, whoever leads
        made, _ = await self.flights.run(key, lambda: self._generate(key, ref.location, deadline))
        return SourceRef.asset(made.body.decode("ascii"))

    async def aclose(self) -> None:
        if self.client is not None:
            await self.client.aclose()

    async def _client(self) -> httpx.AsyncClient:
        # httpx and what it imports hold ~6 MiB in every proxy worker, and most proxies never see a prompt
        # URL: the first one imports it, in a thread, as the event loop would stall for ~0.1 s otherwise.
        if self.client is None:
            httpx_ = await anyio.to_thread.run_sync(importlib.import_module, "httpx")
            if self.client is None:  # another first request may have made it during the import
                headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
                self.client = httpx_.AsyncClient(
                    timeout=httpx_.Timeout(self._timeout_s), headers=headers,
                    limits=httpx_.Limits(max_connections=32, max_keepalive_connections=8),
                )  # fmt: skip
        return self.client

    async def _generate(self, key: str, segment: str, deadline: float) -> Entry:
        self.generations += 1
        body = parse_generation(segment).request_body()
        created = await self._call("POST", "/v1/images", json=body)
        if created.status_code == 200:
            asset_id = _asset_id(created.json())
        else:
            asset_id = await self._wait_for(str(created.json()["job_id"]), deadline)
        entry = Entry(asset_id.encode("ascii"), _MAPPING_TYPE, "", (asset_tag(asset_id),), time.time())
        await self.results.put(key, entry, entry.tags)
        return entry

    async def _wait_for(self, job_id: str, deadline: float) -> str:
        delay = _POLL_FIRST_S
        while True:
            job = (await self._call("GET", f"/v1/jobs/{job_id}")).json()
            if job["status"] == "done":
                return _asset_id(job)
            if job["status"] == "failed":
                raise BadGateway("generation failed")
            if time.monotonic() + delay > deadline:
                raise NotReady(headers={"Retry-After": str(RETRY_AFTER_S)})
            await anyio.sleep(delay)
            delay = min(delay * 1.5, _POLL_MAX_S)

    async def _call(self, method: str, path: str, json: Any = None) -> httpx.Response:
        client = await self._client()
        import httpx  # already imported by _client: a lookup

        try:
            response = await client.request(method, self.base + path, json=json)
        except httpx.HTTPError:
            raise BadGateway("generator unreachable") from None
        if response.status_code in (200, 202):
            return response
        raise _refusal(response)


def _asset_id(body: dict[str, Any]) -> str:
    asset_id = body.get("asset_id")
    if not isinstance(asset_id, str) or not asset_id.isalnum():
        raise BadGateway("generator answered without an asset")
    return asset_id


def _refusal(response: httpx.Response) -> PublicError:
    """What the client is told when the generator refuses: moderation → 451, busy → 503, its 4xx → 400."""
    try:
        message = str(response.json().get("error", ""))[:200]
    except ValueError:
        message = ""
    if response.headers.get(MODERATION_HEADER) == "rejected":
        return Withdrawn("prompt refused by the moderation policy")
    if response.status_code in (429, 503):
        return Overloaded("generator is busy; retry", headers={"Retry-After": str(RETRY_AFTER_S)})
    if 400 <= response.status_code < 500 and response.status_code not in (401, 403):
        return UrlError(f"generator refused this prompt URL: {message}")
    return BadGateway(f"generator answered {response.status_code}")
