"""Asset metadata rows: one per content-addressed original."""

from __future__ import annotations

from typing import Any

from imgedge.generator.assets.records import AssetRecord, Provenance, check_moderation_state
from imgedge.generator.storage.database import Database

_COLUMNS = (
    "id, width, height, bytes, content_type, moderation, temporary, created_at, origin, model, model_hash,"
    " prompt, negative_prompt, seed, steps, guidance, scheduler, software, moderation_reason, expires_at"
)
_SELECT = f"SELECT {_COLUMNS} FROM assets"


class AssetRepository:
    def __init__(self, database: Database) -> None:
        self.database = database

    def insert_unless_present(self, record: AssetRecord) -> None:
        """The first record of an id wins, except that a permanent record makes a temporary one permanent."""
        check_moderation_state(record.moderation)
        with self.database.transaction() as db:
            db.execute(
                f"INSERT INTO assets ({_COLUMNS}) VALUES ({', '.join('?' * 20)}) ON CONFLICT (id) DO NOTHING",
                _row(record),
            )
            if not record.temporary:
                db.execute(
                    "UPDATE assets SET temporary = 0, expires_at = NULL WHERE id = ? AND temporary = 1",
                    (record.id,),
                )

    def get(self, asset_id: str) -> AssetRecord | None:
        with self.database.transaction() as db:
            row = db.execute(_SELECT + " WHERE id = ?", (asset_id,)).fetchone()
        return None if row is None else _record(row)

    def set_moderation(self, asset_id: str, state: str, reason: str | None) -> bool:
        """Returns whether the state changed, so callers purge caches only when something happened."""
        check_moderation_state(state)
        with self.database.transaction() as db:
            cur = db.execute(
                "UPDATE assets SET moderation = ?, moderation_reason = ? WHERE id = ? AND moderation != ?",
                (state, reason, asset_id, state),
            )
            return cur.rowcount > 0

    def expired(self, now: float, limit: int) -> list[str]:
        with self.database.transaction() as db:
            rows = db.execute(
                "SELECT id FROM assets WHERE temporary = 1 AND expires_at <= ? ORDER BY expires_at LIMIT ?",
                (now, limit),
            ).fetchall()
        return [row[0] for row in rows]

    def delete(self, asset_id: str) -> bool:
        with self.database.transaction() as db:
            return db.execute("DELETE FROM assets WHERE id = ?", (asset_id,)).rowcount > 0

    def by_moderation(self, state: str, limit: int) -> list[AssetRecord]:
        """Oldest first: the review queue."""
        with self.database.transaction() as db:
            rows = db.execute(
                _SELECT + " WHERE moderation = ? ORDER BY created_at LIMIT ?", (state, limit)
            ).fetchall()
        return [_record(row) for row in rows]

    def recent_permanent(self, state: str, limit: int) -> list[AssetRecord]:
        """Newest first, without temporary assets: a gallery should not show what is about to expire."""
        with self.database.transaction() as db:
            rows = db.execute(
                _SELECT + " WHERE moderation = ? AND temporary = 0 ORDER BY created_at DESC LIMIT ?",
                (state, limit),
            ).fetchall()
        return [_record(row) for row in rows]


def _row(r: AssetRecord) -> tuple[object, ...]:
    p = r.provenance
    return (
        r.id, r.width, r.height, r.bytes, r.content_type, r.moderation, int(r.temporary), r.created_at,
        p.origin, p.model, p.model_hash, p.prompt, p.negative_prompt, p.seed, p.steps, p.guidance,
        p.scheduler, p.software, r.moderation_reason, r.expires_at,
    )  # fmt: skip


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
