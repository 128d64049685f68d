"""Purge fan-out over Redis pub/sub, acknowledged, so a purge returns once every process has applied it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from imgedge.cache.broadcast import PurgeNotDelivered

logger = logging.getLogger(__name__)

OnPurge = Callable[[str], Awaitable[None]]
OnLostTrack = Callable[[], None]


@dataclass(slots=True)
class _Pending:
    acks: int = 0
    expected: float = float("inf")
    done: asyncio.Event = field(default_factory=asyncio.Event)


class RedisFanout:
    def __init__(
        self,
        url: str,
        on_purge: OnPurge,
        on_lost_track: OnLostTrack,
        *,
        channel: str = "imgedge:purge",
        ack_timeout_s: float = 2.0,
    ) -> None:
        self._url = url
        self._on_purge = on_purge
        self._on_lost_track = on_lost_track
        self._channel = channel
        self._ack_channel = channel + ":ack"
        self._ack_timeout_s = ack_timeout_s
        self._instance = uuid.uuid4().hex
        self._redis: aioredis.Redis | None = None
        self._pubsub: PubSub | None = None
        self._listener: asyncio.Task[None] | None = None
        self._pending: dict[str, _Pending] = {}
        self.received = 0
        self.missing_acks = 0
        self.reconnects = 0

    async def start(self) -> None:
        self._redis = aioredis.Redis.from_url(
            self._url, socket_connect_timeout=self._ack_timeout_s, socket_timeout=self._ack_timeout_s
        )
        self._pubsub = await self._subscribe()
        self._listener = asyncio.create_task(self._listen(), name="imgedge-purge-listener")

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        if self._pubsub is not None:
            await _close_pubsub(self._pubsub)
            self._pubsub = None
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    async def publish(self, tag: str) -> None:
        """Tell every other subscribed process; wait (bounded) until each one has applied the purge."""
        if self._redis is None:
            raise RuntimeError("RedisFanout.publish called before start()")
        message_id = uuid.uuid4().hex
        pending = self._pending[message_id] = _Pending()
        try:
            message = json.dumps({"id": message_id, "tag": tag, "from": self._instance})
            try:
                receivers = int(await self._redis.publish(self._channel, message))
            except (RedisError, OSError) as exc:
                raise PurgeNotDelivered(f"purge of {tag} was applied here but not published: {exc}") from exc
            pending.expected = receivers - 1  # our own subscription is one of them
            if pending.acks >= pending.expected:
                return
            try:
                async with asyncio.timeout(self._ack_timeout_s):
                    await pending.done.wait()
            except TimeoutError:
                self.missing_acks += int(pending.expected - pending.acks)
                logger.warning(
                    "purge of %s acknowledged by %d of %d processes", tag, pending.acks, pending.expected
                )
        finally:
            del self._pending[message_id]

    async def _subscribe(self) -> PubSub:
        assert self._redis is not None
        pubsub = self._redis.pubsub()
        try:
            await pubsub.subscribe(self._channel, self._ack_channel)
            # Wait for the server's confirmations: a purge published after start() returns must reach us.
            confirmed = 0
            async with asyncio.timeout(self._ack_timeout_s * 5):
                while confirmed < 2:
                    message = await pubsub.get_message(timeout=self._ack_timeout_s)
                    if message is not None and message["type"] == "subscribe":
                        confirmed += 1
        except BaseException:
            await _close_pubsub(pubsub)
            raise
        return pubsub

    async def _listen(self) -> None:
        backoff = 0.1
        while True:
            try:
                if self._pubsub is None:
                    self._pubsub = await self._subscribe()
                    self._lost_track()
                while True:
                    # get_message with a timeout returns None when the channel is quiet; listen() would
                    # instead hit the client's socket timeout and drop the subscription every few seconds,
                    # losing every purge published while it resubscribes.
                    message = await self._pubsub.get_message(timeout=self._ack_timeout_s)
                    if message is not None:
                        await self._handle(message)
                    backoff = 0.1
            except (RedisError, OSError, TimeoutError) as exc:
                logger.warning("purge subscription lost (%s); reconnecting", exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            # Whether it failed or listen() ended, start over with a fresh subscription.
            if self._pubsub is not None:
                with contextlib.suppress(RedisError, OSError):
                    await _close_pubsub(self._pubsub)
                self._pubsub = None

    async def _handle(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "subscribe":
            # redis-py resubscribes by itself after a dropped connection; whatever was published
            # meanwhile never reached us.
            self._lost_track()
            return
        if kind != "message":
            return
        channel = message["channel"].decode()
        data = message["data"].decode()
        if channel == self._ack_channel:
            pending = self._pending.get(data)
            if pending is not None:
                pending.acks += 1
                if pending.acks >= pending.expected:
                    pending.done.set()
            return
        try:
            payload = json.loads(data)
            message_id, tag, sender = str(payload["id"]), str(payload["tag"]), payload["from"]
        except (ValueError, KeyError, TypeError):
            logger.warning("ignoring malformed purge message %r", data)
            return
        if sender == self._instance:
            return
        self.received += 1
        try:
            await self._on_purge(tag)
        finally:
            assert self._redis is not None
            with contextlib.suppress(RedisError, OSError):
                await self._redis.publish(self._ack_channel, message_id)

    def _lost_track(self) -> None:
        self.reconnects += 1
        self._on_lost_track()


async def _close_pubsub(pubsub: PubSub) -> None:
    await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves PubSub.aclose unannotated
