"""Single-flight across proxy instances: one transform per key even when a burst lands on several hosts.

Within a process the local SingleFlight collapses callers onto one task. That task then takes a Redis lock
(SET NX PX) for the key; the instance that gets it does the work, which stores the result in the shared
Redis tier before the lock is released. The others wait for the lock to go and read the result through
`lookup`. Every wait is bounded: a leader that dies leaves a lock that expires, a follower then takes the
lock itself, and past `max_wait_s` a follower stops waiting and does the work. If Redis is unreachable the
instance degrades to process-local single-flight.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from imgedge.cache.singleflight import SingleFlight

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Delete the lock only if it is still ours: after an expiry another instance may hold it.
_RELEASE_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class DistributedSingleFlight(Generic[T]):
    def __init__(
        self,
        redis_url: str,
        lookup: Callable[[str], Awaitable[T | None]],
        *,
        lock_ttl_s: float = 30.0,
        max_wait_s: float = 35.0,
        poll_s: float = 0.02,
        prefix: str = "imgedge:flight:",
        timeout_s: float = 1.0,
    ) -> None:
        # lock_ttl_s outlives the proxy's transform deadline (20 s by default), so a live leader keeps it.
        self._lookup = lookup
        self._lock_ttl_ms = int(lock_ttl_s * 1000)
        self._max_wait_s = max_wait_s
        self._poll_s = poll_s
        self._prefix = prefix
        self._redis = aioredis.Redis.from_url(url=redis_url, socket_timeout=timeout_s,
                                              socket_connect_timeout=timeout_s)  # fmt: skip
        self._release = self._redis.register_script(_RELEASE_SCRIPT)
        self._local = SingleFlight()
        self.leaders = 0
        self.collapsed_remote = 0
        self.waited = 0
        self.took_over = 0
        self.gave_up_waiting = 0
        self.redis_errors = 0

    async def run(self, key: str, fn: Callable[[], Awaitable[T]]) -> tuple[T, bool]:
        (value, remote), local = await self._local.run(key, lambda: self._across_instances(key, fn))
        return value, local or remote

    def in_flight(self) -> int:
        return self._local.in_flight()

    def stats(self) -> dict[str, int]:
        local = self._local.stats()
        return {
            "leaders": self.leaders,
            "collapsed": local["collapsed"] + self.collapsed_remote,
            "collapsed_local": local["collapsed"],
            "collapsed_remote": self.collapsed_remote,
            "failures": local["failures"],
            "in_flight": local["in_flight"],
            "waited": self.waited,
            "took_over": self.took_over,
            "gave_up_waiting": self.gave_up_waiting,
            "redis_errors": self.redis_errors,
        }

    async def aclose(self) -> None:
        await self._redis.aclose()

    async def _across_instances(self, key: str, fn: Callable[[], Awaitable[T]]) -> tuple[T, bool]:
        lock_key = self._prefix + key
        token = uuid.uuid4().hex
        deadline = time.monotonic() + self._max_wait_s
        waited = False
        while True:
            try:
                acquired = await self._redis.set(lock_key, token, nx=True, px=self._lock_ttl_ms)
            except (RedisError, OSError) as exc:
                self._redis_failed("lock", exc)
                return await self._lead(key, fn, None), False
            if acquired:
                if waited:
                    # The previous holder released without a result (failed) or died and let it expire.
                    self.took_over += 1
                return await self._lead(key, fn, (lock_key, token)), False
            waited = True
            self.waited += 1
            if not await self._wait_for_release(lock_key, deadline):
                self.gave_up_waiting += 1
                logger.warning("single-flight leader for %s did not finish in time; doing the work here", key)
                return await self._lead(key, fn, None), False
            found = await self._lookup(key)
            if found is not None:
                self.collapsed_remote += 1
                return found, True

    async def _lead(self, key: str, fn: Callable[[], Awaitable[T]], lock: tuple[str, str] | None) -> T:
        self.leaders += 1
        try:
            return await fn()
        finally:
            if lock is not None:
                try:
                    await self._release(keys=[lock[0]], args=[lock[1]])
                except (RedisError, OSError) as exc:
                    # The lock expires on its own; followers only wait longer.
                    self._redis_failed("unlock", exc)

    async def _wait_for_release(self, lock_key: str, deadline: float) -> bool:
        """Polls the lock (one small EXISTS per step) rather than the cache, so tier stats stay honest."""
        delay = self._poll_s
        while time.monotonic() < deadline:
            try:
                if not await self._redis.exists(lock_key):
                    return True
            except (RedisError, OSError) as exc:
                self._redis_failed("wait", exc)
                return False
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, 0.2)
        return False

    def _redis_failed(self, op: str, exc: BaseException) -> None:
        self.redis_errors += 1
        logger.warning("distributed single-flight %s failed: %s", op, exc)
