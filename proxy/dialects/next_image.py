"""Next.js's image API, `GET /_next/image?url=…&w=…&q=…`, answered as its optimizer answers it, so a site
that points `images.path` here keeps Next's default loader.

The URLs are unsigned: only the configured widths and qualities are served (the BOUNDED credential), which
keeps the variant space at assets x sizes x qualities x formats. Messages are Next.js's own; so are the
headers (`Vary: Accept`, Content-Security-Policy, Content-Disposition, Cache-Control with must-revalidate).
"""

from __future__ import annotations

import math
import re
from dataclasses import replace
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, unquote, urlsplit

from imgedge.proxy.dialects.base import Credential, ParsedRequest, ReplyHeaders
from imgedge.proxy.dialects.next_image_config import NextImageConfig
from imgedge.proxy.errors import NotFound
from imgedge.proxy.sources.base import SourceRef
from imgedge.url.errors import UrlError
from imgedge.url.path import is_asset_id
from imgedge.url.spec import TransformSpec

if TYPE_CHECKING:
    from imgedge.proxy.config import ProxyConfig

NEXT_IMAGE = "next-image"
MAX_URL_LENGTH = 3072  # Next.js's own bound on `url`
MAX_QUERY_FIELDS = 16  # url, w, q and what Next.js may add (dpl); beyond that the query is not Next's
CONTENT_SECURITY_POLICY = "script-src 'none'; frame-src 'none'; sandbox;"
# Next.js sends max(minimumCacheTTL, the original's max-age) with must-revalidate; an approved imgedge
# original is immutable and cached for a year, so that is a year.
IMMUTABLE_AS = "public, max-age=31536000, must-revalidate"
# Next.js scales AVIF quality to match WebP's at the same `q` (sharp's defaults, 80 for WebP, 50 for AVIF).
AVIF_QUALITY_SCALE = 50 / 80
_RECURSIVE = re.compile(r"/_next/image($|/)")
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_-]")


def _query(query: str) -> dict[str, list[str]]:
    try:
        pairs = parse_qsl(query, keep_blank_values=True, max_num_fields=MAX_QUERY_FIELDS)
    except ValueError:
        raise UrlError("too many query parameters") from None
    params: dict[str, list[str]] = {}
    for name, value in pairs:
        params.setdefault(name, []).append(value)
    return params


def _one(params: dict[str, list[str]], name: str, label: str) -> str:
    values = params.get(name, [])
    if not values or not values[0]:
        raise UrlError(f'"{name}" parameter{label} is required')
    if len(values) > 1:
        raise UrlError(f'"{name}" parameter{label} cannot be an array')
    return values[0]


def _download_name(url: str) -> str:
    """Next.js names the file after the last path segment of `url`, up to its first dot."""
    stem = urlsplit(url).path.rsplit("/", 1)[-1].split(".", 1)[0]
    return _UNSAFE_NAME.sub("_", unquote(stem))[:100] or "image"


class NextImageDialect:
    def __init__(self, config: ProxyConfig) -> None:
        self.config: NextImageConfig = config.next_image
        self.prefix = self.config.path  # "" switches the dialect off

    def parse(self, path: str, query: str) -> ParsedRequest:
        if path not in ("", "/"):  # "/" when the site sets trailingSlash
            raise NotFound()
        params = _query(query)
        url = _one(params, "url", "")
        source = self._source(url)
        width, quality = self._width_and_quality(params)
        spec = TransformSpec(width=width, quality=quality)
        avif_quality = max(1, math.floor(quality * AVIF_QUALITY_SCALE + 0.5))
        headers = ReplyHeaders(
            fixed=(("content-security-policy", CONTENT_SECURITY_POLICY),),
            disposition=self.config.disposition,
            filename=_download_name(url),
            immutable_cache_control=IMMUTABLE_AS,
        )
        return ParsedRequest(
            spec, source, Credential.bounded(), negotiable=self.config.formats,
            format_specs=(("avif", replace(spec, quality=avif_quality)),), reply_headers=headers,
        )  # fmt: skip

    def _source(self, url: str) -> SourceRef:
        if len(url) > MAX_URL_LENGTH:
            raise UrlError('"url" parameter is too long')
        if url.startswith("//"):
            raise UrlError('"url" parameter cannot be a protocol-relative URL (//)')
        local = url[1:] if url.startswith("/") else url
        if is_asset_id(local):
            return SourceRef.asset(local)
        if url.startswith("/"):
            if _RECURSIVE.search(unquote(urlsplit(url).path)):
                raise UrlError('"url" parameter cannot be recursive')
            raise UrlError('"url" parameter is not allowed: expected /{asset id}')
        try:
            scheme = urlsplit(url).scheme.lower()
        except ValueError:
            raise UrlError('"url" parameter is invalid') from None
        if scheme not in ("http", "https"):
            raise UrlError('"url" parameter is invalid')
        # An http(s) original: fetched only where IMGEDGE_REMOTE_SOURCES admits it (403 before any traffic).
        return SourceRef.parse(url, part='"url" parameter')

    def _width_and_quality(self, params: dict[str, list[str]]) -> tuple[int, int]:
        # In Next.js's order, so the same bad URL gets the same first complaint.
        w = _one(params, "w", " (width)")
        if not w.isascii() or not w.isdigit():
            raise UrlError('"w" parameter (width) must be an integer greater than 0')
        q = _one(params, "q", " (quality)")
        if not q.isascii() or not q.isdigit():
            raise UrlError('"q" parameter (quality) must be an integer between 1 and 100')
        width = int(w) if len(w) <= 9 else 10**9  # only the digits' count is bounded by the server
        if width <= 0:
            raise UrlError('"w" parameter (width) must be an integer greater than 0')
        if width not in self.config.sizes:
            raise UrlError(f'"w" parameter (width) of {width} is not allowed')
        quality = int(q) if len(q) <= 9 else 10**9
        if not 1 <= quality <= 100:
            raise UrlError('"q" parameter (quality) must be an integer between 1 and 100')
        if quality not in self.config.qualities:
            raise UrlError(f'"q" parameter (quality) of {q} is not allowed')
        return width, quality
