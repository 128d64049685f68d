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
from imgedge.origin_protocol import MODERATION_HEADER, label_from_headers, label_headers
from imgedge.provenance import ProvenanceLabel
from imgedge.proxy.autoquality import QualityBook, QualityPlan
from imgedge.proxy.config import ProxyConfig
from imgedge.proxy.errors import Forbidden, Overloaded
from imgedge.proxy.http_headers import variant_cache_control
from imgedge.proxy.metrics import QUEUE_DEPTH
from imgedge.proxy.pipeline.deadline import Deadline, run_in_thread
from imgedge.proxy.pipeline.decoded import DecodedImage, decode
from imgedge.proxy.pipeline.run import Rendered, transform
from imgedge.proxy.security import check_moderation
from imgedge.proxy.security.cost import TransformBudget, transform_cost
from imgedge.proxy.sources import ASSET, Source, SourceImage, SourceRef
from imgedge.url.spec import TransformSpec

_GEOMETRY_HEADER = "x-imgedge-pixels"
_MODIFIED_HEADER = "last-modified"
QUALITY_HEADER = "x-imgedge-quality"  # the encoder quality q:auto chose, and whether it was learned yet


@dataclass(frozen=True, slots=True)
class SourceFacts:
    """What the origin said about an original besides its bytes, kept with both cached forms (the raw
    pixels have no metadata of their own, so the provenance label must travel beside them)."""

    moderation: str
    label: ProvenanceLabel | None = None

    @classmethod
    def of(cls, image: SourceImage) -> SourceFacts:
        return cls(image.moderation, image.label)


@dataclass(slots=True)
class Renderer:
    config: ProxyConfig
    source: Source
    source_cache: TieredCache
    limiter: anyio.CapacityLimiter
    flights: SingleFlight = field(default_factory=SingleFlight)
    admitted: int = 0
    qualities: QualityBook | None = None  # q:auto; without it q:auto encodes with the estimate
    budget: TransformBudget | None = None

    def __post_init__(self) -> None:
        if self.budget is None:
            self.budget = TransformBudget(self.config.transform_threads, self.config.transform_memory)

    async def original(self, ref: SourceRef) -> SourceImage:
        key = source_key(ref.cache_id)
        cached, _ = await self.source_cache.get(key)
        previous: SourceImage | None = None
        if cached is not None:
            facts = facts_of(cached)
            image = SourceImage(
                cached.body, cached.etag.strip('"'), facts.moderation, label=facts.label,
                last_modified=dict(cached.headers).get(_MODIFIED_HEADER, ""),
            )  # fmt: skip
            # Assets are immutable; a remote original is asked about again once IMGEDGE_REMOTE_TTL passed.
            if ref.kind == ASSET or time.time() - cached.created_at < self.config.remote_ttl_s:
                return image
            previous = image

        async def fetch() -> SourceImage:
            image = await (self.source.fetch(ref, previous) if previous else self.source.fetch(ref))
            # Stored again after a 304 too: the new entry's age restarts the time-to-live.
            entry = _source_entry(
                ref, image.data, image.etag, SourceFacts.of(image), last_modified=image.last_modified
            )
            await self.source_cache.put(key, entry, entry.tags)
            return image

        # Concurrent variants of one original wait for a single origin fetch.
        image, _ = await self.flights.run(key, fetch)
        return image

    async def decoded(self, ref: SourceRef) -> tuple[DecodedImage | None, SourceFacts]:
        """The raw-pixel form, made once per original; None when it is too large to keep that way."""
        key = source_key(ref.cache_id, "pixels")
        cached, _ = await self.source_cache.get(key)
        current: SourceImage | None = None
        if cached is not None and ref.kind != ASSET:
            # A remote original may have changed: these pixels count only if made from its current bytes.
            current = await self.original(ref)
            cached = cached if cached.etag.strip('"') == current.etag else None
        if cached is not None:
            width, height, bands = json.loads(dict(cached.headers)[_GEOMETRY_HEADER])
            return DecodedImage(cached.body, width, height, bands), facts_of(cached)
        original = current or await self.original(ref)

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
            entry = _source_entry(ref, image.pixels, original.etag, SourceFacts.of(original), geometry)
            await self.source_cache.put(key, entry, entry.tags)
            return image

        image, _ = await self.flights.run(key, make)
        return image, SourceFacts.of(original)

    async def render(
        self, ref: SourceRef, spec: TransformSpec, negotiated: str, timings: dict[str, float]
    ) -> Entry:
        started = time.perf_counter()
        source, facts = await self._source_for(ref, spec)
        moderation = facts.moderation
        check_moderation(moderation, spec)
        tags = [asset_tag(ref.cache_id)]
        mark = None
        if spec.watermark is not None:
            mark, mark_tag = await self._watermark(spec.watermark.mark)
            tags.append(mark_tag)  # purging the mark purges what carries it
        timings["fetch"] = (time.perf_counter() - started) * 1000
        plan = await self._quality_plan(ref, spec)
        rendered = await self._transform_in_pool(
            source, spec, negotiated, timings, facts.label, plan=plan, mark=mark
        )
        timings.update(rendered.timings)
        if rendered.learn is not None and self.qualities is not None:
            self.qualities.learn_later(ref.cache_id, rendered.learn)
        now = time.time()
        return Entry(
            body=rendered.body,
            media_type=media_type(rendered.format),
            etag=f'"{hashlib.sha256(rendered.body).hexdigest()[:32]}"',
            tags=tuple(tags),
            created_at=now,
            headers=(
                ("cache-control", variant_cache_control(moderation, 0, now)),
                (MODERATION_HEADER, moderation),
                *_quality_header(rendered),
            ),
        )

    async def _watermark(self, mark: str) -> tuple[bytes, str]:
        mark_ref = SourceRef.parse(mark, part="watermark")
        mark_image = await self.original(mark_ref)
        if mark_image.moderation != "approved":
            raise Forbidden("watermark is not available")
        return mark_image.data, asset_tag(mark_ref.cache_id)

    async def _quality_plan(self, ref: SourceRef, spec: TransformSpec) -> QualityPlan | None:
        if not spec.quality_target:
            return None
        if self.qualities is None:
            return QualityPlan(spec.quality_target, {})
        return await self.qualities.plan(ref.cache_id, spec.quality_target)

    async def _source_for(
        self, ref: SourceRef, spec: TransformSpec
    ) -> tuple[bytes | DecodedImage, SourceFacts]:
        if spec.strip and self.config.decoded_source_max_pixels:
            decoded, facts = await self.decoded(ref)
            if decoded is not None:
                return decoded, facts
        original = await self.original(ref)
        return original.data, SourceFacts.of(original)

    async def _transform_in_pool(
        self,
        source: bytes | DecodedImage,
        spec: TransformSpec,
        negotiated: str,
        timings: dict[str, float],
        label: ProvenanceLabel | None,
        *,
        plan: QualityPlan | None = None,
        mark: bytes | None = None,
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
                        settings=self.config.encoder, deadline=deadline, quality_plan=plan, label=label,
                        mark=mark,
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


def _quality_header(rendered: Rendered) -> tuple[tuple[str, str], ...]:
    if not rendered.quality:
        return ()
    how = "estimated" if rendered.learn is not None else "learned"
    return ((QUALITY_HEADER, f"{rendered.quality}; {how}"),)


def moderation_of(entry: Entry) -> str:
    return dict(entry.headers).get(MODERATION_HEADER, "approved")


def facts_of(entry: Entry) -> SourceFacts:
    headers = dict(entry.headers)
    return SourceFacts(headers.get(MODERATION_HEADER, "approved"), label_from_headers(headers))


def _source_entry(
    ref: SourceRef, body: bytes, etag: str, facts: SourceFacts, geometry: str = "", *, last_modified: str = ""
) -> Entry:
    headers = [(MODERATION_HEADER, facts.moderation), *label_headers(facts.label).items()]
    if last_modified:
        headers.append((_MODIFIED_HEADER, last_modified))
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
