"""A transform URL, start to finish, in the order of docs/architecture.md: split → parse (dialect → one
frozen spec + the source it names) → verify → limits → negotiate → key → lookup (single-flight on miss)
→ fetch source → pipeline → encode → respond. Hits and misses take this one path; `respond_now` is the same
steps for a repeated hit in the memory tier, without awaiting (proxy/asgi.py's ImmediateHits)."""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, replace
from urllib.parse import quote

from starlette.types import Scope

from imgedge.cache.build import Flights
from imgedge.cache.entry import Entry
from imgedge.cache.keys import variant_key
from imgedge.cache.tiered import TieredCache
from imgedge.proxy import metrics
from imgedge.proxy.client_hints import HintPolicy
from imgedge.proxy.dialects import DialectRouter, ParsedRequest
from imgedge.proxy.dialects.base import IMAGE
from imgedge.proxy.errors import NotFound
from imgedge.proxy.facts import FactsReplies
from imgedge.proxy.info import InfoService
from imgedge.proxy.negotiate import Negotiated, negotiate
from imgedge.proxy.popularity import VariantPopularity
from imgedge.proxy.prompts import PromptResolver
from imgedge.proxy.render import Renderer
from imgedge.proxy.replies import Reply, moderation_of, variant_reply
from imgedge.proxy.security import SecurityPolicy, check_moderation
from imgedge.proxy.security.verified import VerifiedRequests
from imgedge.proxy.sources import ASSET, SourceRef
from imgedge.proxy.sources.base import GENERATION
from imgedge.url.hints import NO_HINTS, ClientHints, Resolved, parse_hints
from imgedge.url.spec import TransformSpec

_MISS_STAGES = ("queue", "fetch", "transform", "encode")
_HINT_HEADERS = frozenset((b"sec-ch-dpr", b"sec-ch-width", b"sec-ch-viewport-width", b"save-data"))
_PURPOSE_HEADERS = (b"sec-purpose", b"purpose")


@dataclass(frozen=True, slots=True)
class TransformRequest:
    """The parts of an HTTP request a transform depends on."""

    method: str
    path: str
    query: str
    accept: str | None
    if_none_match: str | None
    hint_headers: tuple[tuple[bytes, str], ...] = ()  # client hints as sent; parsed only where honoured
    raw_path: str = ""  # as sent, percent-encoding kept (what thumbor and imgproxy signatures cover)
    prefetch: bool = False  # `Sec-Purpose: prefetch` (or `Purpose:`): a warm-up, not a viewer

    @classmethod
    def from_scope(cls, scope: Scope) -> TransformRequest:
        accept = if_none_match = None
        hints: list[tuple[bytes, str]] = []
        prefetch = False
        for name, value in scope["headers"]:
            # The first of repeated headers wins, as Starlette's `headers.get` has it.
            if name == b"accept" and accept is None:
                accept = value.decode("latin-1")
            elif name == b"if-none-match" and if_none_match is None:
                if_none_match = value.decode("latin-1")
            elif name in _HINT_HEADERS:
                hints.append((name, value.decode("latin-1")))
            elif name in _PURPOSE_HEADERS:
                prefetch = prefetch or value.lower().startswith(b"prefetch")
        query = scope["query_string"].decode("latin-1")
        raw = scope.get("raw_path")
        raw_path = raw.decode("latin-1") if raw else quote(scope["path"], safe="/:@!$&'()*+,;=~")
        return cls(
            scope["method"], scope["path"], query, accept or None, if_none_match or None,
            hint_headers=tuple(hints), raw_path=raw_path, prefetch=prefetch,
        )  # fmt: skip

    def client_hints(self) -> ClientHints:
        if not self.hint_headers:
            return NO_HINTS
        first: dict[bytes, str] = {}
        for name, value in self.hint_headers:
            first.setdefault(name, value)
        return parse_hints(
            dpr=first.get(b"sec-ch-dpr"), width=first.get(b"sec-ch-width"),
            viewport_width=first.get(b"sec-ch-viewport-width"), save_data=first.get(b"save-data"),
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Variant:
    parsed: ParsedRequest  # with the spec the hints resolved
    negotiated: Negotiated
    resolved: Resolved
    key: str


class TransformHandler:
    def __init__(
        self,
        *,
        dialects: DialectRouter,
        policy: SecurityPolicy,
        results: TieredCache,
        flights: Flights,
        renderer: Renderer,
        encoder_version: str,
        hints: HintPolicy | None = None,
        remote_ttl_s: float = 3600.0,
        popularity: VariantPopularity | None = None,
        info: InfoService | None = None,
        prompts: PromptResolver | None = None,
    ) -> None:
        self.dialects = dialects
        self.popularity = popularity
        self.policy = policy
        self.results = results
        self.flights = flights
        self.renderer = renderer
        self.hints = hints or HintPolicy()
        self.remote_ttl_s = remote_ttl_s
        self.prompts = prompts
        self.facts = FactsReplies(renderer, info)
        self._local_tier = results.tiers[0].name if results.tiers else ""
        self.verified = VerifiedRequests()
        # Keys are pure in their inputs, and building one hashes; checked requests only reach this.
        self._variant_key = functools.lru_cache(maxsize=16384)(
            functools.partial(_variant_key, encoder_version=encoder_version)
        )

    async def respond(self, request: TransformRequest) -> Reply:
        """The response for a transform URL; a PublicError for anything the client must be told."""
        started = time.perf_counter()
        parsed = self._verified(request)
        if parsed.source.kind == GENERATION:
            parsed = await self._resolved(parsed)
        remote = parsed.source.kind != ASSET  # its origin may change it: a bounded lifetime, not immutable
        lifetime = max(1, int(self.remote_ttl_s)) if remote else 0
        if parsed.reply != IMAGE:
            return await self.facts.reply(parsed, request.method, lifetime)
        variant = self._variant(parsed, request)
        timings: dict[str, float] = {}
        entry, tier = await self._lookup(variant.key)
        if entry is not None and remote and entry.created_at + self.remote_ttl_s < time.time():
            entry = None  # the source may have changed since: render again (its original is revalidated)
        timings["cache"] = (time.perf_counter() - started) * 1000
        if entry is not None:
            return self._hit_reply(request, variant, entry, tier, started, timings, lifetime)
        entry, cache_status = await self._render_once(variant, timings)
        return self._reply(request, variant, entry, cache_status, started, timings, lifetime)

    def respond_now(self, request: TransformRequest) -> Reply | None:
        """`respond` for a URL verified before whose variant this process's memory tier holds, without
        awaiting anything (proxy/asgi.py's ImmediateHits); None where `respond` must answer. Raises what
        `respond` would raise for the same request."""
        started = time.perf_counter()
        parsed = self.verified.get(request.raw_path or request.path, request.query)
        if parsed is None or parsed.source.kind != ASSET or parsed.reply != IMAGE:
            return None
        self.policy.check_fresh(parsed)
        variant = self._variant(parsed, request)
        entry = self.results.get_local(variant.key)
        if entry is None:
            return None
        timings = {"cache": (time.perf_counter() - started) * 1000}
        return self._hit_reply(request, variant, entry, self._local_tier, started, timings, 0)

    def _variant(self, parsed: ParsedRequest, request: TransformRequest) -> _Variant:
        """The variant a request asks for: its format negotiated, its client hints applied, its cache key."""
        negotiated = negotiate(parsed.spec.format, request.accept, parsed.negotiable)
        chosen = parsed.spec_for(negotiated.format)  # a dialect's spec per format (Next.js: AVIF quality)
        resolved = self.hints.resolve(chosen, request)
        if resolved.spec is not chosen:
            self.policy.check_resolved(resolved.spec)
        if resolved.spec is not parsed.spec:
            parsed = replace(parsed, spec=resolved.spec)
        key = self._variant_key(parsed.source, parsed.spec, negotiated.format)
        return _Variant(parsed, negotiated, resolved, key)

    def _hit_reply(
        self, request: TransformRequest, variant: _Variant, entry: Entry, tier: str, started: float,
        timings: dict[str, float], lifetime: int,
    ) -> Reply:  # fmt: skip
        check_moderation(moderation_of(entry), variant.parsed.spec)
        metrics.count_cache_lookup("hit", tier)
        return self._reply(request, variant, entry, _hit_status(tier), started, timings, lifetime)

    def _reply(
        self, request: TransformRequest, variant: _Variant, entry: Entry, cache_status: str, started: float,
        timings: dict[str, float], lifetime: int,
    ) -> Reply:  # fmt: skip
        parsed, negotiated, resolved = variant.parsed, variant.negotiated, variant.resolved
        if self.popularity is not None and not request.prefetch:
            self.popularity.record(parsed.spec, negotiated.format)
        timings["total"] = (time.perf_counter() - started) * 1000
        return variant_reply(
            method=request.method, if_none_match=request.if_none_match, entry=entry, spec=parsed.spec,
            surrogate_key=parsed.source.cache_id, varies=negotiated.varies, cache_status=cache_status,
            timings=timings, hint_vary=resolved.vary, content_dpr=resolved.dpr, accept_ch=self.hints.honour,
            lifetime=lifetime, dialect_headers=parsed.reply_headers,
        )  # fmt: skip

    def _verified(self, request: TransformRequest) -> ParsedRequest:
        # Keyed by the path as sent: what the dialects parse and thumbor and imgproxy sign.
        path = request.raw_path or request.path
        parsed = self.verified.get(path, request.query)
        if parsed is not None:
            self.policy.check_fresh(parsed)  # the signature and limits held; only time moves on
            return parsed
        parsed = self.dialects.parse(path, request.query)
        self.policy.check_request(parsed)
        self.verified.put(path, request.query, parsed)
        return parsed

    async def _resolved(self, parsed: ParsedRequest) -> ParsedRequest:
        """A prompt URL from here on is a request for the asset its generation made (proxy/prompts.py)."""
        if self.prompts is None:
            raise NotFound("prompt URLs are not served here")
        return replace(parsed, source=await self.prompts.resolve(parsed.source))

    async def _lookup(self, key: str) -> tuple[Entry | None, str]:
        # The process-local tier answers without awaiting; most hits end here.
        entry = self.results.get_local(key)
        if entry is not None:
            return entry, self._local_tier
        entry, tier = await self.results.get(key)
        return entry, tier or ""

    async def _render_once(self, variant: _Variant, timings: dict[str, float]) -> tuple[Entry, str]:
        key = variant.key
        render = functools.partial(
            self._render_and_store, key, variant.parsed, variant.negotiated.format, timings
        )
        entry, collapsed = await self.flights.run(key, render)
        metrics.count_cache_lookup("collapsed" if collapsed else "miss", "")
        if collapsed:
            return entry, "imgedge; fwd=miss; collapsed"
        for stage in _MISS_STAGES:
            if stage in timings:
                metrics.STAGES.labels(stage).observe(timings[stage] / 1000)
        return entry, "imgedge; fwd=miss; stored"

    async def _render_and_store(
        self, key: str, parsed: ParsedRequest, output_format: str, timings: dict[str, float]
    ) -> Entry:
        entry = await self.renderer.render(parsed.source, parsed.spec, output_format, timings)
        await self.results.put(key, entry, entry.tags)
        return entry


@functools.lru_cache(maxsize=16)
def _hit_status(tier: str) -> str:
    return f"imgedge; hit; detail={tier}"


def _variant_key(source: SourceRef, spec: TransformSpec, output_format: str, *, encoder_version: str) -> str:
    return variant_key(source.cache_id, spec.canonical(with_expiry=False), output_format, encoder_version)
