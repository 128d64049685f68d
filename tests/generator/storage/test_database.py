"""The Database seam on both engines: SQLite in a file, PostgreSQL in a throwaway cluster."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from imgedge.env import ConfigError
from imgedge.generator.storage.database import Database, SqliteDatabase, open_database
from imgedge.generator.storage.postgres import PostgresDatabase, redacted, to_pyformat
from imgedge.generator.storage.schema import ADDED_COLUMNS, LATEST, MIGRATIONS, SchemaTooNew, current_version
from imgedge.generator.storage.urls import path_from_url, sqlite_url
from tests.engines.postgres import PostgresServer

TABLES = (
    "assets", "jobs", "uploads", "purges", "asset_placeholders", "webhook_deliveries",
    "api_keys", "api_key_usage", "rejected_content", "asset_content", "job_owners", "asset_creators",
    "request_keys",
)  # fmt: skip


def versions(database: Database) -> list[tuple[int, str]]:
    with database.transaction() as db:
        rows = db.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
    return [(int(r[0]), r[1]) for r in rows]


def test_every_table_is_made_by_numbered_migrations(database: Database) -> None:
    assert versions(database) == [(m.version, m.name) for m in MIGRATIONS]
    assert current_version(database) == LATEST
    with database.transaction() as db:
        for table in TABLES:
            db.execute(f"SELECT * FROM {table} LIMIT 0")


def test_a_transaction_commits_or_rolls_back_as_a_whole(database: Database) -> None:
    with database.transaction() as db:
        db.execute("INSERT INTO purges (asset_id, attempts, next_at) VALUES ('kept', 0, 0)")
    with pytest.raises(RuntimeError), database.transaction() as db:
        db.execute("INSERT INTO purges (asset_id, attempts, next_at) VALUES ('lost', 0, 0)")
        raise RuntimeError("half-way")
    with database.transaction() as db:
        assert [tuple(r) for r in db.execute("SELECT asset_id FROM purges").fetchall()] == [("kept",)]


def test_one_sql_text_runs_on_both(database: Database) -> None:
    with database.transaction() as db:
        db.executemany(
            "INSERT INTO jobs (id, status, request, created_at, updated_at) VALUES (?, ?, '?%', ?, ?)",
            [("a", "queued", 1.5, 1.5), ("b", "done", 2**32 - 1 + 0.25, 3.0)],
        )
        rows = db.execute(
            "SELECT id, request, created_at FROM jobs WHERE request LIKE '?%' AND status != ? ORDER BY id",
            ("failed",),
        ).fetchall()
        # Timestamps keep their fractions (DOUBLE PRECISION, not PostgreSQL's 4-byte REAL).
        assert [tuple(r) for r in rows] == [("a", "?%", 1.5), ("b", "?%", 2**32 - 1 + 0.25)]
        db.execute(
            "INSERT INTO assets (id, width, height, bytes, content_type, origin, seed, created_at)"
            " VALUES (?, 1, 1, 1, 'image/png', 'generated', ?, 0)",
            ("s", 2**32 - 1),
        )
        assert db.execute("SELECT seed FROM assets WHERE id = ?", ("s",)).fetchone()[0] == 2**32 - 1


def test_services_starting_together_apply_each_migration_once(database_url: str) -> None:
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def start() -> None:
        try:
            barrier.wait()
            open_database(database_url).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    database = open_database(database_url, upgrade=False)
    assert versions(database) == [(m.version, m.name) for m in MIGRATIONS]
    database.close()


def test_a_schema_newer_than_the_code_stops_the_start(database: Database, database_url: str) -> None:
    with database.transaction() as db:
        db.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future', 0)", (LATEST + 1,)
        )
    threads = threading.active_count()
    with pytest.raises(SchemaTooNew, match="upgrade imgedge"):
        open_database(database_url)
    assert threading.active_count() == threads  # the refused database's pool is closed, not left to the GC


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "imgedge.sqlite3"
    SqliteDatabase(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_sqlite_keeps_its_wal_between_units_of_work(tmp_path: Path) -> None:
    database = SqliteDatabase(tmp_path / "db.sqlite3")
    for n in range(3):
        with database.transaction() as db:
            db.execute("INSERT INTO purges (asset_id, attempts, next_at) VALUES (?, 0, 0)", (str(n),))
    # Had each unit of work closed the last connection, SQLite would checkpoint and remove the WAL every
    # time (two more fsyncs per write); the database's own idle connection keeps it until close().
    assert (tmp_path / "db.sqlite3-wal").stat().st_size > 0
    database.close()
    assert not (tmp_path / "db.sqlite3-wal").exists()


def test_a_data_dir_from_before_migrations_is_brought_up_to_date(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE assets (id TEXT PRIMARY KEY, width INTEGER NOT NULL)")
        conn.execute("INSERT INTO assets (id, width) VALUES ('x', 7)")
    SqliteDatabase(path)
    SqliteDatabase(path)  # a second start finds nothing left to do
    with sqlite3.connect(path) as conn:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(assets)")}
        assert set(ADDED_COLUMNS["assets"]) <= columns
        assert conn.execute("SELECT width FROM assets WHERE id = 'x'").fetchone() == (7,)
        applied = [r[0] for r in conn.execute("SELECT version FROM schema_migrations")]
        assert applied == [m.version for m in MIGRATIONS]


def test_a_data_dir_with_tables_from_before_migrations_keeps_their_rows(tmp_path: Path) -> None:
    # What imgedge made before versioned migrations: every table created if missing, REAL timestamps.
    path = tmp_path / "older.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE rejected_content"
            " (content_hash TEXT PRIMARY KEY, reason TEXT, rejected_at REAL NOT NULL)"
        )
        conn.execute("CREATE TABLE job_owners (job_id TEXT PRIMARY KEY, owner TEXT NOT NULL)")
        conn.execute("INSERT INTO rejected_content VALUES ('h', 'no', 1.5)")
        conn.execute("INSERT INTO job_owners VALUES ('j', 'anon:198.51.100.1')")
    database = SqliteDatabase(path)
    with database.transaction() as db:
        assert tuple(db.execute("SELECT * FROM rejected_content").fetchone()) == ("h", "no", 1.5)
        assert db.execute("SELECT owner FROM job_owners").fetchone()[0] == "anon:198.51.100.1"
        db.execute("SELECT asset_id, content_hash FROM asset_content LIMIT 0")
    assert current_version(database) == LATEST
    database.close()


def test_databases_are_opened_by_url(tmp_path: Path, postgres: PostgresServer) -> None:
    path = tmp_path / "with space" / "imgedge.sqlite3"
    url = sqlite_url(path)
    assert url.startswith("sqlite:///") and path_from_url(url) == path
    database = open_database(url)
    assert isinstance(database, SqliteDatabase) and database.path == path
    server = open_database(postgres.create_database())
    assert isinstance(server, PostgresDatabase)
    server.close()
    with pytest.raises(ValueError, match="no database for mysql"):
        open_database("mysql://db.internal/imgedge")


def test_an_unreachable_or_refusing_server_stops_the_start_naming_the_setting(
    postgres: PostgresServer,
) -> None:
    url = postgres.create_database()
    with pytest.raises(
        ConfigError, match=r"IMGEDGE_DATABASE_URL: cannot connect.*password authentication failed"
    ) as bad:
        open_database(url.replace(":imgedge-test-password@", ":wrong@"))
    assert "wrong" not in str(bad.value)  # the password never reaches a log
    with pytest.raises(ConfigError, match=r"IMGEDGE_DATABASE_URL: cannot connect.*refused"):
        open_database("postgresql://imgedge:secret@127.0.0.1:9/imgedge")


def test_placeholders_are_translated_outside_literals_only() -> None:
    assert to_pyformat("SELECT ? , '?', 'it''s ?', x LIKE 'a%' WHERE y = ?") == (
        "SELECT %s , '?', 'it''s ?', x LIKE 'a%%' WHERE y = %s"
    )
    assert redacted("postgresql://u:p@h:5/db") == "postgresql://u:***@h:5/db"
