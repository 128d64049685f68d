"""Generation jobs persisted in SQLite, so a restart never loses one silently."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imgedge.generator.generation_request import GenerationRequest
from imgedge.generator.store import transaction

JOB_STATES = ("queued", "running", "done", "failed")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    request TEXT NOT NULL,
    asset_id TEXT,
    error TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status, created_at);
"""


@dataclass(frozen=True, slots=True)
class Job:
    id: str
    status: str
    request: GenerationRequest
    asset_id: str | None
    error: str | None
    created_at: float
    updated_at: float

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "asset_id": self.asset_id,
            "error": self.error,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "request": {k: v for k, v in self.request.to_json().items() if k != "webhook_url"},
        }


class JobStore:
    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        db_path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)

    def _db(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return transaction(self.db_path)

    def create(self, request: GenerationRequest) -> Job:
        now = time.time()
        job_id = uuid.uuid4().hex
        with self._db() as db:
            db.execute(
                "INSERT INTO jobs (id, status, request, created_at, updated_at)"
                " VALUES (?, 'queued', ?, ?, ?)",
                (job_id, json.dumps(request.to_json()), now, now),
            )
        return Job(job_id, "queued", request, None, None, now, now)

    def get(self, job_id: str) -> Job | None:
        with self._db() as db:
            row = db.execute(
                "SELECT id, status, request, asset_id, error, created_at, updated_at FROM jobs WHERE id = ?",
                (job_id,),
            ).fetchone()
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
        with self._db() as db:
            db.execute(
                "UPDATE jobs SET status = ?, asset_id = ?, error = ?, updated_at = ? WHERE id = ?",
                (status, asset_id, error, time.time(), job_id),
            )

    def queued_ids(self) -> list[str]:
        """Queued jobs, oldest first, without touching running ones (workers elsewhere may hold them)."""
        with self._db() as db:
            return [
                row[0]
                for row in db.execute("SELECT id FROM jobs WHERE status = 'queued' ORDER BY created_at")
            ]

    def recover(self, capacity: int) -> list[str]:
        """After a restart: interrupted jobs fail, the oldest queued ones are returned to run again."""
        with self._db() as db:
            db.execute(
                "UPDATE jobs SET status = 'failed', error = 'interrupted by a restart', updated_at = ?"
                " WHERE status = 'running'",
                (time.time(),),
            )
            queued = [
                row[0]
                for row in db.execute("SELECT id FROM jobs WHERE status = 'queued' ORDER BY created_at")
            ]
            overflow = queued[capacity:]
            db.executemany(
                "UPDATE jobs SET status = 'failed', error = 'queue full after a restart', updated_at = ?"
                " WHERE id = ?",
                [(time.time(), job_id) for job_id in overflow],
            )
        return queued[:capacity]
