"""PostgreSQL for assets, jobs, upload grants and API keys: `IMGEDGE_DATABASE_URL=postgresql://…`.

psycopg 3 (the maintained PostgreSQL driver) with its connection pool. The repositories' SQL is written with
SQLite's `?` placeholders; they are translated here, once per statement, so the SQL stays one text for both
engines and the Database protocol stays the only seam.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from imgedge import common_settings as C
from imgedge.env import ConfigError
from imgedge.generator.storage.errors import DatabaseUnavailable

if TYPE_CHECKING:
    from imgedge.generator.storage.database import Connection, Cursor

# Connections per process: the API's threads and the janitor, never more than a few at once each.
POOL_SIZE = 8
CONNECT_TIMEOUT_S = 5
# One advisory lock id for schema changes, the same in every imgedge process.
SCHEMA_LOCK = int.from_bytes(hashlib.sha256(b"imgedge:schema").digest()[:8], "big", signed=True)
_UNAVAILABLE = (psycopg.OperationalError, psycopg.InterfaceError, PoolTimeout)


@functools.lru_cache(maxsize=512)
def to_pyformat(sql: str) -> str:
    """`?` → `%s` outside string literals, `%` → `%%` everywhere (psycopg reads `%` as a placeholder)."""
    out: list[str] = []
    quoted = False
    for ch in sql:
        if ch == "'":
            quoted = not quoted  # an escaped '' toggles twice
        if ch == "%":
            out.append("%%")
        elif ch == "?" and not quoted:
            out.append("%s")
        else:
            out.append(ch)
    return "".join(out)


def redacted(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class _Translating:
    """A Connection over a psycopg connection; parameters always go as a tuple, so `%%` is always read."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> Cursor:
        return self._conn.execute(to_pyformat(sql), tuple(parameters))

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> Cursor:
        cursor = self._conn.cursor()
        cursor.executemany(to_pyformat(sql), [tuple(p) for p in parameters])
        return cursor


class PostgresDatabase:
    def __init__(self, url: str, *, pool_size: int = POOL_SIZE) -> None:
        self.url = url
        _check_reachable(url)
        self.pool = ConnectionPool(
            url, min_size=1, max_size=pool_size, open=True, timeout=30, name="imgedge",
            kwargs={"connect_timeout": CONNECT_TIMEOUT_S},
            # A connection broken by a server restart is found and replaced before a request gets it.
            check=ConnectionPool.check_connection,
        )  # fmt: skip

    @classmethod
    def from_url(cls, url: str) -> PostgresDatabase:
        return cls(url)

    @contextmanager
    def _unit_of_work(self, lock: bool) -> Iterator[Connection]:
        try:
            with self.pool.connection() as conn:
                db = _Translating(conn)
                if lock:
                    # Held until this transaction ends; every other migrating process waits for it.
                    db.execute("SELECT pg_advisory_xact_lock(?)", (SCHEMA_LOCK,))
                yield db
        except _UNAVAILABLE as exc:
            raise DatabaseUnavailable(f"database unavailable: {type(exc).__name__}") from None

    def transaction(self) -> AbstractContextManager[Connection]:
        return self._unit_of_work(lock=False)

    def schema_transaction(self) -> AbstractContextManager[Connection]:
        return self._unit_of_work(lock=True)

    def close(self) -> None:
        self.pool.close()


def _check_reachable(url: str) -> None:
    """One connection before the pool starts, so a bad URL stops the start with the driver's reason."""
    try:
        psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S).close()
    except psycopg.Error as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise ConfigError(f"{C.DATABASE_URL.name}: cannot connect to {redacted(url)}: {reason}") from None
