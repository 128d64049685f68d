"""Generation jobs persisted in the database, so a restart never loses one silently."""

from __future__ import annotations

import json
import time
import uuid

from imgedge.generator.assets.creators import credit_job
from imgedge.generator.jobs.records import JOB_STATES, Job
from imgedge.generator.models.request import GenerationRequest
from imgedge.generator.storage.database import Database

_SELECT_ONE = "SELECT id, status, request, asset_id, error, created_at, updated_at FROM jobs WHERE id = ?"
_QUEUED_OLDEST_FIRST = "SELECT id FROM jobs WHERE status = 'queued' ORDER BY created_at"


class JobRepository:
    def __init__(self, database: Database) -> None:
        self.database = database

    def create(self, request: GenerationRequest, job_id: str | None = None) -> Job:
        """`job_id` when the caller reserved one (an identical request's single-flight, jobs/reuse.py)."""
        now = time.time()
        job_id = job_id or uuid.uuid4().hex
        with self.database.transaction() as db:
            db.execute(
                "INSERT INTO jobs (id, status, request, created_at, updated_at)"
                " VALUES (?, 'queued', ?, ?, ?)",
                (job_id, json.dumps(request.to_json()), now, now),
            )
        return Job(job_id, "queued", request, None, None, now, now)

    def get(self, job_id: str) -> Job | None:
        with self.database.transaction() as db:
            row = db.execute(_SELECT_ONE, (job_id,)).fetchone()
        if row is None:
            return None
        return Job(
            row[0], row[1], GenerationRequest.from_json(json.loads(row[2])), row[3], row[4], row[5], row[6]
        )

    def set_status(
        self, job_id: str, status: str, *, asset_id: str | None = None, error: str | None = None
    ) -> None:
        if status not in JOB_STATES:
            raise ValueError(f"unknown job state {status!r}")
        with self.database.transaction() as db:
            db.execute(
                "UPDATE jobs SET status = ?, asset_id = ?, error = ?, updated_at = ? WHERE id = ?",
                (status, asset_id, error, time.time(), job_id),
            )
            if status == "done" and asset_id is not None:
                credit_job(db, job_id, asset_id)  # the job's owner made the asset

    def queued_ids(self) -> list[str]:
        """Queued jobs, oldest first, without touching running ones (workers elsewhere may hold them)."""
        with self.database.transaction() as db:
            return [row[0] for row in db.execute(_QUEUED_OLDEST_FIRST).fetchall()]

    def recover(self, capacity: int) -> list[str]:
        """After a restart: interrupted jobs fail, the oldest queued ones are returned to run again."""
        with self.database.transaction() as db:
            db.execute(
                "UPDATE jobs SET status = 'failed', error = 'interrupted by a restart', updated_at = ?"
                " WHERE status = 'running'",
                (time.time(),),
            )
            queued = [row[0] for row in db.execute(_QUEUED_OLDEST_FIRST).fetchall()]
            overflow = queued[capacity:]
            db.executemany(
                "UPDATE jobs SET status = 'failed', error = 'queue full after a restart', updated_at = ?"
                " WHERE id = ?",
                [(time.time(), job_id) for job_id in overflow],
            )
        return queued[:capacity]
