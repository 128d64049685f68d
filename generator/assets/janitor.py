"""Periodic housekeeping: expire temporary assets, retry purges the proxy still owes, and resume webhook
deliveries a stopped process left behind; once per start, sweep what a crash left in the blob store."""

from __future__ import annotations

import asyncio
import logging
import time

from imgedge.generator.assets.store import AssetStore
from imgedge.generator.outbound.job_webhooks import JobWebhooks
from imgedge.generator.outbound.proxy_client import ProxyClient
from imgedge.generator.outbound.purge_outbox import PurgeOutbox

log = logging.getLogger("imgedge.generator")


class Janitor:
    def __init__(
        self, store: AssetStore, outbox: PurgeOutbox, proxy: ProxyClient, interval_s: float,
        webhooks: JobWebhooks | None = None,
    ) -> None:  # fmt: skip
        self.store = store
        self.outbox = outbox
        self.proxy = proxy
        self.interval_s = interval_s
        self.webhooks = webhooks
        self._swept = False

    async def run_once(self, now: float | None = None) -> list[str]:
        """Returns the asset ids it expired."""
        now = time.time() if now is None else now
        # Database and store may be services a round trip away: their calls run off the event loop.
        expired = await asyncio.to_thread(self._expire, now)
        if expired:
            log.info("expired %d temporary assets", len(expired))
        await self.outbox.flush(self.proxy.purge, now)
        if self.webhooks is not None:
            # Deliveries a stopped process left behind (the first pass after a start finds them).
            await self.webhooks.resume(now)
        if not self._swept:
            # Once per start, since it lists every blob: a crash is followed by a start.
            swept = await asyncio.to_thread(self.store.blobs.sweep_temporaries)
            self._swept = True
            if swept:
                log.info("removed %d temporary files a crash left in the blob store", swept)
        return expired

    def _expire(self, now: float) -> list[str]:
        expired = []
        for asset_id in self.store.expired(now):
            # Queue the purge before deleting, so a crash in between still purges the proxy's copies.
            self.outbox.add(asset_id)
            self.store.delete(asset_id)
            expired.append(asset_id)
        return expired

    async def run_forever(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:
                log.exception("janitor pass failed")
            await asyncio.sleep(self.interval_s)
