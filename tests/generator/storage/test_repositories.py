"""Every repository's SQL on both engines: assets, jobs, upload grants, placeholders, both outboxes, rejected
content hashes and job owners."""

from __future__ import annotations

from pathlib import Path

import pytest
import pyvips

from imgedge.generator.assets.canonical import Canonical
from imgedge.generator.assets.placeholders import PlaceholderRepository
from imgedge.generator.assets.records import Provenance
from imgedge.generator.assets.rejections import REJECTED_BEFORE, RejectedContent
from imgedge.generator.assets.repository import AssetRepository
from imgedge.generator.assets.store import AssetStore
from imgedge.generator.assets.upload_grants import UploadGrants
from imgedge.generator.errors import ApiError
from imgedge.generator.jobs.owners import JobOwners
from imgedge.generator.jobs.repository import JobRepository
from imgedge.generator.models.request import GenerationRequest
from imgedge.generator.outbound.purge_outbox import PurgeOutbox
from imgedge.generator.outbound.webhook_outbox import LEASE_S, WebhookOutbox
from imgedge.generator.storage.blobs import FilesystemBlobStore
from imgedge.generator.storage.database import Database
from imgedge.imaging.placeholders import Placeholders

REQUEST = GenerationRequest(prompt="p", width=64, height=64, seed=2**32 - 1, steps=2, guidance=7.3)


def canonical(n: int) -> Canonical:
    # A real PNG (the store computes placeholders from it); the id is fixed so the test can name it.
    png = bytes(pyvips.Image.black(64, 48).write_to_buffer(".png"))
    return Canonical(png=png, width=64, height=48, asset_id=f"{n:032x}")


def test_assets(database: Database, tmp_path: Path) -> None:
    store = AssetStore(FilesystemBlobStore(tmp_path / "o"), AssetRepository(database))
    provenance = Provenance(origin="generated", prompt="p", seed=2**32 - 1, steps=2, guidance=7.3)
    kept = store.put(canonical(1), provenance)
    assert kept.provenance == provenance and kept.temporary is False and kept.created_at > 1e9
    temporary = store.put(canonical(2), Provenance(), temporary=True, expires_at=10.0)
    assert temporary.temporary and temporary.expires_at == 10.0
    assert store.put(canonical(2), Provenance()).temporary is False  # a permanent copy makes it permanent
    store.put(canonical(3), Provenance(), temporary=True, expires_at=10.0)
    assert store.expired(now=11.0) == [f"{3:032x}"]
    assert store.set_moderation(kept.id, "pending", "look") and not store.set_moderation(
        kept.id, "pending", "x"
    )
    assert [r.id for r in store.list_by_moderation("pending")] == [kept.id]
    assert [r.id for r in store.recent("approved", 10)] == [f"{2:032x}"]
    assert store.delete(kept.id) and store.get(kept.id) is None and not store.delete(kept.id)


def test_jobs(database: Database) -> None:
    jobs = JobRepository(database)
    first, second, third = (jobs.create(REQUEST) for _ in range(3))
    jobs.set_status(first.id, "running")
    jobs.set_status(second.id, "done", asset_id="a" * 32)
    found = jobs.get(second.id)
    assert found is not None and found.status == "done" and found.request == REQUEST
    assert jobs.queued_ids() == [third.id]
    assert jobs.recover(capacity=1) == [third.id]
    recovered = jobs.get(first.id)
    assert recovered is not None and recovered.error == "interrupted by a restart"


def test_upload_grants(database: Database) -> None:
    grants = UploadGrants("secret", 60, database)
    token = grants.issue(temporary=True, review=True)
    grant = grants.claim(token)
    assert grant.temporary and grant.review
    with pytest.raises(ApiError) as again:
        grants.claim(token)
    assert again.value.status == 409
    grants.release(grant.upload_id)
    grants.claim(token)
    grants.complete(grant.upload_id, "b" * 32)


async def test_purge_outbox(database: Database) -> None:
    outbox = PurgeOutbox(database)
    outbox.add("a")
    outbox.add("b")
    outbox.add("a")
    tried: list[str] = []

    async def purge(asset_id: str) -> bool:
        tried.append(asset_id)
        return asset_id == "a"

    assert await outbox.flush(purge, now=100.0) == 1
    assert sorted(tried) == ["a", "b"] and outbox.pending() == ["b"]
    assert await outbox.flush(purge, now=101.0) == 1  # "b" waits for its backoff
    assert sorted(tried) == ["a", "b"]


def test_placeholders_and_the_webhook_outbox(database: Database) -> None:
    rows = PlaceholderRepository(database)
    found = Placeholders("3OcRJYB4d3h/iIeHeEh3eIhw", "LEHV6nWB2yk8", "#102030", "#405060", "data:,", 64, 48)
    rows.put("a" * 32, found)
    rows.put("a" * 32, found)  # written once
    assert rows.get("a" * 32, 64, 48) == found and rows.get("b" * 32, 64, 48) is None
    outbox = WebhookOutbox(database)
    delivery = outbox.add("https://hooks.example/x", b'{"n": 1}', now=100.0)
    assert outbox.claim_due(now=100.0) == []  # its creator holds it while trying
    assert [d.id for d in outbox.claim_due(now=100.0 + LEASE_S)] == [delivery.id]
    outbox.finish(delivery.id)
    assert outbox.pending() == 0


def test_rejected_content_and_job_owners(database: Database, tmp_path: Path) -> None:
    rejections = RejectedContent(database)
    rejections.record("a" * 32, "h1")
    rejections.record("a" * 32, "h2")  # an asset's content never changes: the first stays
    rejections.record("b" * 32, "h1")
    assert rejections.content_of("a" * 32) == "h1" and rejections.content_of("c" * 32) is None
    assert sorted(rejections.assets_with("h1")) == ["a" * 32, "b" * 32]
    rejections.reject("h1", "no")
    rejections.reject("h1", "again")
    assert rejections.is_rejected("h1") and not rejections.is_rejected("h2")
    rejections.forget("a" * 32)
    assert rejections.assets_with("h1") == ["b" * 32] and rejections.is_rejected("h1")
    rejections.forgive("h1")
    assert not rejections.is_rejected("h1")
    # Through the store: a rejected picture stays rejected under a new record.
    store = AssetStore(FilesystemBlobStore(tmp_path / "o"), AssetRepository(database))
    record = store.put(canonical(5), Provenance(origin="upload"))
    assert store.set_moderation(record.id, "rejected", "not this") and store.delete(record.id)
    assert store.put(canonical(5), Provenance(origin="upload")).moderation_reason == REJECTED_BEFORE

    jobs, owners = JobRepository(database), JobOwners(database)
    first, second, other = (jobs.create(REQUEST) for _ in range(3))
    for job, owner in ((first, "anon:198.51.100.1"), (second, "anon:198.51.100.1"), (other, "key:k1")):
        owners.record(job.id, owner)
    owners.record(first.id, "key:k1")  # a job's owner never changes
    assert owners.active("anon:198.51.100.1") == 2 and owners.active("key:k1") == 1
    jobs.set_status(first.id, "running")
    jobs.set_status(second.id, "done", asset_id="a" * 32)
    assert owners.active("anon:198.51.100.1") == 1 and owners.active("nobody") == 0
