"""Who made each asset: the callers whose job or upload produced it (several, when two ask for the same
pixels: an asset's id comes from its content). Pending and rejected assets are shown to them and to the
administrator only (generator/security/visibility.py)."""

from __future__ import annotations

from imgedge.generator.storage.database import Connection, Database

# One statement, run in the transaction that marks the job done: a worker process elsewhere credits it too.
CREDIT_JOB = (
    "INSERT INTO asset_creators (asset_id, creator) SELECT ?, owner FROM job_owners WHERE job_id = ?"
    " ON CONFLICT (asset_id, creator) DO NOTHING"
)
CREDIT_UPLOAD = (
    "INSERT INTO asset_creators (asset_id, creator) SELECT ?, creator FROM uploads"
    " WHERE id = ? AND creator IS NOT NULL ON CONFLICT (asset_id, creator) DO NOTHING"
)


def credit_job(db: Connection, job_id: str, asset_id: str) -> None:
    db.execute(CREDIT_JOB, (asset_id, job_id))


class AssetCreators:
    def __init__(self, database: Database) -> None:
        self.database = database

    def record(self, asset_id: str, creator: str) -> None:
        with self.database.transaction() as db:
            db.execute(
                "INSERT INTO asset_creators (asset_id, creator) VALUES (?, ?)"
                " ON CONFLICT (asset_id, creator) DO NOTHING",
                (asset_id, creator),
            )

    def made_by(self, asset_id: str, creator: str) -> bool:
        with self.database.transaction() as db:
            row = db.execute(
                "SELECT 1 FROM asset_creators WHERE asset_id = ? AND creator = ?", (asset_id, creator)
            ).fetchone()
        return row is not None

    def forget(self, asset_id: str) -> None:
        """The record is gone: whoever makes the same picture again is its creator, not the earlier ones."""
        with self.database.transaction() as db:
            db.execute("DELETE FROM asset_creators WHERE asset_id = ?", (asset_id,))
