"""Facts about an original, for `/info` (and other dialects' info endpoints): its size and placeholders.

Computed once per asset from the original (through the source cache) and kept in the result cache with the
asset's tag, so every proxy sharing the cache shares it and a purge drops it with the variants.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from imgedge.cache.entry import Entry
from imgedge.cache.keys import asset_tag, facts_key
from imgedge.cache.tiered import TieredCache
from imgedge.imaging.placeholders import placeholders_from_bytes
from imgedge.origin_protocol import MODERATION_HEADER
from imgedge.proxy.render import Renderer
from imgedge.proxy.replies import moderation_of
from imgedge.proxy.sources import SourceRef

FACTS_NAME = "info-v1"


@dataclass(frozen=True, slots=True)
class AssetInfo:
    body: dict[str, object]  # the JSON document
    moderation: str

    @property
    def placeholders(self) -> dict[str, object]:
        found = self.body["placeholders"]
        assert isinstance(found, dict)
        return found


class InfoService:
    def __init__(self, renderer: Renderer, results: TieredCache, *, max_pixels: int) -> None:
        self.renderer = renderer
        self.results = results
        self.max_pixels = max_pixels

    async def info(self, ref: SourceRef) -> AssetInfo:
        key = facts_key(ref.cache_id, FACTS_NAME)
        cached, _ = await self.results.get(key)
        if cached is not None:
            return AssetInfo(json.loads(cached.body), moderation_of(cached))
        original = await self.renderer.original(ref)
        found = await self.renderer.pool.run(
            lambda: placeholders_from_bytes(original.data, max_pixels=self.max_pixels)
        )
        document = found.to_json()
        body: dict[str, object] = {
            "asset_id": ref.cache_id,
            "width": document.pop("width"),
            "height": document.pop("height"),
            "placeholders": document,
        }
        entry = Entry(
            body=json.dumps(body, separators=(",", ":")).encode(), media_type="application/json",
            etag=f'"{original.etag}-i"', tags=(asset_tag(ref.cache_id),), created_at=time.time(),
            headers=((MODERATION_HEADER, original.moderation),),
        )  # fmt: skip
        await self.results.put(key, entry, entry.tags)
        return AssetInfo(body, original.moderation)
