"""Every table the generator keeps, created and upgraded in this one place, in SQL that SQLite and
PostgreSQL both accept."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from imgedge.generator.storage.database import Connection

# The moderation decisions that belong to content rather than to a record, and who submitted each job (for
# per-client caps): tables of their own, so nothing above changes shape.
SECURITY_TABLES = (
    """CREATE TABLE IF NOT EXISTS rejected_content (
        content_hash TEXT PRIMARY KEY,
        reason TEXT,
        rejected_at REAL NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS asset_content (
        asset_id TEXT PRIMARY KEY,
        content_hash TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS asset_content_hash ON asset_content (content_hash)",
    """CREATE TABLE IF NOT EXISTS job_owners (
        job_id TEXT PRIMARY KEY,
        owner TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS job_owners_owner ON job_owners (owner)",
)

# Identical generation requests (generator/jobs/reuse.py): the canonical request's key and the job that
# makes it. The primary key is the single-flight across API processes: one insert wins.
REUSE_TABLES = (
    """CREATE TABLE IF NOT EXISTS request_keys (
        request_key TEXT PRIMARY KEY,
        job_id TEXT NOT NULL,
        created_at REAL NOT NULL
    )""",
)

TABLES = (
    """CREATE TABLE IF NOT EXISTS assets (
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
    )""",
    """CREATE TABLE IF NOT EXISTS jobs (
        id TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        request TEXT NOT NULL,
        asset_id TEXT,
        error TEXT,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status, created_at)",
    """CREATE TABLE IF NOT EXISTS uploads (
        id TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        asset_id TEXT,
        created_at REAL NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS purges (
        asset_id TEXT PRIMARY KEY,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at REAL NOT NULL
    )""",
    # Placeholders (generator/assets/placeholders.py): one row per asset, written once, in a table of its own.
    """CREATE TABLE IF NOT EXISTS asset_placeholders (
        asset_id TEXT PRIMARY KEY,
        thumbhash TEXT NOT NULL,
        blurhash TEXT NOT NULL,
        dominant_color TEXT NOT NULL,
        average_color TEXT NOT NULL,
        lqip TEXT NOT NULL
    )""",
    # Webhook deliveries not yet accepted (generator/outbound/webhook_outbox.py). `next_at` is when any
    # process may (re)try one; a process that is trying it holds it by keeping `next_at` ahead.
    """CREATE TABLE IF NOT EXISTS webhook_deliveries (
        id TEXT PRIMARY KEY,
        url TEXT NOT NULL,
        body TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at REAL NOT NULL,
        created_at REAL NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries (next_at)",
    *SECURITY_TABLES,
    *REUSE_TABLES,
)

# Columns added after a table's first release: added in place, so an existing data dir keeps working.
ADDED_COLUMNS: dict[str, dict[str, str]] = {
    "assets": {
        "scheduler": "TEXT",
        "software": "TEXT",
        "moderation_reason": "TEXT",
        "expires_at": "REAL",
    },
}


def apply_schema(conn: Connection) -> None:
    """Runs inside the caller's transaction; safe on every start."""
    for statement in TABLES:
        conn.execute(statement)
    for table, columns in ADDED_COLUMNS.items():
        present = {column[0] for column in conn.execute(f"SELECT * FROM {table} LIMIT 0").description}
        for name, kind in columns.items():
            if name not in present:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")
