"""imgedge's own URLs: `/{signature}/{options…}/{asset_id}[.ext]`, signed over the canonical form."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING
from urllib.parse import unquote

from imgedge.proxy.dialects.base import Credential, ParsedRequest
from imgedge.proxy.sources.base import SourceRef
from imgedge.url import ParseSettings, parse_options
from imgedge.url.build import UNSIGNED as UNSIGNED_MARKER
from imgedge.url.path import split_path
from imgedge.url.signing import signed_message

if TYPE_CHECKING:
    from imgedge.proxy.config import ProxyConfig

NATIVE = "native"  # HMAC-SHA256 over the canonical options and asset id (imgedge.url.signing)
UNSIGNED_MARKERS = (UNSIGNED_MARKER, "unsafe")


class NativeDialect:
    prefix = ""

    def __init__(self, config: ProxyConfig) -> None:
        # Pure in the path, and hot URLs repeat: memoised per process (errors are raised, never cached).
        self._parse_path = functools.lru_cache(maxsize=16384)(
            functools.partial(parse_native_path, settings=config.parse_settings)
        )

    def parse(self, path: str, query: str) -> ParsedRequest:
        return self._parse_path(path)


def parse_native_path(path: str, settings: ParseSettings) -> ParsedRequest:
    parts = split_path(unquote(path))
    spec = parse_options(parts.options, settings, suffix_format=parts.extension)
    if parts.signature in UNSIGNED_MARKERS:
        credential = Credential.unsigned()
    else:
        message = signed_message(spec.canonical(), parts.asset_id)
        credential = Credential(NATIVE, parts.signature, message)
    return ParsedRequest(spec, SourceRef.asset(parts.asset_id), credential)
