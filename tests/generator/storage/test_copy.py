"""`imgedge migrate`: a data dir (files + SQLite) into S3 + PostgreSQL, interrupted and run again."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import pyvips

from imgedge.generator.assets.canonical import Canonical, asset_id_for
from imgedge.generator.assets.records import Provenance
from imgedge.generator.assets.repository import AssetRepository
from imgedge.generator.assets.store import AssetStore
from imgedge.generator.jobs.owners import JobOwners
from imgedge.generator.jobs.repository import JobRepository
from imgedge.generator.keys.repository import ApiKeyRepository
from imgedge.generator.models.request import GenerationRequest
from imgedge.generator.storage.blobs import BlobStore, FilesystemBlobStore, open_blob_store
from imgedge.generator.storage.copy import copy_installation
from imgedge.generator.storage.database import SqliteDatabase, open_database
from tests.engines.postgres import PostgresServer
from tests.engines.s3 import S3Server

ASSETS = 7


def canonical(n: int) -> Canonical:
    png = bytes(pyvips.Image.black(8 + n, 8).write_to_buffer(".png"))
    return Canonical(png=png, width=8 + n, height=8, asset_id=asset_id_for(png))


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """An installation as `make run` leaves it: originals on disk, metadata in SQLite, a key, a job."""
    data = tmp_path / "data"
    database = SqliteDatabase(data / "imgedge.sqlite3")
    store = AssetStore(FilesystemBlobStore(data / "originals"), AssetRepository(database))
    for n in range(ASSETS):
        store.put(
            canonical(n), Provenance(origin="generated", prompt=f"p{n}", seed=2**32 - 1 - n, guidance=7.3)
        )
    store.set_moderation(canonical(0).asset_id, "rejected", "not this")  # a rejection kept by content hash
    job = JobRepository(database).create(
        GenerationRequest(prompt="p", width=64, height=64, seed=1, steps=2, guidance=2.0)
    )
    JobOwners(database).record(job.id, "anon:198.51.100.1")
    store.creators.record(canonical(1).asset_id, "key:0123456789ab")
    ApiKeyRepository(database).create("site", rate_per_minute=60, daily_quota=None)
    return data


def migrate(env: dict[str, str], store: str, database: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "imgedge.cli", "migrate", "--to-store", store, "--to-database", database]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


class Interrupted(Exception):
    pass


class FailingAfter:
    """The target store, which dies after a few originals (a crash, a lost network)."""

    def __init__(self, inner: BlobStore, puts: int) -> None:
        self.inner, self.left = inner, puts

    def put(self, key: str, data: bytes) -> None:
        if self.left == 0:
            raise Interrupted
        self.left -= 1
        self.inner.put(key, data)

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


def test_an_interrupted_migration_run_again_loses_nothing(
    data_dir: Path, s3_server: S3Server, s3_bucket: str, postgres: PostgresServer
) -> None:
    store_url, database_url = f"s3://{s3_bucket}/originals", postgres.create_database()
    source = (
        FilesystemBlobStore(data_dir / "originals"),
        open_database(f"sqlite://{data_dir}/imgedge.sqlite3"),
    )
    target_db = open_database(database_url)
    with pytest.raises(Interrupted):
        copy_installation(source, (FailingAfter(open_blob_store(store_url), 3), target_db), lambda _: None)
    with target_db.transaction() as db:
        assert db.execute("SELECT COUNT(*) FROM assets").fetchone()[0] == 0  # no row without its bytes

    env = {k: v for k, v in os.environ.items() if not k.startswith("IMGEDGE_")}
    env |= {**s3_server.env(), "IMGEDGE_DATA_DIR": str(data_dir)}
    done = migrate(env, store_url, database_url)
    assert done.returncode == 0, done.stderr
    assert f"originals: {ASSETS - 3} copied, 3 already there; verified {ASSETS} assets" in done.stdout
    assert (
        "copied rows: assets 7, jobs 1, uploads 0, purges 0, asset_placeholders 7, webhook_deliveries 0,"
        " api_keys 1, api_key_usage 0, rejected_content 1, asset_content 7, job_owners 1, asset_creators 1,"
        " request_keys 0\n" in done.stdout
    )
    assert "IMGEDGE_KEYS" not in done.stderr  # this data dir generated no signing key: nothing to carry over
    again = migrate(env, store_url, database_url)
    assert again.returncode == 0 and f"0 copied, {ASSETS} already there" in again.stdout

    # What the services would now read: the same records and bytes, seeds past 2**31 intact.
    moved = AssetStore(open_blob_store(store_url), AssetRepository(target_db))
    original = AssetStore(source[0], AssetRepository(source[1]))
    for record in original.recent("approved", 100):
        assert moved.get(record.id) == record and moved.read(record.id) == original.read(record.id)
    assert ApiKeyRepository(target_db).all() == ApiKeyRepository(source[1]).all()
    # The rejection moved with the picture: a new record of it is rejected in the new backends too.
    moved.delete(canonical(0).asset_id)
    assert moved.put(canonical(0), Provenance(origin="upload")).moderation == "rejected"
    target_db.close()


def test_verification_fails_when_a_copied_original_does_not_match(
    data_dir: Path, s3_server: S3Server, s3_bucket: str, postgres: PostgresServer
) -> None:
    store_url, database_url = f"s3://{s3_bucket}/originals", postgres.create_database()
    tampered = canonical(0)
    open_blob_store(store_url).put(tampered.asset_id, b"not the original")
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMGEDGE_")}
    env |= {**s3_server.env(), "IMGEDGE_DATA_DIR": str(data_dir)}
    failed = migrate(env, store_url, database_url)
    assert failed.returncode == 1
    assert (
        f"verification failed: original {tampered.asset_id} in the target does not match its id"
        in failed.stderr
    )
