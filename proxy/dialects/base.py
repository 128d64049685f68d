"""What every URL dialect produces: one frozen spec, the original it names, and what must be verified."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol

from imgedge.proxy.sources.base import SourceRef
from imgedge.url.spec import TransformSpec

UNSIGNED = "unsigned"  # the credential scheme of a URL that carries no signature


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


class Dialect(Protocol):
    # The path prefix this dialect owns, stripped before `parse`; "" for the one that owns the rest.
    prefix: ClassVar[str]

    def parse(self, path: str, query: str) -> ParsedRequest:
        """Raise a PublicError (a 400 for a malformed URL) or return the parsed request, unverified."""
        ...
