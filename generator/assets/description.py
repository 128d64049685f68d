"""An asset as the API and webhooks describe it: metadata, provenance, moderation, ready transform URLs."""

from __future__ import annotations

from collections.abc import Callable

from imgedge.generator.assets.records import AssetRecord
from imgedge.generator.assets.store import AssetStore
from imgedge.generator.errors import ApiError
from imgedge.generator.outbound.transform_urls import TransformUrls
from imgedge.imaging.placeholders import Placeholders


def describe_record(
    record: AssetRecord, urls: TransformUrls | None, placeholders: Placeholders | None = None
) -> dict[str, object]:
    p = record.provenance
    return {
        "asset_id": record.id,
        "width": record.width,
        "height": record.height,
        "bytes": record.bytes,
        "content_type": record.content_type,
        "created_at": record.created_at,
        "temporary": record.temporary,
        "expires_at": record.expires_at,
        "moderation": {"state": record.moderation, "reason": record.moderation_reason},
        "provenance": {
            "origin": p.origin, "model": p.model, "model_hash": p.model_hash, "prompt": p.prompt,
            "negative_prompt": p.negative_prompt, "seed": p.seed, "steps": p.steps, "guidance": p.guidance,
            "scheduler": p.scheduler, "software": p.software,
            "digital_source_type": "trainedAlgorithmicMedia" if p.origin == "generated" else None,
        },
        "original_url": f"/originals/{record.id}",
        "transforms": urls.describe(record.id, record.width) if urls is not None else None,
        "prompt_url": urls.prompt_url(record) if urls is not None else None,
        "placeholders": _placeholders(placeholders),
    }  # fmt: skip


def _placeholders(found: Placeholders | None) -> dict[str, object] | None:
    if found is None:
        return None
    document = found.to_json()
    del document["width"], document["height"]  # the asset's own, given above
    return document


class AssetDescriber:
    def __init__(self, store: AssetStore, urls: TransformUrls | None) -> None:
        self.store = store
        self.urls = urls

    def record(self, record: AssetRecord) -> dict[str, object]:
        """Blocking for an asset stored before placeholders were: they are computed on first use."""
        return describe_record(record, self.urls, self.store.placeholders(record))

    def by_id(self, asset_id: str, visible: Callable[[AssetRecord], bool] | None = None) -> dict[str, object]:
        """`visible`: whether the asking caller may see this record; one it may not is "not found" too."""
        record = self.store.get(asset_id)
        if record is None or (visible is not None and not visible(record)):
            raise ApiError(404, "asset not found")
        return describe_record(record, self.urls, self.store.placeholders(record))
