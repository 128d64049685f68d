"""Purges the proxy still owes: persisted, so a proxy that is down gets them later, even across restarts."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from imgedge.generator.store import transaction

_SCHEMA = """
CREATE TABLE IF NOT EXISTS purges (
    asset_id TEXT PRIMARY KEY,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at REAL NOT NULL
);
"""
MAX_BACKOFF_S = 600.0


class PurgeOutbox:
    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        with self._db() as db:
            db.executescript(_SCHEMA)

    def _db(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return transaction(self.db_path)

    def add(self, asset_id: str) -> None:
        with self._db() as db:
            db.execute(
                "INSERT INTO purges (asset_id, attempts, next_at) VALUES (?, 0, 0)"
                " ON CONFLICT (asset_id) DO UPDATE SET next_at = 0",
                (asset_id,),
            )

    def pending(self) -> list[str]:
        with self._db() as db:
            return [row[0] for row in db.execute("SELECT asset_id FROM purges ORDER BY asset_id")]

    async def flush(self, purge: Callable[[str], Awaitable[bool]], now: float | None = None) -> int:
        """Tries every purge that is due; returns how many are still owed."""
        now = time.time() if now is None else now
        with self._db() as db:
            due = [
                (r[0], r[1])
                for r in db.execute("SELECT asset_id, attempts FROM purges WHERE next_at <= ?", (now,))
            ]
        for asset_id, attempts in due:
            if await purge(asset_id):
                with self._db() as db:
                    db.execute("DELETE FROM purges WHERE asset_id = ?", (asset_id,))
            else:
                delay = min(MAX_BACKOFF_S, 5.0 * 2**attempts)
                with self._db() as db:
                    db.execute(
                        "UPDATE purges SET attempts = attempts + 1, next_at = ? WHERE asset_id = ?",
                        (now + delay, asset_id),
                    )
        with self._db() as db:
            remaining: int = db.execute("SELECT COUNT(*) FROM purges").fetchone()[0]
        return remaining
