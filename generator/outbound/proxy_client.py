"""The generator's only ways of touching the proxy's cache: its HTTP purge endpoint and ordinary GETs."""

from __future__ import annotations

import logging

import httpx

log = logging.getLogger("imgedge.generator")

WARM_ACCEPTS = ("image/avif,image/webp,*/*", "image/webp,*/*")


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

    async def warm(self, paths: list[str]) -> int:
        """Request each variant once per negotiated format so the proxy has it cached; returns successes."""
        done = 0
        for path in paths:
            for accept in WARM_ACCEPTS:
                try:
                    response = await self.client.get(
                        f"{self.base_url}{path}", headers={"Accept": accept}, timeout=30.0
                    )
                except httpx.HTTPError as exc:
                    log.info("warming %s failed: %s", path, exc)
                    return done
                if response.is_success:
                    done += 1
        return done
