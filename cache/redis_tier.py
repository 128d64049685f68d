"""Tier shared by several proxy instances through a Redis server; tags are Redis sets of keys."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import cast

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from imgedge.cache.entry import CorruptEntry, Entry, decode_entry, encode_entry
from imgedge.cache.tier import Scope, zero_stats

logger = logging.getLogger(__name__)

# Deleting the members and the set in one script means a concurrent put either lands before the purge
# (and is purged) or after it (and stays, with a fresh tag set).
_PURGE_SCRIPT = """
local members = redis.call('SMEMBERS', KEYS[1])
local removed = 0
for i = 1, #members do
  removed = removed + redis.call('UNLINK', members[i])
end
redis.call('UNLINK', KEYS[1])
return removed
"""


class RedisTier:
    scope: Scope = "cluster"
    promotable = True

    def __init__(
        self,
        url: str,
        max_entry_bytes: int,
        ttl_s: int,
        *,
        name: str = "redis",
        prefix: str = "imgedge:",
        timeout_s: float = 1.0,
    ) -> None:
        self.name = name
        self._max_entry_bytes = max_entry_bytes
        self._ttl_s = ttl_s
        self._prefix = prefix
        # A slow or dead Redis must cost a request at most this long before it falls through to origin.
        self._redis = aioredis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
        self._purge_script = self._redis.register_script(_PURGE_SCRIPT)
        self._counts = zero_stats()
        self._counts["too_large"] = 0
        self._counts["corrupt"] = 0

    async def get(self, key: str) -> Entry | None:
        redis_key = self._entry_key(key)
        try:
            data = await self._redis.get(redis_key)
            # The client is created without decode_responses, so values are bytes.
            entry = None if data is None else decode_entry(cast(bytes, data))
        except CorruptEntry as exc:
            logger.warning("dropping corrupt Redis cache entry %s: %s", redis_key, exc)
            self._counts["corrupt"] += 1
            await self._delete(redis_key)
            entry = None
        except (RedisError, OSError) as exc:
            self._failed("get", exc)
            entry = None
        self._counts["hits" if entry is not None else "misses"] += 1
        return entry

    async def put(self, key: str, entry: Entry, tags: Sequence[str]) -> None:
        data = encode_entry(entry)
        if len(data) > self._max_entry_bytes:
            self._counts["too_large"] += 1
            return
        redis_key = self._entry_key(key)
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.set(redis_key, data, ex=self._ttl_s)
                for tag in tags:
                    tag_key = self._tag_key(tag)
                    pipe.sadd(tag_key, redis_key)
                    # Every entry has the same TTL, so the newest member decides when the set may go.
                    pipe.expire(tag_key, self._ttl_s)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            self._failed("put", exc)
            return
        # Bytes and entries this process wrote; Redis itself expires and evicts shared entries.
        self._counts["stored_bytes"] += len(data)
        self._counts["entries"] += 1

    async def purge(self, tag: str) -> int:
        try:
            removed = await self._purge_script(keys=[self._tag_key(tag)])
        except (RedisError, OSError) as exc:
            self._failed("purge", exc)
            return 0
        return int(removed)

    def stats(self) -> dict[str, int]:
        return dict(self._counts)

    async def aclose(self) -> None:
        await self._redis.aclose()

    def _entry_key(self, key: str) -> str:
        return f"{self._prefix}e:{key}"

    def _tag_key(self, tag: str) -> str:
        return f"{self._prefix}t:{tag}"

    async def _delete(self, redis_key: str) -> None:
        try:
            await self._redis.unlink(redis_key)
        except (RedisError, OSError) as exc:
            self._failed("delete", exc)

    def _failed(self, op: str, exc: BaseException) -> None:
        logger.warning("redis cache %s failed: %s", op, exc)
        self._counts["errors"] += 1
