"""What `imgedge db upgrade` and `imgedge migrate` do (their parsers are in commands.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from imgedge import common_settings as C
from imgedge.env import ConfigError
from imgedge.generator import settings as S
from imgedge.generator.config import storage_urls_from_env
from imgedge.generator.storage.blobs import open_blob_store
from imgedge.generator.storage.copy import VerificationFailed, copy_installation, verify
from imgedge.generator.storage.database import open_database
from imgedge.generator.storage.postgres import redacted
from imgedge.generator.storage.schema import LATEST, current_version, upgrade

# Secrets generated in a data dir, and the setting each must become once several hosts share the data.
GENERATED_SECRETS = {
    "signing.key": C.KEYS.name, "origin.token": C.ORIGIN_TOKEN.name, "admin.token": C.ADMIN_TOKEN.name,
    "upload.secret": S.UPLOAD_SECRET.name, "webhook.whsec": S.WEBHOOK_SECRET.name,
}  # fmt: skip


def _say(message: str) -> None:
    print(f"imgedge: {message}", file=sys.stderr, flush=True)


def run_db_upgrade(_: argparse.Namespace) -> int:
    database_url = storage_urls_from_env()[1]
    try:
        database = open_database(database_url, upgrade=False)
        before = current_version(database)
        applied = upgrade(database)
    except ConfigError as exc:
        _say(str(exc))
        return 1
    for migration in applied:
        print(f"applied {migration.version}: {migration.name}")
    state = f"upgraded from version {before} to" if applied else "already at"
    print(f"schema of {redacted(database_url)} {state} version {LATEST}")
    database.close()
    return 0


def run_migrate(args: argparse.Namespace) -> int:
    store_url, database_url = storage_urls_from_env()
    try:
        source = (open_blob_store(store_url), open_database(database_url))
        target = (open_blob_store(args.to_store), open_database(args.to_database))
    except ValueError as exc:  # a ConfigError too: settings, connections, schema
        _say(str(exc))
        return 1
    _say(f"copying {store_url} + {redacted(database_url)} → {args.to_store} + {redacted(args.to_database)}")
    try:
        report = copy_installation(source, target, _say)
        verify(source[1], target, report)
    except VerificationFailed as exc:
        _say(f"verification failed: {exc}")
        return 1
    finally:
        source[1].close()
        target[1].close()
    for asset_id in report.missing_originals:
        _say(
            f"asset {asset_id} has no original in the source (expired while copying?); its row was not copied"
        )
    rows = ", ".join(f"{table} {count}" for table, count in report.rows.items())
    print(f"copied rows: {rows}")
    print(
        f"originals: {report.blobs_copied} copied, {report.blobs_present} already there; "
        f"verified {report.verified} assets by count and content hash"
    )
    _remind_secrets(Path(C.DATA_DIR.read()))
    return 0


def _remind_secrets(data_dir: Path) -> None:
    generated = [(name, setting) for name, setting in GENERATED_SECRETS.items()
                 if (data_dir / "secrets" / name).exists()]  # fmt: skip
    for name, setting in generated:
        _say(
            f"set {setting} on every host to the value in {data_dir / 'secrets' / name}, so that what was "
            "signed with it stays valid"
        )
