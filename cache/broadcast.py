"""Purge that reaches the memory tier of every proxy process.

With Redis configured, purges travel over pub/sub (every instance, every machine). Without it, worker
processes on one machine share the disk directory, and a purge log there is checked before each lookup,
so the next request after a purge is a miss whichever worker answers.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import anyio.to_thread

from imgedge.cache.cdn_purge import CdnPurgeFailed, CdnPurger
from imgedge.cache.keys import tag_asset
from imgedge.cache.purge_log import PurgeLog
from imgedge.cache.tiered import TieredCache

if TYPE_CHECKING:
    from imgedge.cache.redis_fanout import RedisFanout

logger = logging.getLogger(__name__)

__all__ = ["PurgeBroadcaster", "PurgeNotDelivered"]


class PurgeNotDelivered(RuntimeError):
    """The purge was applied locally, but other processes could not be told; the caller should retry."""


POLL_INTERVAL_S = 0.01


class PurgeBroadcaster:
    def __init__(
        self,
        caches: Sequence[TieredCache],
        *,
        redis_url: str | None = None,
        log_path: Path | None = None,
        ack_timeout_s: float = 2.0,
        channel: str = "imgedge:purge",
        cdn: CdnPurger | None = None,
    ) -> None:
        self._caches = tuple(caches)
        self._cdn = cdn
        self._fanout: RedisFanout | None = None
        if redis_url:
            from imgedge.cache.redis_fanout import RedisFanout  # only with Redis: redis-py is 4.3 MiB

            self._fanout = RedisFanout(
                redis_url, self._apply_remote, self._lost_track, channel=channel, ack_timeout_s=ack_timeout_s
            )
        # Redis reaches every process already; the log is for workers that share only a directory.
        self._log = PurgeLog(log_path) if log_path is not None and self._fanout is None else None
        self._started = False
        self._polled_at = -math.inf
        self.sent = 0
        self.applied = 0
        self.lost_track = 0

    @property
    def mode(self) -> str:
        return "redis" if self._fanout is not None else "disk-log" if self._log is not None else "local"

    async def start(self) -> None:
        if self._started:
            return
        if self._fanout is not None:
            await self._fanout.start()
        if self._log is not None:
            try:
                self._log.skip_history()
            except OSError as exc:
                # Same fault as an unwritable disk tier: keep serving, but say purges stay in this process.
                logger.error("purge log unusable (%s); purges will reach this process only", exc)
                self._log = None
        if self._log is not None:
            for cache in self._caches:
                cache.add_lookup_hook(self._poll_log)
        self._started = True

    async def stop(self) -> None:
        if not self._started:
            return
        if self._fanout is not None:
            await self._fanout.stop()
        if self._log is not None:
            for cache in self._caches:
                cache.remove_lookup_hook(self._poll_log)
        if self._cdn is not None:
            await self._cdn.aclose()
        self._started = False

    async def purge(self, tag: str) -> int:
        """Purge every local tier, tell the other processes, then the CDN (PurgeNotDelivered if one of
        them could not be reached; the local purge stands, and the caller should retry)."""
        removed = sum(await asyncio.gather(*(cache.purge(tag) for cache in self._caches)))
        if self._fanout is not None:
            await self._fanout.publish(tag)
        if self._log is not None:
            await anyio.to_thread.run_sync(self._log.append, tag, time.time())
        self.sent += 1
        asset_id = tag_asset(tag)
        # Last: a CDN purged before the proxies could refill itself from a proxy that still has the asset.
        if self._cdn is not None and asset_id is not None:
            try:
                await self._cdn.purge(asset_id)
            except CdnPurgeFailed as exc:
                raise PurgeNotDelivered(f"CDN purge failed: {exc}") from exc
        return removed

    def stats(self) -> dict[str, int]:
        counts = {"sent": self.sent, "applied": self.applied, "lost_track": self.lost_track}
        if self._fanout is not None:
            counts["missing_acks"] = self._fanout.missing_acks
        if self._cdn is not None:
            counts |= self._cdn.stats()
        return counts

    async def _apply_remote(self, tag: str) -> None:
        # Our own clock, at arrival: any entry made here before this moment may predate the purge.
        purged_at = time.time()
        await asyncio.gather(*(cache.purge_unshared(tag, purged_at) for cache in self._caches))
        self.applied += 1

    def _poll_log(self) -> None:
        # Runs before lookups on the event loop: one stat() when nothing changed, cheaper than a hop to a
        # worker thread, and at most every POLL_INTERVAL_S, so a purge reaches other workers within that.
        assert self._log is not None
        now = time.monotonic()
        if now - self._polled_at < POLL_INTERVAL_S:
            return
        self._polled_at = now
        news = self._log.read_new()
        if news.lost_track:
            self._lost_track()
        for tag, purged_at in news.purges:
            for cache in self._caches:
                cache.forget(tag, purged_at)
            self.applied += 1

    def _lost_track(self) -> None:
        self.lost_track += 1
        logger.warning("purge notifications may have been missed; dropping process-local cache entries")
        for cache in self._caches:
            cache.clear_memory()
