"""All SQL goes through one Database: it owns connecting, the unit of work and the schema.

Repositories (assets, jobs, upload grants, purge outbox) receive a Database, never a file path, so a server
database can take SQLite's place by adding a row to DATABASES; see docs/architecture.md. SQL is written with
`?` placeholders and portable statements; SQLite-only statements stay in this module.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from imgedge.generator.storage.schema import apply_schema
from imgedge.generator.storage.urls import path_from_url


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


class DatabaseClass(Protocol):
    def from_url(self, url: str) -> Database: ...


class SqliteDatabase:
    """One SQLite file in WAL mode: readers never wait for the writer, and every process on the machine
    (API, workers, CLI) shares it. A connection per unit of work keeps threads from sharing one."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = self._connect()
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            with conn:
                apply_schema(conn)
        finally:
            conn.close()

    @classmethod
    def from_url(cls, url: str) -> SqliteDatabase:
        return cls(path_from_url(url))

    def _connect(self) -> sqlite3.Connection:
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


# URL scheme → implementation: where a server database plugs in.
DATABASES: dict[str, DatabaseClass] = {"sqlite": SqliteDatabase}


def open_database(url: str) -> Database:
    scheme = urlsplit(url).scheme
    if scheme not in DATABASES:
        raise ValueError(f"no database for {scheme or 'a URL without a scheme'}: {url!r}")
    return DATABASES[scheme].from_url(url)
