"""Moderation decisions belong to the content: a rejected picture stays rejected whatever happens to its
record (expiry, deletion, another upload under any id), until an administrator approves it again."""

from __future__ import annotations

import time

from imgedge.generator.storage.database import Database

REJECTED_BEFORE = "the same picture was rejected before"


class RejectedContent:
    def __init__(self, database: Database) -> None:
        self.database = database

    def record(self, asset_id: str, content: str) -> None:
        with self.database.transaction() as db:
            db.execute(
                "INSERT INTO asset_content (asset_id, content_hash) VALUES (?, ?)"
                " ON CONFLICT (asset_id) DO NOTHING",
                (asset_id, content),
            )

    def forget(self, asset_id: str) -> None:
        """The record is gone; a rejection of its picture stays in rejected_content."""
        with self.database.transaction() as db:
            db.execute("DELETE FROM asset_content WHERE asset_id = ?", (asset_id,))

    def content_of(self, asset_id: str) -> str | None:
        with self.database.transaction() as db:
            row = db.execute(
                "SELECT content_hash FROM asset_content WHERE asset_id = ?", (asset_id,)
            ).fetchone()
        return None if row is None else str(row[0])

    def assets_with(self, content: str) -> list[str]:
        with self.database.transaction() as db:
            rows = db.execute(
                "SELECT asset_id FROM asset_content WHERE content_hash = ?", (content,)
            ).fetchall()
        return [str(row[0]) for row in rows]

    def is_rejected(self, content: str) -> bool:
        with self.database.transaction() as db:
            row = db.execute("SELECT 1 FROM rejected_content WHERE content_hash = ?", (content,)).fetchone()
        return row is not None

    def reject(self, content: str, reason: str | None) -> None:
        with self.database.transaction() as db:
            db.execute(
                "INSERT INTO rejected_content (content_hash, reason, rejected_at) VALUES (?, ?, ?)"
                " ON CONFLICT (content_hash) DO NOTHING",
                (content, reason, time.time()),
            )

    def forgive(self, content: str) -> None:
        with self.database.transaction() as db:
            db.execute("DELETE FROM rejected_content WHERE content_hash = ?", (content,))
