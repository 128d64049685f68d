"""Every table the generator keeps, as numbered migrations, in SQL that SQLite and PostgreSQL both accept.

Types are spelled for PostgreSQL (DOUBLE PRECISION timestamps, BIGINT seeds up to 2**32 - 1); SQLite maps
them to its REAL and INTEGER affinities. Flags are INTEGER 0/1 in both. `upgrade` applies the missing
migrations in one transaction that holds the database's schema lock, so two services starting together
cannot both apply one; `imgedge db upgrade` runs it, and so does every start whose schema is behind.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from imgedge.env import ConfigError

if TYPE_CHECKING:
    from imgedge.generator.storage.database import Connection, Database

_VERSIONS_TABLE = """CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at DOUBLE PRECISION NOT NULL
)"""

BASELINE_TABLES = (
    """CREATE TABLE IF NOT EXISTS assets (
        id TEXT PRIMARY KEY,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        bytes BIGINT NOT NULL,
        content_type TEXT NOT NULL,
        origin TEXT NOT NULL,
        model TEXT,
        model_hash TEXT,
        prompt TEXT,
        negative_prompt TEXT,
        seed BIGINT,
        steps INTEGER,
        guidance DOUBLE PRECISION,
        moderation TEXT NOT NULL DEFAULT 'approved',
        temporary INTEGER NOT NULL DEFAULT 0,
        created_at DOUBLE PRECISION NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS jobs (
        id TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        request TEXT NOT NULL,
        asset_id TEXT,
        error TEXT,
        created_at DOUBLE PRECISION NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status, created_at)",
    """CREATE TABLE IF NOT EXISTS uploads (
        id TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        asset_id TEXT,
        created_at DOUBLE PRECISION NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS purges (
        asset_id TEXT PRIMARY KEY,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at DOUBLE PRECISION NOT NULL
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
        next_at DOUBLE PRECISION NOT NULL,
        created_at DOUBLE PRECISION NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries (next_at)",
)

# Columns that data dirs from before versioned migrations may lack: the baseline adds them in place.
ADDED_COLUMNS: dict[str, dict[str, str]] = {
    "assets": {
        "scheduler": "TEXT",
        "software": "TEXT",
        "moderation_reason": "TEXT",
        "expires_at": "DOUBLE PRECISION",
    },
}

API_KEY_TABLES = (
    # Only the SHA-256 of a key is kept: keys are 256 random bits, so a fast hash is as good as a slow one.
    """CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        key_hash TEXT NOT NULL UNIQUE,
        rate_per_minute INTEGER,
        daily_quota BIGINT,
        created_at DOUBLE PRECISION NOT NULL,
        revoked_at DOUBLE PRECISION
    )""",
    # Requests per key and period: `m:<minute>` windows for the rate limit, `d:<UTC date>` for the quota.
    """CREATE TABLE api_key_usage (
        key_id TEXT NOT NULL,
        period TEXT NOT NULL,
        count BIGINT NOT NULL,
        PRIMARY KEY (key_id, period)
    )""",
)

# Moderation decisions that belong to content rather than to a record (a rejected picture stays rejected
# under any new id: generator/assets/rejections.py, content_hash.py), and who submitted each job, for the
# per-client caps on anonymous callers (generator/jobs/owners.py). IF NOT EXISTS: a data dir from before
# versioned migrations may have them already.
SECURITY_TABLES = (
    """CREATE TABLE IF NOT EXISTS rejected_content (
        content_hash TEXT PRIMARY KEY,
        reason TEXT,
        rejected_at DOUBLE PRECISION NOT NULL
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

# Who made each asset (a set: the same pixels from two callers are one asset), and who asked for each upload
# URL, so pending and rejected assets are shown to them and the administrator only
# (generator/security/visibility.py).
CREATOR_TABLES = (
    """CREATE TABLE asset_creators (
        asset_id TEXT NOT NULL,
        creator TEXT NOT NULL,
        PRIMARY KEY (asset_id, creator)
    )""",
    "ALTER TABLE uploads ADD COLUMN creator TEXT",
)

# What one request with a key may ask for (`imgedge keys create --max-pixels --max-steps`); NULL: the
# service's maxima.
KEY_CAP_COLUMNS = (
    "ALTER TABLE api_keys ADD COLUMN max_pixels BIGINT",
    "ALTER TABLE api_keys ADD COLUMN max_steps INTEGER",
)


# Identical generation requests (generator/jobs/reuse.py): the canonical request's key and the job that
# makes it. The primary key is the single-flight across API processes: one insert wins.
REUSE_TABLES = (
    """CREATE TABLE IF NOT EXISTS request_keys (
        request_key TEXT PRIMARY KEY,
        job_id TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL
    )""",
)


def _baseline(conn: Connection) -> None:
    for statement in BASELINE_TABLES:
        conn.execute(statement)
    for table, columns in ADDED_COLUMNS.items():
        present = {column[0] for column in conn.execute(f"SELECT * FROM {table} LIMIT 0").description}
        for name, kind in columns.items():
            if name not in present:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")


def _statements(*statements: str) -> Callable[[Connection], None]:
    def apply(conn: Connection) -> None:
        for statement in statements:
            conn.execute(statement)

    return apply


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    apply: Callable[[Connection], None]


# Append only: a released migration never changes, a new one gets the next number.
MIGRATIONS = (
    Migration(1, "assets, jobs, upload grants, purge outbox, placeholders, webhook outbox", _baseline),
    Migration(2, "API keys and their usage", _statements(*API_KEY_TABLES)),
    Migration(3, "rejected content hashes, asset content hashes, job owners", _statements(*SECURITY_TABLES)),
    Migration(4, "asset creators, upload URL requesters", _statements(*CREATOR_TABLES)),
    Migration(5, "API key caps: most pixels and steps per request", _statements(*KEY_CAP_COLUMNS)),
    Migration(6, "identical generation requests", _statements(*REUSE_TABLES)),
)
LATEST = MIGRATIONS[-1].version


class SchemaTooNew(ConfigError):
    """The database was migrated by a newer imgedge: this one must not write to it."""


def applied_versions(conn: Connection) -> set[int]:
    return {int(row[0]) for row in conn.execute("SELECT version FROM schema_migrations").fetchall()}


def upgrade(database: Database) -> list[Migration]:
    """Applies what is missing, all or nothing; returns what it applied."""
    with database.schema_transaction() as db:
        db.execute(_VERSIONS_TABLE)
        applied = applied_versions(db)
        if applied and max(applied) > LATEST:
            raise SchemaTooNew(
                f"the database schema is at version {max(applied)}, newer than this imgedge knows "
                f"({LATEST}): upgrade imgedge"
            )
        missing = [m for m in MIGRATIONS if m.version not in applied]
        for migration in missing:
            migration.apply(db)
            db.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.name, time.time()),
            )
    return missing


def current_version(database: Database) -> int:
    """0 for a database no migration has touched."""
    with database.schema_transaction() as db:
        db.execute(_VERSIONS_TABLE)
        return max(applied_versions(db), default=0)
