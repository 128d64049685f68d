"""Purges the proxy still owes: persisted, so a proxy that is down gets them later, even across restarts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from imgedge.generator.storage.database import Database

MAX_BACKOFF_S = 600.0


class PurgeOutbox:
    def __init__(self, database: Database) -> None:
        self.database = database

    def add(self, asset_id: str) -> None:
        with self.database.transaction() as db:
            db.execute(
                "INSERT INTO purges (asset_id, attempts, next_at) VALUES (?, 0, 0)"
                " ON CONFLICT (asset_id) DO UPDATE SET next_at = 0",
                (asset_id,),
            )

    def pending(self) -> list[str]:
        with self.database.transaction() as db:
            return [row[0] for row in db.execute("SELECT asset_id FROM purges ORDER BY asset_id").fetchall()]

    async def flush(self, purge: Callable[[str], Awaitable[bool]], now: float | None = None) -> int:
        """Tries every purge that is due; returns how many are still owed."""
        now = time.time() if now is None else now
        # The database may be a server a round trip away: its calls run off the event loop.
        for asset_id, attempts in await asyncio.to_thread(self._due, now):
            if await purge(asset_id):
                await asyncio.to_thread(self._done, asset_id)
            else:
                await asyncio.to_thread(
                    self._retry_later, asset_id, now + min(MAX_BACKOFF_S, 5.0 * 2**attempts)
                )
        return await asyncio.to_thread(self._remaining)

    def _due(self, now: float) -> list[tuple[str, int]]:
        with self.database.transaction() as db:
            rows = db.execute("SELECT asset_id, attempts FROM purges WHERE next_at <= ?", (now,)).fetchall()
        return [(row[0], int(row[1])) for row in rows]

    def _remaining(self) -> int:
        with self.database.transaction() as db:
            return int(db.execute("SELECT COUNT(*) FROM purges").fetchone()[0])

    def _done(self, asset_id: str) -> None:
        with self.database.transaction() as db:
            db.execute("DELETE FROM purges WHERE asset_id = ?", (asset_id,))

    def _retry_later(self, asset_id: str, at: float) -> None:
        with self.database.transaction() as db:
            db.execute(
                "UPDATE purges SET attempts = attempts + 1, next_at = ? WHERE asset_id = ?", (at, asset_id)
            )
