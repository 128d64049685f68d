"""A cache miss: original (through the source cache) → libvips in the bounded pool → a cache entry."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

import anyio

from cache.entry import Entry
from cache.keys import asset_tag, source_key
from cache.tiered import TieredCache
from proxy.config import ProxyConfig
from proxy.encode import MEDIA_TYPES
from proxy.errors import Forbidden
from proxy.http_headers import variant_cache_control
from proxy.options.spec import TransformSpec
from proxy.pipeline.run import transform
from proxy.sources import Source, SourceImage

MODERATION_HEADER = "x-imgedge-moderation"


@dataclass(slots=True)
class Renderer:
    config: ProxyConfig
    source: Source
    source_cache: TieredCache
    limiter: anyio.CapacityLimiter

    async def original(self, asset_id: str, timings: dict[str, float]) -> SourceImage:
        started = time.perf_counter()
        key = source_key(asset_id)
        cached, _ = await self.source_cache.get(key)
        if cached is not None:
            moderation = dict(cached.headers).get(MODERATION_HEADER, "approved")
            image = SourceImage(cached.body, cached.etag.strip('"'), moderation)
        else:
            image = await self.source.fetch(asset_id)
            entry = Entry(
                body=image.data,
                media_type="application/octet-stream",
                etag=f'"{image.etag}"',
                tags=(asset_tag(asset_id),),
                created_at=time.time(),
                headers=((MODERATION_HEADER, image.moderation),),
            )
            await self.source_cache.put(key, entry, entry.tags)
        timings["fetch"] = (time.perf_counter() - started) * 1000
        return image

    async def render(
        self, asset_id: str, spec: TransformSpec, negotiated: str, timings: dict[str, float]
    ) -> Entry:
        original = await self.original(asset_id, timings)
        check_moderation(original.moderation, spec)
        deadline = time.monotonic() + self.config.transform_timeout_s
        rendered = await anyio.to_thread.run_sync(
            lambda: transform(
                original.data, spec, negotiated, max_pixels=self.config.max_src_pixels,
                settings=self.config.encoder, deadline=deadline,
            ),
            limiter=self.limiter,
        )  # fmt: skip
        timings.update(rendered.timings)
        digest = hashlib.sha256(rendered.body).hexdigest()[:32]
        now = time.time()
        return Entry(
            body=rendered.body,
            media_type=MEDIA_TYPES[rendered.format],
            etag=f'"{digest}"',
            tags=(asset_tag(asset_id),),
            created_at=now,
            headers=(
                ("cache-control", variant_cache_control(original.moderation, 0, now)),
                (MODERATION_HEADER, original.moderation),
            ),
        )


def check_moderation(moderation: str, spec: TransformSpec) -> None:
    """Pending assets are only delivered through expiring signed URLs (the creator's preview)."""
    if moderation == "rejected":
        raise Forbidden("asset was rejected by moderation")
    if moderation != "approved" and not spec.expires:
        raise Forbidden("asset is pending review")
