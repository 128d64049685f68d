"""`imgedge migrate`: copy an installation's originals and metadata into other backends, then verify.

Safe to interrupt and run again: each original is written before its row (a row never points at missing
bytes), blobs already in the target are skipped, rows are upserted by primary key, and the source is only
read. Verification counts the assets on both sides and checks every copied original against its id, which
is its content hash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from imgedge.generator.assets.canonical import ASSET_ID_HEX
from imgedge.generator.storage.blobs import BlobNotFound, BlobStore
from imgedge.generator.storage.database import Database

# Every table with rows worth keeping, and its primary key; schema_migrations belongs to each database.
TABLE_KEYS: dict[str, tuple[str, ...]] = {
    "assets": ("id",),
    "jobs": ("id",),
    "uploads": ("id",),
    "purges": ("asset_id",),
    "asset_placeholders": ("asset_id",),
    "webhook_deliveries": ("id",),
    "api_keys": ("id",),
    "api_key_usage": ("key_id", "period"),
    "rejected_content": ("content_hash",),
    "asset_content": ("asset_id",),
    "job_owners": ("job_id",),
    "asset_creators": ("asset_id", "creator"),
    "request_keys": ("request_key",),
}
BATCH = 200

Progress = Callable[[str], None]


class VerificationFailed(RuntimeError):
    pass


@dataclass(slots=True)
class CopyReport:
    rows: dict[str, int] = field(default_factory=dict)
    blobs_copied: int = 0
    blobs_present: int = 0
    missing_originals: list[str] = field(default_factory=list)
    verified: int = 0


def content_matches(asset_id: str, data: bytes) -> bool:
    return hashlib.sha256(data).hexdigest()[:ASSET_ID_HEX] == asset_id


def _columns(db: Database, table: str) -> list[str]:
    with db.transaction() as conn:
        return [column[0] for column in conn.execute(f"SELECT * FROM {table} LIMIT 0").description]


def _upsert(table: str, columns: Sequence[str]) -> str:
    keys = TABLE_KEYS[table]
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in keys)
    # A table that is all key (asset_creators) has nothing to update: the row is there or it is not.
    action = f"DO UPDATE SET {updates}" if updates else "DO NOTHING"
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        f" ON CONFLICT ({', '.join(keys)}) {action}"
    )


def _pages(db: Database, table: str, columns: Sequence[str]) -> Any:
    """Rows in primary-key order, a batch at a time (keyset paging: no offset to drift)."""
    keys = TABLE_KEYS[table]
    order = ", ".join(keys)
    after: tuple[Any, ...] | None = None
    while True:
        where = f" WHERE ({order}) > ({', '.join('?' * len(keys))})" if after is not None else ""
        with db.transaction() as conn:
            rows = conn.execute(
                f"SELECT {', '.join(columns)} FROM {table}{where} ORDER BY {order} LIMIT {BATCH}", after or ()
            ).fetchall()
        if not rows:
            return
        yield [tuple(row) for row in rows]
        after = tuple(rows[-1][columns.index(k)] for k in keys)


def _copy_blobs(
    rows: list[tuple[Any, ...]], source: BlobStore, target: BlobStore, report: CopyReport
) -> list[Any]:
    """Copies the originals of these asset rows; returns the rows whose original exists."""
    kept = []
    for row in rows:
        asset_id = row[0]
        if target.exists(asset_id):
            report.blobs_present += 1
        else:
            try:
                data = source.get(asset_id)
            except BlobNotFound:
                report.missing_originals.append(asset_id)
                continue
            if not content_matches(asset_id, data):
                raise VerificationFailed(f"original {asset_id} in the source does not match its id")
            target.put(asset_id, data)
            report.blobs_copied += 1
        kept.append(row)
    return kept


def copy_installation(
    source: tuple[BlobStore, Database], target: tuple[BlobStore, Database], progress: Progress
) -> CopyReport:
    (source_blobs, source_db), (target_blobs, target_db) = source, target
    report = CopyReport()
    for table in TABLE_KEYS:
        keys, wanted = TABLE_KEYS[table], set(_columns(target_db, table))
        # The key first: _copy_blobs reads an asset's id from the front of its row.
        columns = [*keys, *(c for c in _columns(source_db, table) if c in wanted and c not in keys)]
        copied = 0
        for rows in _pages(source_db, table, columns):
            if table == "assets":
                rows = _copy_blobs(rows, source_blobs, target_blobs, report)
            with target_db.transaction() as conn:
                conn.executemany(_upsert(table, columns), rows)
            copied += len(rows)
            progress(f"{table}: {copied} rows copied")
        report.rows[table] = copied
    return report


def verify(source_db: Database, target: tuple[BlobStore, Database], report: CopyReport) -> None:
    """Every source asset (that had its original) is in the target, with bytes that hash to its id."""
    target_blobs, target_db = target
    skipped = set(report.missing_originals)
    for rows in _pages(source_db, "assets", ["id"]):
        ids = [row[0] for row in rows if row[0] not in skipped]
        if not ids:
            continue
        with target_db.transaction() as conn:
            marks = ", ".join("?" * len(ids))
            present = {
                r[0] for r in conn.execute(f"SELECT id FROM assets WHERE id IN ({marks})", ids).fetchall()
            }
        if missing := [i for i in ids if i not in present]:
            raise VerificationFailed(
                f"{len(missing)} assets missing from the target database, e.g. {missing[0]}"
            )
        for asset_id in ids:
            if not content_matches(asset_id, target_blobs.get(asset_id)):
                raise VerificationFailed(f"original {asset_id} in the target does not match its id")
            report.verified += 1
