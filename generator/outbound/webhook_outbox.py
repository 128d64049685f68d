"""Webhook deliveries still owed, in the database: one that is pending when a process stops (or dies) is
sent by the next janitor pass of any API process, so a restart loses none.

A process holds a delivery while it tries it by moving `next_at` past the attempt and its backoff (a
lease); another process takes it over only once that lease has run out. Deliveries are at least once:
receivers deduplicate by `webhook-id`, which is this row's id.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from imgedge.generator.storage.database import Database

# How long an attempt may take (the request timeout is 10 s) before another process may take it over.
LEASE_S = 60.0


@dataclass(frozen=True, slots=True)
class Delivery:
    id: str  # the webhook-id, the same on every attempt
    url: str
    body: bytes
    attempts: int


class WebhookOutbox:
    def __init__(self, database: Database) -> None:
        self.database = database

    def add(self, url: str, body: bytes, now: float | None = None) -> Delivery:
        """Records a delivery, held by the caller, who tries it at once."""
        now = time.time() if now is None else now
        delivery = Delivery(f"msg_{secrets.token_hex(16)}", url, body, 0)
        with self.database.transaction() as db:
            db.execute(
                "INSERT INTO webhook_deliveries (id, url, body, attempts, next_at, created_at)"
                " VALUES (?, ?, ?, 0, ?, ?)",
                (delivery.id, url, body.decode(), now + LEASE_S, now),
            )
        return delivery

    def claim_due(self, now: float | None = None, limit: int = 100) -> list[Delivery]:
        """Deliveries nobody holds any more (their process stopped), now held by the caller."""
        now = time.time() if now is None else now
        with self.database.transaction() as db:
            rows = db.execute(
                "SELECT id, url, body, attempts FROM webhook_deliveries WHERE next_at <= ? ORDER BY next_at"
                " LIMIT ?",
                (now, limit),
            ).fetchall()
        claimed = []
        for message_id, url, body, attempts in rows:
            with self.database.transaction() as db:
                # Only the process whose update lands holds it: another may have claimed it meanwhile.
                taken = db.execute(
                    "UPDATE webhook_deliveries SET next_at = ? WHERE id = ? AND next_at <= ?",
                    (now + LEASE_S, message_id, now),
                ).rowcount
            if taken == 1:
                claimed.append(Delivery(message_id, url, body.encode(), attempts))
        return claimed

    def retry_later(self, message_id: str, attempts: int, delay_s: float, now: float | None = None) -> None:
        """Records a failed attempt; the caller keeps holding the delivery while it waits `delay_s`."""
        now = time.time() if now is None else now
        with self.database.transaction() as db:
            db.execute(
                "UPDATE webhook_deliveries SET attempts = ?, next_at = ? WHERE id = ?",
                (attempts, now + delay_s + LEASE_S, message_id),
            )

    def release(self, message_id: str, attempts: int) -> None:
        """Stops holding a delivery (its process is stopping): any process may take it over now."""
        with self.database.transaction() as db:
            db.execute(
                "UPDATE webhook_deliveries SET attempts = ?, next_at = ? WHERE id = ?",
                (attempts, time.time(), message_id),
            )

    def finish(self, message_id: str) -> None:
        """Delivered, or given up on: either way nothing is owed any more."""
        with self.database.transaction() as db:
            db.execute("DELETE FROM webhook_deliveries WHERE id = ?", (message_id,))

    def pending(self) -> int:
        with self.database.transaction() as db:
            count: int = db.execute("SELECT COUNT(*) FROM webhook_deliveries").fetchone()[0]
        return count
