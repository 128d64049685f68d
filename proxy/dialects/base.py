"""What every URL dialect produces: one frozen spec, the original it names, and what must be verified."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from imgedge.proxy.sources.base import SourceRef
from imgedge.url.spec import TransformSpec

UNSIGNED = "unsigned"  # the credential scheme of a URL that carries no signature

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


@dataclass(frozen=True, slots=True)
class ParsedRequest:
    spec: TransformSpec
    source: SourceRef
    credential: Credential
    reply: str = IMAGE
    callback: str = ""  # a JSONP function name for thumbor's meta/, already checked


class Dialect(Protocol):
    @property
    def prefix(self) -> str:
        """The path prefix this dialect owns, stripped before `parse`; "" for the one that owns the rest."""
        ...

    def parse(self, path: str, query: str) -> ParsedRequest:
        """`path` as sent (percent-encoding kept: thumbor and imgproxy sign it that way). Raise a PublicError
        (a 400 naming the bad part) or return the parsed request, unverified."""
        ...
