"""A cache miss: original (through the source cache) → libvips in the transform pool → a cache entry."""

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
from imgedge.proxy.errors import Forbidden
from imgedge.proxy.http_headers import variant_cache_control
from imgedge.proxy.pipeline import load
from imgedge.proxy.pipeline.deadline import Deadline
from imgedge.proxy.pipeline.decoded import DecodedImage, decode, header_of, with_reductions
from imgedge.proxy.pipeline.geometry import plan, resolve
from imgedge.proxy.pipeline.run import Rendered, transform
from imgedge.proxy.security import check_moderation
from imgedge.proxy.security.cost import TransformBudget, transform_cost
from imgedge.proxy.sources import ASSET, Source, SourceImage, SourceRef
from imgedge.proxy.transform_pool import TransformPool
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


@dataclass(frozen=True, slots=True)
class Pixels:
    image: DecodedImage
    facts: SourceFacts
    decoded_now: bool  # made by this call (fetched and decoded), not found in the source cache


@dataclass(slots=True)
class Renderer:
    config: ProxyConfig
    source: Source
    source_cache: TieredCache
    pool: TransformPool
    flights: SingleFlight = field(default_factory=SingleFlight)
    qualities: QualityBook | None = None  # q:auto; without it q:auto encodes with the estimate
    budget: TransformBudget | None = None

    def __post_init__(self) -> None:
        if self.budget is None:
            self.budget = TransformBudget(self.config.transform_threads, self.config.transform_memory)

    async def original(self, ref: SourceRef) -> SourceImage:
        """The encoded original, through the source cache (for requests that keep metadata, animations,
        originals too large to keep as pixels, and remote originals, whose validators live with it)."""
        image, _ = await self._original(ref)
        return image

    async def _original(self, ref: SourceRef) -> tuple[SourceImage, bool]:
        """Also whether this call fetched it from the origin itself (rather than finding it in the source
        cache or waiting for another request's fetch)."""
        key = source_key(ref.cache_id)
        cached, _ = await self.source_cache.get(key)
        previous: SourceImage | None = None
        if cached is not None:
            image = _source_image(cached)
            # Assets are immutable; a remote original is asked about again once IMGEDGE_REMOTE_TTL passed.
            if ref.kind == ASSET or time.time() - cached.created_at < self.config.remote_ttl_s:
                return image, False
            previous = image

        async def fetch() -> SourceImage:
            image = await (self.source.fetch(ref, previous) if previous else self.source.fetch(ref))
            # Stored again after a 304 too: the new entry's age restarts the time-to-live.
            await self._keep_original(ref, image)
            return image

        # Concurrent variants of one original wait for a single origin fetch.
        image, collapsed = await self.flights.run(key, fetch)
        return image, not collapsed

    async def decoded(self, ref: SourceRef) -> Pixels | SourceImage:
        """The raw-pixel form, made once per original; or the encoded original, for an original too large to
        keep as pixels, and on an asset's first view.

        The first view is the request that fetched the original: it is served straight from the encoded bytes
        (libvips decodes and shrinks in one streaming pass) and the asset's second request makes the pixels.
        A first view then waits for no full decode and no 3-4 MiB write of pixels to the disk tier, and an
        asset requested once never pays for them (benchmarks/results/profile.md, "The cold path"). Requests
        that arrive while the fetch runs share the one decode instead, as every later variant does. The
        encoded original stays in the source cache beside the pixels, so no later request fetches it again."""
        key = source_key(ref.cache_id, "pixels")
        cached, _ = await self.source_cache.get(key)
        current: SourceImage | None = None
        if cached is not None and ref.kind != ASSET:
            # A remote original may have changed: these pixels count only if made from its current bytes.
            current = await self.original(ref)
            cached = cached if cached.etag.strip('"') == current.etag else None
        if cached is not None:
            geometry = json.loads(dict(cached.headers)[_GEOMETRY_HEADER])
            return Pixels(DecodedImage.from_geometry(cached.body, geometry), facts_of(cached), False)
        if current is None:
            current, fetched = await self._original(ref)
            if fetched and ref.kind == ASSET:
                return current
        original = current

        async def make() -> DecodedImage | None:
            header_ok = await anyio.to_thread.run_sync(
                _small_enough, original.data, self.config.decoded_source_max_pixels
            )
            if not header_ok:
                return None
            image = await self.pool.run(lambda: decode(original.data, max_pixels=self.config.max_src_pixels))
            geometry = json.dumps(image.geometry())
            entry = _source_entry(ref, image.pixels, original.etag, SourceFacts.of(original), geometry)
            await self.source_cache.put(key, entry, entry.tags, share_later=True)
            return image

        # Concurrent variants of one original share one decode.
        image, _ = await self.flights.run(key, make)
        return original if image is None else Pixels(image, SourceFacts.of(original), True)

    def _wants_reductions(self, decoded: DecodedImage, spec: TransformSpec) -> bool:
        if load.needs_full_decode(spec):
            return False  # crops and rotations work on the full-size image
        scaled = plan(decoded.width, decoded.height, resolve(spec, decoded.width, decoded.height)).scaled
        return decoded.lacks_reduction_for(scaled.width, scaled.height, self.config.pyramid_level_ratio)

    async def _add_reductions(self, ref: SourceRef, decoded: DecodedImage) -> DecodedImage:
        """The pyramid, made the first time a variant can use it and kept in place of the bare pixels."""
        key = source_key(ref.cache_id, "pixels")

        async def make() -> DecodedImage:
            image = await self.pool.run(lambda: with_reductions(decoded))
            cached, _ = await self.source_cache.get(key)
            if cached is not None:  # else purged meanwhile: serve this request, keep nothing
                geometry = json.dumps(image.geometry())
                entry = _source_entry(ref, image.pixels, cached.etag.strip('"'), facts_of(cached), geometry)
                await self.source_cache.put(key, entry, entry.tags, share_later=True)
            return image

        image, _ = await self.flights.run(key + "/pyramid", make)
        return image

    async def _keep_original(self, ref: SourceRef, image: SourceImage) -> None:
        entry = _source_entry(
            ref, image.data, image.etag, SourceFacts.of(image), last_modified=image.last_modified
        )
        # Shared (the disk tier) on its second use: a one-view asset's 2-3 MiB write cost its first view ~4 ms
        # of CPU of ~28 (benchmarks/results/profile.md, "The eighth round").
        await self.source_cache.put(source_key(ref.cache_id), entry, entry.tags, share_on_reuse=True)

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
            found = await self.decoded(ref)
            if isinstance(found, SourceImage):
                return found.data, SourceFacts.of(found)
            # Not on the request that decoded the original: that one waits for nothing it does not need, and
            # an image requested twice never pays for a pyramid.
            if not found.decoded_now and self._wants_reductions(found.image, spec):
                return await self._add_reductions(ref, found.image), found.facts
            return found.image, found.facts
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
        self.pool.admit()
        deadline = Deadline.after(self.config.transform_timeout_s)
        queued_at = time.perf_counter()
        budget = self.budget
        assert budget is not None

        def work() -> Rendered:
            timings["queue"] = (time.perf_counter() - queued_at) * 1000
            header = header_of(source, max_pixels=self.config.max_src_pixels)
            cost = transform_cost(
                source, spec, negotiated, max_src_pixels=self.config.max_src_pixels,
                max_result_pixels=self.config.max_result_pixels, header=header,
            )  # fmt: skip
            with budget.reserve(cost, deadline):
                try:
                    return transform(
                        source, spec, negotiated, max_pixels=self.config.max_src_pixels,
                        settings=self.config.encoder, deadline=deadline, quality_plan=plan, label=label,
                        mark=mark, level_ratio=self.config.pyramid_level_ratio, header=header,
                    )  # fmt: skip
                finally:
                    deadline.release()  # its images go before its reservation does

        return await self.pool.run(work, deadline)


def _quality_header(rendered: Rendered) -> tuple[tuple[str, str], ...]:
    if not rendered.quality:
        return ()
    how = "estimated" if rendered.learn is not None else "learned"
    return ((QUALITY_HEADER, f"{rendered.quality}; {how}"),)


def facts_of(entry: Entry) -> SourceFacts:
    headers = dict(entry.headers)
    return SourceFacts(headers.get(MODERATION_HEADER, "approved"), label_from_headers(headers))


def _source_image(entry: Entry) -> SourceImage:
    facts = facts_of(entry)
    return SourceImage(
        entry.body, entry.etag.strip('"'), facts.moderation, label=facts.label,
        last_modified=dict(entry.headers).get(_MODIFIED_HEADER, ""),
    )  # fmt: skip


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
