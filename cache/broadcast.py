"""Purge that reaches the memory tier of every proxy process.

With Redis configured, purges travel over pub/sub (every instance, every machine). Without it, worker
processes on one machine share the disk directory, and a purge log there is checked before each lookup,
so the next request after a purge is a miss whichever worker answers.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from pathlib import Path

import anyio.to_thread

from cache.purge_log import PurgeLog
from cache.redis_fanout import PurgeNotDelivered, RedisFanout
from cache.tiered import TieredCache

logger = logging.getLogger(__name__)

__all__ = ["PurgeBroadcaster", "PurgeNotDelivered"]


class PurgeBroadcaster:
    def __init__(
        self,
        caches: Sequence[TieredCache],
        *,
        redis_url: str | None = None,
        log_path: Path | None = None,
        ack_timeout_s: float = 2.0,
        channel: str = "imgedge:purge",
    ) -> None:
        self._caches = tuple(caches)
        self._fanout = (
            RedisFanout(
                redis_url, self._apply_remote, self._lost_track, channel=channel, ack_timeout_s=ack_timeout_s
            )
            if redis_url
            else None
        )
        # Redis reaches every process already; the log is for workers that share only a directory.
        self._log = PurgeLog(log_path) if log_path is not None and self._fanout is None else None
        self._started = False
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
        self._started = False

    async def purge(self, tag: str) -> int:
        """Purge every local tier, then tell the other processes (PurgeNotDelivered if Redis is down)."""
        removed = sum(await asyncio.gather(*(cache.purge(tag) for cache in self._caches)))
        if self._fanout is not None:
            await self._fanout.publish(tag)
        if self._log is not None:
            await anyio.to_thread.run_sync(self._log.append, tag, time.time())
        self.sent += 1
        return removed

    def stats(self) -> dict[str, int]:
        counts = {"sent": self.sent, "applied": self.applied, "lost_track": self.lost_track}
        if self._fanout is not None:
            counts["missing_acks"] = self._fanout.missing_acks
        return counts

    async def _apply_remote(self, tag: str) -> None:
        # Our own clock, at arrival: any entry made here before this moment may predate the purge.
        purged_at = time.time()
        await asyncio.gather(*(cache.purge_unshared(tag, purged_at) for cache in self._caches))
        self.applied += 1

    def _poll_log(self) -> None:
        # Runs before every lookup on the event loop: one stat() when nothing changed, cheaper than a
        # hop to a worker thread.
        assert self._log is not None
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
