"""A cache miss: original (through the source cache) → libvips in the bounded pool → a cache entry."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field

import anyio
import pyvips

from imgedge.cache.entry import Entry
from imgedge.cache.keys import asset_tag, source_key
from imgedge.cache.singleflight import SingleFlight
from imgedge.cache.tiered import TieredCache
from imgedge.formats import media_type
from imgedge.origin_protocol import MODERATION_HEADER
from imgedge.proxy.config import ProxyConfig
from imgedge.proxy.http_headers import variant_cache_control
from imgedge.proxy.pipeline import load
from imgedge.proxy.pipeline.decoded import DecodedImage, decode, with_reductions
from imgedge.proxy.pipeline.geometry import plan
from imgedge.proxy.pipeline.run import Rendered, transform
from imgedge.proxy.replies import moderation_of
from imgedge.proxy.security import check_moderation
from imgedge.proxy.sources import Source, SourceImage, SourceRef
from imgedge.proxy.transform_pool import TransformPool
from imgedge.url.spec import TransformSpec

_GEOMETRY_HEADER = "x-imgedge-pixels"


@dataclass(frozen=True, slots=True)
class Pixels:
    image: DecodedImage | None  # None: too large to keep as pixels
    moderation: str
    decoded_now: bool  # made by this call (fetched and decoded), not found in the source cache


@dataclass(slots=True)
class Renderer:
    config: ProxyConfig
    source: Source
    source_cache: TieredCache
    pool: TransformPool
    flights: SingleFlight = field(default_factory=SingleFlight)

    async def original(self, ref: SourceRef) -> SourceImage:
        """The encoded original, through the source cache (for requests that keep metadata, animations and
        originals too large to keep as pixels)."""
        key = source_key(ref.cache_id)
        cached = await self._cached_original(ref)
        if cached is not None:
            return cached

        async def fetch() -> SourceImage:
            image = await self.source.fetch(ref)
            await self._keep_original(ref, image)
            return image

        # Concurrent variants of one original wait for a single origin fetch.
        image, _ = await self.flights.run(key, fetch)
        return image

    async def decoded(self, ref: SourceRef) -> Pixels:
        """The raw-pixel form, made once per original; no image when it is too large to keep that way."""
        key = source_key(ref.cache_id, "pixels")
        cached, _ = await self.source_cache.get(key)
        if cached is not None:
            geometry = json.loads(dict(cached.headers)[_GEOMETRY_HEADER])
            return Pixels(DecodedImage.from_geometry(cached.body, geometry), moderation_of(cached), False)

        async def make() -> tuple[DecodedImage | None, SourceImage]:
            # Inside this flight, so concurrent variants of a new original share one fetch and one decode.
            # The encoded original is not kept once its pixels are: they serve every strip=1 variant, and
            # keeping both would cost the source cache (and the disk tier's writes) a second copy.
            original = await self._cached_original(ref) or await self.source.fetch(ref)
            header_ok = await anyio.to_thread.run_sync(
                _small_enough, original.data, self.config.decoded_source_max_pixels
            )
            if not header_ok:
                await self._keep_original(ref, original)
                return None, original
            image = await self.pool.run(lambda: decode(original.data, max_pixels=self.config.max_src_pixels))
            geometry = json.dumps(image.geometry())
            entry = _source_entry(ref, image.pixels, original.etag, original.moderation, geometry)
            await self.source_cache.put(key, entry, entry.tags)
            return image, original

        (image, original), _ = await self.flights.run(key, make)
        return Pixels(image, original.moderation, True)

    def _wants_reductions(self, decoded: DecodedImage, spec: TransformSpec) -> bool:
        if load.needs_full_decode(spec):
            return False  # crops and rotations work on the full-size image
        scaled = plan(decoded.width, decoded.height, spec).scaled
        return decoded.lacks_reduction_for(scaled.width, scaled.height, self.config.pyramid_level_ratio)

    async def _add_reductions(self, ref: SourceRef, decoded: DecodedImage) -> DecodedImage:
        """The pyramid, made the first time a variant can use it and kept in place of the bare pixels."""
        key = source_key(ref.cache_id, "pixels")

        async def make() -> DecodedImage:
            image = await self.pool.run(lambda: with_reductions(decoded))
            cached, _ = await self.source_cache.get(key)
            if cached is not None:  # else purged meanwhile: serve this request, keep nothing
                geometry = json.dumps(image.geometry())
                entry = _source_entry(
                    ref, image.pixels, cached.etag.strip('"'), moderation_of(cached), geometry
                )
                await self.source_cache.put(key, entry, entry.tags)
            return image

        image, _ = await self.flights.run(key + "/pyramid", make)
        return image

    async def _cached_original(self, ref: SourceRef) -> SourceImage | None:
        cached, _ = await self.source_cache.get(source_key(ref.cache_id))
        if cached is None:
            return None
        return SourceImage(cached.body, cached.etag.strip('"'), moderation_of(cached))

    async def _keep_original(self, ref: SourceRef, image: SourceImage) -> None:
        entry = _source_entry(ref, image.data, image.etag, image.moderation)
        await self.source_cache.put(source_key(ref.cache_id), entry, entry.tags)

    async def render(
        self, ref: SourceRef, spec: TransformSpec, negotiated: str, timings: dict[str, float]
    ) -> Entry:
        started = time.perf_counter()
        source, moderation = await self._source_for(ref, spec)
        timings["fetch"] = (time.perf_counter() - started) * 1000
        check_moderation(moderation, spec)
        rendered = await self._transform_in_pool(source, spec, negotiated, timings)
        timings.update(rendered.timings)
        now = time.time()
        return Entry(
            body=rendered.body,
            media_type=media_type(rendered.format),
            etag=f'"{hashlib.sha256(rendered.body).hexdigest()[:32]}"',
            tags=(asset_tag(ref.cache_id),),
            created_at=now,
            headers=(
                ("cache-control", variant_cache_control(moderation, 0, now)),
                (MODERATION_HEADER, moderation),
            ),
        )

    async def _source_for(self, ref: SourceRef, spec: TransformSpec) -> tuple[bytes | DecodedImage, str]:
        if spec.strip and self.config.decoded_source_max_pixels:
            pixels = await self.decoded(ref)
            if pixels.image is not None:
                # Not on the request that decoded the original: a first view waits for nothing it does not
                # need, and an image requested once never pays for a pyramid.
                if not pixels.decoded_now and self._wants_reductions(pixels.image, spec):
                    return await self._add_reductions(ref, pixels.image), pixels.moderation
                return pixels.image, pixels.moderation
        original = await self.original(ref)
        return original.data, original.moderation

    async def _transform_in_pool(
        self, source: bytes | DecodedImage, spec: TransformSpec, negotiated: str, timings: dict[str, float]
    ) -> Rendered:
        self.pool.admit()
        deadline = time.monotonic() + self.config.transform_timeout_s
        queued_at = time.perf_counter()

        def work() -> Rendered:
            timings["queue"] = (time.perf_counter() - queued_at) * 1000
            return transform(
                source, spec, negotiated, max_pixels=self.config.max_src_pixels,
                settings=self.config.encoder, deadline=deadline, level_ratio=self.config.pyramid_level_ratio,
            )  # fmt: skip

        return await self.pool.run(work)


def _source_entry(ref: SourceRef, body: bytes, etag: str, moderation: str, geometry: str = "") -> Entry:
    headers = [(MODERATION_HEADER, moderation)]
    if geometry:
        headers.append((_GEOMETRY_HEADER, geometry))
    return Entry(
        body=body, media_type="application/octet-stream", etag=f'"{etag}"', tags=(asset_tag(ref.cache_id),),
        created_at=time.time(), headers=tuple(headers),
    )  # fmt: skip


def _small_enough(data: bytes, max_pixels: int) -> bool:
    try:
        header = pyvips.Image.new_from_buffer(data, "", access="sequential")
    except pyvips.Error:
        return False  # let the normal path report the problem with its own status
    pages = header.get("n-pages") if header.get_typeof("n-pages") else 1
    return bool(header.width * header.height <= max_pixels and pages == 1)
