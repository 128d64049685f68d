"""The generator's only ways of touching the proxy's cache: its HTTP purge endpoint and ordinary GETs."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

log = logging.getLogger("imgedge.generator")

# Marks warm-ups as prefetches (the header browsers send with speculative loads), so the proxy does not count
# them as visitors' requests when it learns what to warm.
PREFETCH = {"Sec-Purpose": "prefetch"}


@dataclass(frozen=True, slots=True)
class WarmRequest:
    path: str
    accept: str


class ProxyClient:
    def __init__(self, client: httpx.AsyncClient, base_url: str, admin_token: str) -> None:
        self.client = client
        self.base_url = base_url.rstrip("/")
        self.admin_token = admin_token

    async def purge(self, asset_id: str) -> bool:
        try:
            response = await self.client.post(
                f"{self.base_url}/admin/purge/{asset_id}",
                headers={"Authorization": f"Bearer {self.admin_token}"},
                timeout=10.0,
            )
        except httpx.HTTPError as exc:
            log.warning("purge of %s failed, will retry: %s", asset_id, exc)
            return False
        # 404 means the proxy holds nothing for this asset, which is what a purge wants anyway.
        if response.is_success or response.status_code == 404:
            return True
        log.warning("purge of %s answered %d, will retry", asset_id, response.status_code)
        return False

    async def popular(self, limit: int) -> object:
        """The proxy's most requested variants (`GET /admin/popular`), or None when it cannot say."""
        try:
            response = await self.client.get(
                f"{self.base_url}/admin/popular",
                params={"limit": str(limit)},
                headers={"Authorization": f"Bearer {self.admin_token}"},
                timeout=10.0,
            )
            return response.json() if response.is_success else None
        except (httpx.HTTPError, ValueError) as exc:
            log.info("could not ask the proxy for its popular variants: %s", exc)
            return None

    async def warm(self, requests: Sequence[WarmRequest]) -> int:
        """Request each variant once so the proxy has it cached; returns successes."""
        done = 0
        for request in requests:
            try:
                response = await self.client.get(
                    f"{self.base_url}{request.path}",
                    headers={"Accept": request.accept, **PREFETCH},
                    timeout=30.0,
                )
            except httpx.HTTPError as exc:
                log.info("warming %s failed: %s", request.path, exc)
                return done
            if response.is_success:
                done += 1
        return done
