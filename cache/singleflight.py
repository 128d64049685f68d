"""Collapse concurrent work for one key onto a single execution."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

T = TypeVar("T")


class SingleFlight:
    def __init__(self) -> None:
        self._flights: dict[str, asyncio.Task[Any]] = {}
        self.leaders = 0
        self.collapsed = 0
        self.failures = 0

    async def run(self, key: str, fn: Callable[[], Awaitable[T]]) -> tuple[T, bool]:
        task = self._flights.get(key)
        collapsed = task is not None
        if task is None:
            task = asyncio.ensure_future(fn())
            self._flights[key] = task
            # Registered before any waiter's callback, so the key is free again by the time a waiter resumes.
            task.add_done_callback(lambda done: self._landed(key, done))
            self.leaders += 1
        else:
            self.collapsed += 1
        # The work runs in its own task behind a shield: a caller that goes away (client disconnect)
        # cancels only its own wait, never the result the other callers are waiting for.
        result = await asyncio.shield(task)
        return cast(T, result), collapsed

    def in_flight(self) -> int:
        return len(self._flights)

    def stats(self) -> dict[str, int]:
        return {
            "leaders": self.leaders,
            "collapsed": self.collapsed,
            "failures": self.failures,
            "in_flight": len(self._flights),
        }

    async def aclose(self) -> None:
        """Nothing to release; here so callers treat it like DistributedSingleFlight."""

    def _landed(self, key: str, task: asyncio.Task[Any]) -> None:
        if self._flights.get(key) is task:
            del self._flights[key]
        if not task.cancelled() and task.exception() is not None:
            # Also marks the exception retrieved, so a flight whose callers all left does not log noise.
            self.failures += 1
