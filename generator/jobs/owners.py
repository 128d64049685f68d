"""Who submitted each job, so a client's queued + running jobs can be counted against its cap. Counted from
the jobs table itself, so jobs finished by `imgedge worker` processes elsewhere free their slot too."""

from __future__ import annotations

from imgedge.generator.storage.database import Database

_ACTIVE = (
    "SELECT COUNT(*) FROM job_owners o JOIN jobs j ON j.id = o.job_id"
    " WHERE o.owner = ? AND j.status IN ('queued', 'running')"
)


class JobOwners:
    def __init__(self, database: Database) -> None:
        self.database = database

    def record(self, job_id: str, owner: str) -> None:
        with self.database.transaction() as db:
            db.execute(
                "INSERT INTO job_owners (job_id, owner) VALUES (?, ?) ON CONFLICT (job_id) DO NOTHING",
                (job_id, owner),
            )

    def active(self, owner: str) -> int:
        with self.database.transaction() as db:
            count: int = db.execute(_ACTIVE, (owner,)).fetchone()[0]
        return count
