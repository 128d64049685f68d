"""Canonical originals: their bytes in a BlobStore under the asset id, their metadata in the assets table."""

from __future__ import annotations

import time

from imgedge.generator.assets.canonical import Canonical
from imgedge.generator.assets.content_hash import content_hash
from imgedge.generator.assets.creators import AssetCreators
from imgedge.generator.assets.placeholders import PlaceholderRepository, compute
from imgedge.generator.assets.records import AssetRecord, Provenance, check_moderation_state, valid_asset_id
from imgedge.generator.assets.rejections import REJECTED_BEFORE, RejectedContent
from imgedge.generator.assets.repository import AssetRepository
from imgedge.generator.storage.blobs import BlobNotFound, BlobStore
from imgedge.imaging.errors import ImagingError
from imgedge.imaging.placeholders import Placeholders

CANONICAL_CONTENT_TYPE = "image/png"


class AssetStore:
    def __init__(
        self,
        blobs: BlobStore,
        records: AssetRepository,
        placeholders: PlaceholderRepository | None = None,
        *,
        max_pixels: int = 50_000_000,
    ) -> None:
        self.blobs = blobs
        self.records = records
        self.placeholder_rows = placeholders or PlaceholderRepository(records.database)
        self.max_pixels = max_pixels
        self.rejections = RejectedContent(records.database)
        self.creators = AssetCreators(records.database)

    def put(
        self,
        canonical: Canonical,
        provenance: Provenance,
        *,
        moderation: str = "approved",
        temporary: bool = False,
        expires_at: float | None = None,
        moderation_reason: str | None = None,
    ) -> AssetRecord:
        """Idempotent: the same pixels give the same id, and a second put keeps the first record. A new record
        of a picture that was rejected before is rejected from the start.

        One exception: storing a permanent copy of an asset that only exists as a temporary one makes it
        permanent, or the janitor would delete an asset somebody asked to keep.
        """
        check_moderation_state(moderation)
        content = content_hash(canonical.png)
        if self.rejections.is_rejected(content):
            moderation, moderation_reason = "rejected", REJECTED_BEFORE
        elif moderation == "rejected":
            self.rejections.reject(content, moderation_reason)
        self.rejections.record(canonical.asset_id, content)
        # Bytes before the row: a crash in between leaves an orphan blob, never a row without bytes.
        if not self.blobs.exists(canonical.asset_id):
            self.blobs.put(canonical.asset_id, canonical.png)
        if self.placeholder_rows.get(canonical.asset_id, canonical.width, canonical.height) is None:
            self.placeholder_rows.put(canonical.asset_id, compute(canonical.png, self.max_pixels))
        self.records.insert_unless_present(
            AssetRecord(
                id=canonical.asset_id, width=canonical.width, height=canonical.height,
                bytes=len(canonical.png), content_type=CANONICAL_CONTENT_TYPE, moderation=moderation,
                temporary=temporary, created_at=time.time(), provenance=provenance,
                moderation_reason=moderation_reason, expires_at=expires_at if temporary else None,
            )
        )  # fmt: skip
        record = self.records.get(canonical.asset_id)
        assert record is not None
        return record

    def get(self, asset_id: str) -> AssetRecord | None:
        if not valid_asset_id(asset_id):
            return None
        return self.records.get(asset_id)

    def placeholders(self, record: AssetRecord) -> Placeholders | None:
        """Stored with the asset; computed now for an asset stored before placeholders were (blocking)."""
        found = self.placeholder_rows.get(record.id, record.width, record.height)
        if found is not None:
            return found
        try:
            found = compute(self.blobs.get(record.id), self.max_pixels)
        except (BlobNotFound, ImagingError):
            return None
        self.placeholder_rows.put(record.id, found)
        return found

    def read(self, asset_id: str) -> bytes:
        """Raises BlobNotFound, e.g. when a temporary asset expired after its record was read."""
        return self.blobs.get(asset_id)

    def set_moderation(self, asset_id: str, state: str, reason: str | None = None) -> bool:
        """An administrator's decision, which the picture keeps beyond this record (rejections.py)."""
        content = self.rejections.content_of(asset_id) or self._content_from_blob(asset_id)
        if content is not None and state == "rejected":
            self.rejections.reject(content, reason)
        elif content is not None and state == "approved":
            self.rejections.forgive(content)
        return self.records.set_moderation(asset_id, state, reason)

    def same_content(self, asset_id: str) -> list[str]:
        """Other assets holding the same picture (a generated original and its upload, say)."""
        content = self.rejections.content_of(asset_id)
        if content is None:
            return []
        return [other for other in self.rejections.assets_with(content) if other != asset_id]

    def _content_from_blob(self, asset_id: str) -> str | None:
        # Assets stored before content hashes were kept.
        try:
            content = content_hash(self.blobs.get(asset_id))
        except (BlobNotFound, ValueError):
            return None
        self.rejections.record(asset_id, content)
        return content

    def expired(self, now: float, limit: int = 100) -> list[str]:
        return self.records.expired(now, limit)

    def delete(self, asset_id: str) -> bool:
        """Row first, then bytes: a crash in between leaves an orphan blob, never a row without bytes."""
        deleted = self.records.delete(asset_id)
        self.placeholder_rows.delete(asset_id)
        self.blobs.delete(asset_id)
        self.rejections.forget(asset_id)
        self.creators.forget(asset_id)
        return deleted

    def list_by_moderation(self, state: str, limit: int = 100) -> list[AssetRecord]:
        return self.records.by_moderation(state, limit)

    def recent(self, state: str, limit: int) -> list[AssetRecord]:
        return self.records.recent_permanent(state, limit)
