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
from imgedge.proxy.errors import Overloaded
from imgedge.proxy.http_headers import variant_cache_control
from imgedge.proxy.metrics import QUEUE_DEPTH
from imgedge.proxy.pipeline.deadline import Deadline, run_in_thread
from imgedge.proxy.pipeline.decoded import DecodedImage, decode
from imgedge.proxy.pipeline.run import Rendered, transform
from imgedge.proxy.security import check_moderation
from imgedge.proxy.security.cost import TransformBudget, transform_cost
from imgedge.proxy.sources import Source, SourceImage, SourceRef
from imgedge.url.spec import TransformSpec

_GEOMETRY_HEADER = "x-imgedge-pixels"


@dataclass(slots=True)
class Renderer:
    config: ProxyConfig
    source: Source
    source_cache: TieredCache
    limiter: anyio.CapacityLimiter
    flights: SingleFlight = field(default_factory=SingleFlight)
    admitted: int = 0
    budget: TransformBudget | None = None

    def __post_init__(self) -> None:
        if self.budget is None:
            self.budget = TransformBudget(self.config.transform_threads, self.config.transform_memory)

    async def original(self, ref: SourceRef) -> SourceImage:
        key = source_key(ref.cache_id)
        cached, _ = await self.source_cache.get(key)
        if cached is not None:
            return SourceImage(cached.body, cached.etag.strip('"'), moderation_of(cached))

        async def fetch() -> SourceImage:
            image = await self.source.fetch(ref)
            entry = _source_entry(ref, image.data, image.etag, image.moderation)
            await self.source_cache.put(key, entry, entry.tags)
            return image

        # Concurrent variants of one original wait for a single origin fetch.
        image, _ = await self.flights.run(key, fetch)
        return image

    async def decoded(self, ref: SourceRef) -> tuple[DecodedImage | None, str]:
        """The raw-pixel form, made once per original; None when it is too large to keep that way."""
        key = source_key(ref.cache_id, "pixels")
        cached, _ = await self.source_cache.get(key)
        if cached is not None:
            width, height, bands = json.loads(dict(cached.headers)[_GEOMETRY_HEADER])
            return DecodedImage(cached.body, width, height, bands), moderation_of(cached)
        original = await self.original(ref)

        async def make() -> DecodedImage | None:
            header_ok = await anyio.to_thread.run_sync(
                _small_enough, original.data, self.config.decoded_source_max_pixels
            )
            if not header_ok:
                return None
            image = await anyio.to_thread.run_sync(
                lambda: decode(original.data, max_pixels=self.config.max_src_pixels), limiter=self.limiter
            )
            geometry = json.dumps([image.width, image.height, image.bands])
            entry = _source_entry(ref, image.pixels, original.etag, original.moderation, geometry)
            await self.source_cache.put(key, entry, entry.tags)
            return image

        image, _ = await self.flights.run(key, make)
        return image, original.moderation

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
            decoded, moderation = await self.decoded(ref)
            if decoded is not None:
                return decoded, moderation
        original = await self.original(ref)
        return original.data, original.moderation

    async def _transform_in_pool(
        self, source: bytes | DecodedImage, spec: TransformSpec, negotiated: str, timings: dict[str, float]
    ) -> Rendered:
        # Admission: running + waiting transforms are bounded, so overload costs a 503, not memory.
        if self.admitted >= self.config.transform_threads + self.config.queue_size:
            raise Overloaded("too many transforms queued", headers={"Retry-After": "1"})
        deadline = Deadline.after(self.config.transform_timeout_s)
        queued_at = time.perf_counter()
        budget = self.budget
        assert budget is not None

        def work() -> Rendered:
            timings["queue"] = (time.perf_counter() - queued_at) * 1000
            cost = transform_cost(
                source, spec, negotiated, max_src_pixels=self.config.max_src_pixels,
                max_result_pixels=self.config.max_result_pixels,
            )  # fmt: skip
            with budget.reserve(cost, deadline):
                try:
                    return transform(
                        source, spec, negotiated, max_pixels=self.config.max_src_pixels,
                        settings=self.config.encoder, deadline=deadline,
                    )  # fmt: skip
                finally:
                    deadline.release()  # its images go before its reservation does

        self.admitted += 1
        QUEUE_DEPTH.inc()
        try:
            return await run_in_thread(work, deadline, self.limiter)
        finally:
            self.admitted -= 1
            QUEUE_DEPTH.dec()


def moderation_of(entry: Entry) -> str:
    return dict(entry.headers).get(MODERATION_HEADER, "approved")


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
