"""API keys in the database: created with a name and limits, found by the hash of the key, revoked."""

from __future__ import annotations

import time
import uuid
from typing import Any

from imgedge.generator.keys.records import MAX_KEY_CHARS, ApiKey, check_name, key_hash, new_key
from imgedge.generator.storage.database import Database

_COLUMNS = "id, name, rate_per_minute, daily_quota, created_at, revoked_at, max_pixels, max_steps"
# The smallest image a request may ask for is 64x64: a key capped below it could generate nothing.
MIN_PIXELS_CAP = 64 * 64


class DuplicateKeyName(ValueError):
    pass


class ApiKeyRepository:
    def __init__(self, database: Database) -> None:
        self.database = database

    def create(
        self,
        name: str,
        *,
        rate_per_minute: int | None,
        daily_quota: int | None,
        max_pixels: int | None = None,
        max_steps: int | None = None,
    ) -> tuple[ApiKey, str]:
        """Returns the record and the key; the key itself is never stored and cannot be shown again."""
        _check_limits(rate_per_minute, daily_quota, max_pixels, max_steps)
        key = new_key()
        record = ApiKey(
            uuid.uuid4().hex[:12], check_name(name), rate_per_minute, daily_quota, time.time(),
            max_pixels=max_pixels, max_steps=max_steps,
        )  # fmt: skip
        with self.database.transaction() as db:
            taken = db.execute("SELECT 1 FROM api_keys WHERE name = ?", (name,)).fetchone()
            if taken is not None:
                raise DuplicateKeyName(f"a key named {name!r} already exists")
            db.execute(
                f"INSERT INTO api_keys ({_COLUMNS}, key_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*_row(record), key_hash(key)),
            )
        return record, key

    def by_key(self, key: str) -> ApiKey | None:
        """The record of a presented key, revoked or not; None when no key like it was ever made."""
        if not key or len(key) > MAX_KEY_CHARS:
            return None
        with self.database.transaction() as db:
            row = db.execute(
                f"SELECT {_COLUMNS} FROM api_keys WHERE key_hash = ?", (key_hash(key),)
            ).fetchone()
        return None if row is None else _record(row)

    def any_exist(self) -> bool:
        """Revoked keys count: revoking the last key must not open the service to everyone."""
        with self.database.transaction() as db:
            return db.execute("SELECT 1 FROM api_keys LIMIT 1").fetchone() is not None

    def all(self) -> list[ApiKey]:
        with self.database.transaction() as db:
            rows = db.execute(f"SELECT {_COLUMNS} FROM api_keys ORDER BY created_at").fetchall()
        return [_record(row) for row in rows]

    def revoke(self, id_or_name: str) -> ApiKey | None:
        """Revokes the key with this id (else this name); returns it as it now is, None when there is none."""
        with self.database.transaction() as db:
            for column in ("id", "name"):
                row = db.execute(f"SELECT id FROM api_keys WHERE {column} = ?", (id_or_name,)).fetchone()
                if row is not None:
                    break
            else:
                return None
            db.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                (time.time(), row[0]),
            )
            found = db.execute(f"SELECT {_COLUMNS} FROM api_keys WHERE id = ?", (row[0],)).fetchone()
        return _record(found)

    def used_on(self, day: str) -> dict[str, int]:
        """Requests counted per key id on one UTC day (`YYYY-MM-DD`)."""
        with self.database.transaction() as db:
            rows = db.execute(
                "SELECT key_id, count FROM api_key_usage WHERE period = ?", (f"d:{day}",)
            ).fetchall()
        return {row[0]: int(row[1]) for row in rows}


def _check_limits(
    rate_per_minute: int | None, daily_quota: int | None, max_pixels: int | None, max_steps: int | None
) -> None:
    if rate_per_minute is not None and rate_per_minute < 1:
        raise ValueError("rate must be at least 1 per minute")
    if daily_quota is not None and daily_quota < 1:
        raise ValueError("daily quota must be at least 1")
    if max_pixels is not None and max_pixels < MIN_PIXELS_CAP:
        raise ValueError(f"max pixels must be at least {MIN_PIXELS_CAP} (64x64, the smallest image)")
    if max_steps is not None and max_steps < 1:
        raise ValueError("max steps must be at least 1")


def _row(key: ApiKey) -> tuple[object, ...]:
    return (
        key.id, key.name, key.rate_per_minute, key.daily_quota, key.created_at, key.revoked_at,
        key.max_pixels, key.max_steps,
    )  # fmt: skip


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _record(row: Any) -> ApiKey:
    return ApiKey(
        id=row[0], name=row[1], rate_per_minute=_optional_int(row[2]), daily_quota=_optional_int(row[3]),
        created_at=row[4], revoked_at=row[5], max_pixels=_optional_int(row[6]),
        max_steps=_optional_int(row[7]),
    )  # fmt: skip
