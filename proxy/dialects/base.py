"""What every URL dialect produces: one frozen spec, the original it names, and what must be verified."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from imgedge.proxy.sources.base import SourceRef
from imgedge.url.spec import TransformSpec

UNSIGNED = "unsigned"  # the credential scheme of a URL that carries no signature
# Unsigned, but the dialect has already confined the request to an allow-listed set of variants (for
# example Next.js's sizes and qualities), so there is nothing left to verify.
BOUNDED = "bounded"

# What a transform URL answers: the image, or facts about it in a dialect's JSON (thumbor's meta/,
# imgproxy's /info).
IMAGE = "image"
THUMBOR_META = "thumbor-meta"
IMGPROXY_INFO = "imgproxy-info"


@dataclass(frozen=True, slots=True)
class Credential:
    """A signature as the URL spells it and the bytes it must cover; `scheme` picks the verifier."""

    scheme: str
    signature: str
    message: bytes

    @classmethod
    def unsigned(cls) -> Credential:
        return cls(UNSIGNED, "", b"")

    @classmethod
    def bounded(cls) -> Credential:
        return cls(BOUNDED, "", b"")


@dataclass(frozen=True, slots=True)
class ReplyHeaders:
    """What a dialect changes in its variants' headers, to answer as the service it stands in for."""

    # Sent as given, in place of imgedge's header of the same name.
    fixed: tuple[tuple[str, str], ...] = ()
    # `Content-Disposition: {disposition}; filename="{filename}.{subtype of the output}"` when set.
    disposition: str | None = None
    filename: str = ""
    # Cache-Control in place of imgedge's immutable policy (approved, non-expiring variants only).
    immutable_cache_control: str | None = None


NO_REPLY_HEADERS = ReplyHeaders()


@dataclass(frozen=True, slots=True)
class ParsedRequest:
    spec: TransformSpec
    source: SourceRef
    credential: Credential
    reply: str = IMAGE
    callback: str = ""  # a JSONP function name for thumbor's meta/, already checked
    # The formats `f:auto` may choose from for this request; None: every negotiable format.
    negotiable: tuple[str, ...] | None = None
    # A spec that replaces `spec` once the output format is negotiated (a quality scaled for AVIF, say).
    format_specs: tuple[tuple[str, TransformSpec], ...] = ()
    reply_headers: ReplyHeaders = NO_REPLY_HEADERS
    info_fields: tuple[str, ...] = ()  # the facts an info reply lists (imgproxy's info options)

    def spec_for(self, output_format: str) -> TransformSpec:
        for name, spec in self.format_specs:
            if name == output_format:
                return spec
        return self.spec


class Dialect(Protocol):
    @property
    def prefix(self) -> str:
        """The path prefix this dialect owns, stripped before `parse`; "" for the one that owns the rest."""
        ...

    def parse(self, path: str, query: str) -> ParsedRequest:
        """`path` as sent (percent-encoding kept: thumbor and imgproxy sign it that way). Raise a PublicError
        (a 400 naming the bad part) or return the parsed request, unverified."""
        ...
