"""What a source is: something that turns a SourceRef into the original's bytes."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote, unquote, urlsplit

from imgedge.provenance import ProvenanceLabel
from imgedge.proxy.errors import NotFound
from imgedge.url.errors import UrlError

ASSET = "asset"  # an id in the generator's store
REMOTE = "remote"  # an http(s) URL, fetched only when IMGEDGE_REMOTE_SOURCES allows its prefix
S3 = "s3"  # s3://bucket/key, likewise
# A prompt URL's generation (imgedge.url.prompt), resolved to the asset it made before anything is fetched.
GENERATION = "generation"

_ASSET_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
MAX_URL_LENGTH = 2048
_URL_SAFE = "!#$%&'()*+,/:;=?@[]~"


@dataclass(frozen=True, slots=True)
class SourceRef:
    """The original a request names, as its dialect spelled it (after validation)."""

    kind: str
    location: str

    @classmethod
    def asset(cls, asset_id: str) -> SourceRef:
        return cls(ASSET, asset_id)

    @classmethod
    def generation(cls, segment: str) -> SourceRef:
        return cls(GENERATION, segment)

    @classmethod
    def parse(cls, text: str, *, part: str = "image") -> SourceRef:
        """An image as a URL dialect names it: a bare asset id, an http(s) URL or an s3:// URL; a 400 naming
        `part` for anything else. Whether a URL may be fetched is the allow-list's business, not this."""
        if _ASSET_ID.fullmatch(text):
            return cls.asset(text)
        # Spaces and non-ASCII characters (decoded from the request path) go back to %-escapes.
        text = quote(text, safe=_URL_SAFE)
        if len(text) > MAX_URL_LENGTH or not text.isprintable():
            raise UrlError(f"{part}: not an asset id or a URL of at most {MAX_URL_LENGTH} characters")
        scheme = text.partition("://")[0].lower()
        if scheme in ("http", "https"):
            return cls(REMOTE, _checked_url(text, part, scheme))
        if scheme == "s3":
            return cls(S3, _checked_url(text, part, scheme))
        raise UrlError(f"{part}: expected an asset id or an http(s):// or s3:// URL")

    @property
    def cache_id(self) -> str:
        """The id cache keys, purge tags and Surrogate-Key are derived from: the asset id for assets."""
        if self.kind == ASSET:
            return self.location
        # "." cannot occur in an asset id, so a derived id never names an asset.
        digest = hashlib.sha256(f"{self.kind}:{self.location}".encode()).hexdigest()[:40]
        return f"{self.kind}.{digest}"


def _checked_url(text: str, part: str, scheme: str) -> str:
    """The URL with its scheme and host in lower case; refused with userinfo, a fragment, no host (or no key,
    for S3), or `.`/`..` path segments, which could step outside an allowed prefix."""
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise UrlError(f"{part}: malformed URL") from None
    if not parts.hostname or "@" in parts.netloc or parts.fragment:
        raise UrlError(f"{part}: URL needs a host and may not carry credentials or a fragment")
    segments = unquote(parts.path).split("/")
    if any(segment in (".", "..") for segment in segments) or (scheme == S3 and not parts.path.strip("/")):
        raise UrlError(f"{part}: URL path may not have . or .. segments (and an s3:// URL needs a key)")
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    netloc = host if port is None else f"{host}:{port}"
    query = f"?{parts.query}" if parts.query else ""
    return f"{scheme}://{netloc}{parts.path or '/'}{query}"


@dataclass(frozen=True, slots=True)
class SourceImage:
    data: bytes
    etag: str  # the origin's validator for these bytes, without quotes
    moderation: str  # approved | pending | rejected
    # Set for generated originals: every variant keeps it in its XMP (imgedge.provenance).
    label: ProvenanceLabel | None = None
    last_modified: str = ""  # the origin's Last-Modified, for revalidating remote originals


class Source(Protocol):
    async def fetch(self, ref: SourceRef, previous: SourceImage | None = None) -> SourceImage:
        """The original's bytes. With `previous` (a cached copy gone stale), a source that can revalidate
        asks the origin whether it changed and answers `previous` again when it did not."""
        ...

    async def ready(self) -> str | None: ...
    async def aclose(self) -> None: ...


def asset_id_of(ref: SourceRef) -> str:
    """The asset id of an asset ref; stores of assets cannot answer any other kind."""
    if ref.kind != ASSET:
        raise NotFound(f"this source has no {ref.kind} originals")
    return ref.location
