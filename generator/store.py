"""Canonical originals on the filesystem, named by content hash; their metadata in SQLite (WAL)."""

from __future__ import annotations

import contextlib
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imgedge.generator.atomic import write_atomic
from imgedge.generator.canonical import Canonical

ASSET_ID_RE = re.compile(r"^[0-9a-f]{32}$")

MODERATION_STATES = ("approved", "pending", "rejected")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS assets (
    id TEXT PRIMARY KEY,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    origin TEXT NOT NULL,
    model TEXT,
    model_hash TEXT,
    prompt TEXT,
    negative_prompt TEXT,
    seed INTEGER,
    steps INTEGER,
    guidance REAL,
    moderation TEXT NOT NULL DEFAULT 'approved',
    temporary INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL
);
"""

# Columns added after the first schema; added in place so an existing data dir keeps working.
_ADDED_COLUMNS = {
    "scheduler": "TEXT",
    "software": "TEXT",
    "moderation_reason": "TEXT",
    "expires_at": "REAL",
}

_SELECT = (
    "SELECT id, width, height, bytes, content_type, moderation, temporary, created_at, origin, model,"
    " model_hash, prompt, negative_prompt, seed, steps, guidance, scheduler, software, moderation_reason,"
    " expires_at FROM assets"
)


@dataclass(frozen=True, slots=True)
class Provenance:
    origin: str = "ingest"  # ingest | upload | generated
    model: str | None = None
    model_hash: str | None = None
    prompt: str | None = None
    negative_prompt: str | None = None
    seed: int | None = None
    steps: int | None = None
    guidance: float | None = None
    scheduler: str | None = None
    software: str | None = None


@dataclass(frozen=True, slots=True)
class AssetRecord:
    id: str
    width: int
    height: int
    bytes: int
    content_type: str
    moderation: str
    temporary: bool
    created_at: float
    provenance: Provenance = field(default_factory=Provenance)
    moderation_reason: str | None = None
    expires_at: float | None = None


def valid_asset_id(asset_id: str) -> bool:
    return ASSET_ID_RE.fullmatch(asset_id) is not None


def connect(db_path: Path) -> sqlite3.Connection:
    db_path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(db_path, timeout=30)
    conn.execute("PRAGMA busy_timeout = 30000")
    return conn


@contextmanager
def transaction(db_path: Path) -> Iterator[sqlite3.Connection]:
    """One connection per unit of work: commit on success, roll back on error, always close."""
    conn = connect(db_path)
    try:
        with conn:
            yield conn
    finally:
        conn.close()


class OriginalStore:
    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / "originals"
        self.db_path = data_dir / "imgedge.sqlite3"
        self.root.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)
            present = {row[1] for row in db.execute("PRAGMA table_info(assets)")}
            for name, kind in _ADDED_COLUMNS.items():
                if name not in present:
                    db.execute(f"ALTER TABLE assets ADD COLUMN {name} {kind}")

    def _db(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return transaction(self.db_path)

    def path_for(self, asset_id: str) -> Path:
        if not valid_asset_id(asset_id):
            raise ValueError("invalid asset id")
        return self.root / asset_id[:2] / f"{asset_id}.png"

    def put(
        self,
        canonical: Canonical,
        provenance: Provenance,
        *,
        moderation: str = "approved",
        temporary: bool = False,
        expires_at: float | None = None,
        moderation_reason: str | None = None,
    ) -> AssetRecord:
        """Idempotent: the same pixels give the same id, and a second put keeps the first record.

        One exception: storing a permanent copy of an asset that only exists as a temporary one makes it
        permanent, or the janitor would delete an asset somebody asked to keep.
        """
        if moderation not in MODERATION_STATES:
            raise ValueError(f"unknown moderation state {moderation!r}")
        path = self.path_for(canonical.asset_id)
        if not path.exists():
            write_atomic(path, canonical.png)
        p = provenance
        with self._db() as db:
            db.execute(
                "INSERT OR IGNORE INTO assets (id, width, height, bytes, content_type, origin, model,"
                " model_hash, prompt, negative_prompt, seed, steps, guidance, moderation, temporary,"
                " created_at, scheduler, software, moderation_reason, expires_at)"
                " VALUES (?, ?, ?, ?, 'image/png', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    canonical.asset_id, canonical.width, canonical.height, len(canonical.png), p.origin,
                    p.model, p.model_hash, p.prompt, p.negative_prompt, p.seed, p.steps, p.guidance,
                    moderation, int(temporary), time.time(), p.scheduler, p.software, moderation_reason,
                    expires_at if temporary else None,
                ),
            )  # fmt: skip
            if not temporary:
                db.execute(
                    "UPDATE assets SET temporary = 0, expires_at = NULL WHERE id = ? AND temporary = 1",
                    (canonical.asset_id,),
                )
        record = self.get(canonical.asset_id)
        assert record is not None
        return record

    def get(self, asset_id: str) -> AssetRecord | None:
        if not valid_asset_id(asset_id):
            return None
        with self._db() as db:
            row = db.execute(_SELECT + " WHERE id = ?", (asset_id,)).fetchone()
        return None if row is None else _record(row)

    def read(self, asset_id: str) -> bytes:
        return self.path_for(asset_id).read_bytes()

    def set_moderation(self, asset_id: str, state: str, reason: str | None = None) -> bool:
        """Returns whether the state changed, so callers purge caches only when something happened."""
        if state not in MODERATION_STATES:
            raise ValueError(f"unknown moderation state {state!r}")
        with self._db() as db:
            cur = db.execute(
                "UPDATE assets SET moderation = ?, moderation_reason = ? WHERE id = ? AND moderation != ?",
                (state, reason, asset_id, state),
            )
            return cur.rowcount > 0

    def expired(self, now: float, limit: int = 100) -> list[str]:
        with self._db() as db:
            rows = db.execute(
                "SELECT id FROM assets WHERE temporary = 1 AND expires_at <= ? ORDER BY expires_at LIMIT ?",
                (now, limit),
            ).fetchall()
        return [row[0] for row in rows]

    def delete(self, asset_id: str) -> bool:
        """Row first, then file: a crash in between leaves an orphan file, never a row without bytes."""
        with self._db() as db:
            cur = db.execute("DELETE FROM assets WHERE id = ?", (asset_id,))
        self.path_for(asset_id).unlink(missing_ok=True)
        return cur.rowcount > 0

    def list_by_moderation(self, state: str, limit: int = 100) -> list[AssetRecord]:
        with self._db() as db:
            rows = db.execute(
                _SELECT + " WHERE moderation = ? ORDER BY created_at LIMIT ?", (state, limit)
            ).fetchall()
        return [_record(row) for row in rows]

    def recent(self, state: str, limit: int) -> list[AssetRecord]:
        """Newest first, without temporary assets: a gallery should not show what is about to expire."""
        with self._db() as db:
            rows = db.execute(
                _SELECT + " WHERE moderation = ? AND temporary = 0 ORDER BY created_at DESC LIMIT ?",
                (state, limit),
            ).fetchall()
        return [_record(row) for row in rows]


def _record(r: Any) -> AssetRecord:
    return AssetRecord(
        id=r[0], width=r[1], height=r[2], bytes=r[3], content_type=r[4], moderation=r[5],
        temporary=bool(r[6]), created_at=r[7],
        provenance=Provenance(
            origin=r[8], model=r[9], model_hash=r[10], prompt=r[11], negative_prompt=r[12],
            seed=r[13], steps=r[14], guidance=r[15], scheduler=r[16], software=r[17],
        ),
        moderation_reason=r[18], expires_at=r[19],
    )  # fmt: skip
