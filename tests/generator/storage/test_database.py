from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from imgedge.generator.storage.database import SqliteDatabase, open_database
from imgedge.generator.storage.schema import ADDED_COLUMNS
from imgedge.generator.storage.urls import path_from_url, sqlite_url


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_one_place_creates_every_table_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "imgedge.sqlite3"
    SqliteDatabase(path)
    assert tables(path) == {
        "assets", "jobs", "uploads", "purges", "asset_placeholders", "webhook_deliveries", "rejected_content",
        "asset_content", "job_owners", "request_keys",
    }  # fmt: skip
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_an_old_assets_table_gains_the_added_columns(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE assets (id TEXT PRIMARY KEY, width INTEGER NOT NULL)")
        conn.execute("INSERT INTO assets (id, width) VALUES ('x', 7)")
    SqliteDatabase(path)
    SqliteDatabase(path)  # a second start finds nothing left to add
    with sqlite3.connect(path) as conn:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(assets)")}
        assert set(ADDED_COLUMNS["assets"]) <= columns
        assert conn.execute("SELECT width FROM assets WHERE id = 'x'").fetchone() == (7,)


def test_a_transaction_commits_or_rolls_back_as_a_whole(tmp_path: Path) -> None:
    database = SqliteDatabase(tmp_path / "db.sqlite3")
    with database.transaction() as db:
        db.execute("INSERT INTO purges (asset_id, attempts, next_at) VALUES ('kept', 0, 0)")
    with pytest.raises(RuntimeError), database.transaction() as db:
        db.execute("INSERT INTO purges (asset_id, attempts, next_at) VALUES ('lost', 0, 0)")
        raise RuntimeError("half-way")
    with database.transaction() as db:
        assert db.execute("SELECT asset_id FROM purges").fetchall() == [("kept",)]


def test_databases_are_opened_by_url(tmp_path: Path) -> None:
    path = tmp_path / "with space" / "imgedge.sqlite3"
    url = sqlite_url(path)
    assert url.startswith("sqlite:///") and path_from_url(url) == path
    database = open_database(url)
    assert isinstance(database, SqliteDatabase) and database.path == path
    with pytest.raises(ValueError, match="postgresql"):
        open_database("postgresql://db.internal/imgedge")
