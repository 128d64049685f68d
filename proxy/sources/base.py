"""What a source is: something that turns a SourceRef into the original's bytes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Protocol

from imgedge.provenance import ProvenanceLabel
from imgedge.proxy.errors import NotFound

ASSET = "asset"  # an id in the generator's store; later kinds: a remote URL, an S3 URL


@dataclass(frozen=True, slots=True)
class SourceRef:
    """The original a request names, as its dialect spelled it (after validation)."""

    kind: str
    location: str

    @classmethod
    def asset(cls, asset_id: str) -> SourceRef:
        return cls(ASSET, asset_id)

    @property
    def cache_id(self) -> str:
        """The id cache keys, purge tags and Surrogate-Key are derived from: the asset id for assets."""
        if self.kind == ASSET:
            return self.location
        # "." cannot occur in an asset id, so a derived id never names an asset.
        digest = hashlib.sha256(f"{self.kind}:{self.location}".encode()).hexdigest()[:40]
        return f"{self.kind}.{digest}"


@dataclass(frozen=True, slots=True)
class SourceImage:
    data: bytes
    etag: str  # the origin's validator for these bytes, without quotes
    moderation: str  # approved | pending | rejected
    # Set for generated originals: every variant keeps it in its XMP (imgedge.provenance).
    label: ProvenanceLabel | None = None


class Source(Protocol):
    async def fetch(self, ref: SourceRef) -> SourceImage: ...
    async def ready(self) -> str | None: ...
    async def aclose(self) -> None: ...


def asset_id_of(ref: SourceRef) -> str:
    """The asset id of an asset ref; stores of assets cannot answer any other kind."""
    if ref.kind != ASSET:
        raise NotFound(f"this source has no {ref.kind} originals")
    return ref.location
