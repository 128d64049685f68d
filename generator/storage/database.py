"""All SQL goes through one Database: it owns connecting, the unit of work and the schema.

Repositories (assets, jobs, upload grants, purge outbox, API keys) receive a Database, never a file path or
a URL; DATABASES picks the implementation by URL scheme (docs/architecture.md). SQL is written once, with `?`
placeholders and statements both engines accept; PostgreSQL's driver gets them translated (postgres.py).
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from imgedge.generator.storage import schema
from imgedge.generator.storage.postgres import PostgresDatabase
from imgedge.generator.storage.urls import path_from_url

log = logging.getLogger("imgedge.generator")


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...
    @property
    def description(self) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


class Connection(Protocol):
    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Cursor: ...
    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> Cursor: ...


class Database(Protocol):
    def transaction(self) -> AbstractContextManager[Connection]:
        """One unit of work: commits when the block ends, rolls back when it raises."""
        ...

    def schema_transaction(self) -> AbstractContextManager[Connection]:
        """A unit of work that holds the schema lock: one process at a time, across every host."""
        ...

    def close(self) -> None: ...


class DatabaseClass(Protocol):
    def from_url(self, url: str) -> Database:
        """Connects (a ConfigError naming the setting when it cannot); leaves the schema to open_database."""
        ...


def ensure_schema(database: Database) -> None:
    """What every start does: the missing migrations, if any, under the schema lock."""
    applied = schema.upgrade(database)
    if applied:
        log.info("database schema upgraded to version %d", applied[-1].version)


def _switch_to_wal(conn: sqlite3.Connection, *, attempts: int = 50) -> None:
    # Several processes opening a new database at once race to switch it to WAL; SQLite can refuse the
    # switch with "database is locked" without waiting on its busy timeout (seen once in the test of six
    # services starting together), so it is retried for a few seconds.
    for attempt in range(attempts):
        try:
            conn.execute("PRAGMA journal_mode=WAL").fetchall()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.1)


class SqliteDatabase:
    """One SQLite file in WAL mode: readers never wait for the writer, and every process on the machine
    (API, workers, CLI) shares it. A connection per unit of work keeps threads from sharing one."""

    def __init__(self, path: Path, *, upgrade: bool = True) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        # Held open, unused, for the life of this object: when the last connection to a WAL database closes,
        # SQLite checkpoints and removes the WAL, which would make every unit of work pay two more fsyncs
        # (measured here: 21-28 ms per small write transaction without it, 8 ms with it).
        self._keeper: sqlite3.Connection | None = sqlite3.connect(path, timeout=30, check_same_thread=False)
        _switch_to_wal(self._keeper)
        # A connection holds the WAL open only once it has read through it; read to the end, so that no
        # statement is left pinning a snapshot (the WAL could never be checkpointed then).
        self._keeper.execute("SELECT COUNT(*) FROM sqlite_master").fetchall()
        if upgrade:
            try:
                ensure_schema(self)
            except BaseException:
                self.close()
                raise

    @classmethod
    def from_url(cls, url: str) -> SqliteDatabase:
        return cls(path_from_url(url), upgrade=False)

    def _connect(self, *, autocommit: bool = False) -> sqlite3.Connection:
        if autocommit:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        else:
            conn = sqlite3.connect(self.path, timeout=30)
        conn.execute("PRAGMA busy_timeout = 30000")
        return conn

    @contextmanager
    def _unit_of_work(self) -> Iterator[sqlite3.Connection]:
        conn = self._connect()
        try:
            with conn:
                yield conn
        finally:
            conn.close()

    def transaction(self) -> AbstractContextManager[Connection]:
        return self._unit_of_work()

    @contextmanager
    def _exclusive(self) -> Iterator[sqlite3.Connection]:
        # BEGIN IMMEDIATE takes SQLite's write lock before the first read, so a second process migrating at
        # the same moment waits here and then finds the work done.
        conn = self._connect(autocommit=True)
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            conn.close()

    def schema_transaction(self) -> AbstractContextManager[Connection]:
        return self._exclusive()

    def close(self) -> None:
        if self._keeper is not None:
            self._keeper.close()
            self._keeper = None


# URL scheme → implementation.
DATABASES: dict[str, DatabaseClass] = {
    "sqlite": SqliteDatabase,
    "postgresql": PostgresDatabase,
    "postgres": PostgresDatabase,
}


def open_database(url: str, *, upgrade: bool = True) -> Database:
    scheme = urlsplit(url).scheme
    if scheme not in DATABASES:
        raise ValueError(f"no database for {scheme or 'a URL without a scheme'}: {url!r}")
    database = DATABASES[scheme].from_url(url)
    if upgrade:
        try:
            ensure_schema(database)
        except BaseException:
            # A schema too new, or a server gone mid-migration: the start stops, and the pool's threads too.
            database.close()
            raise
    return database
