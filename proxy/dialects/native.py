"""imgedge's own URLs: `/{signature}/{options…}/{asset_id}[.ext]`, signed over the canonical form."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import unquote

from imgedge.proxy.dialects.base import Credential, ParsedRequest
from imgedge.proxy.errors import Forbidden
from imgedge.proxy.sources.base import SourceRef
from imgedge.url import ParseSettings, parse_options
from imgedge.url.build import UNSIGNED as UNSIGNED_MARKER
from imgedge.url.path import split_path
from imgedge.url.signing import signed_message, well_formed_signature

if TYPE_CHECKING:
    from imgedge.proxy.config import ProxyConfig

NATIVE = "native"  # HMAC-SHA256 over the canonical options and asset id (imgedge.url.signing)
UNSIGNED_MARKERS = (UNSIGNED_MARKER, "unsafe")


class NativeDialect:
    prefix = ""

    def __init__(self, config: ProxyConfig) -> None:
        self.settings = config.parse_settings

    def parse(self, path: str, query: str) -> ParsedRequest:
        # Pure, and not memoised here: the transform handler memoises requests once they have been verified.
        return parse_native_path(path, self.settings)


def parse_native_path(path: str, settings: ParseSettings) -> ParsedRequest:
    # The path arrives as sent; a signature has one spelling, so it must not need percent-decoding.
    raw_signature = path.lstrip("/").split("/", 1)[0]
    parts = split_path(unquote(path))
    unsigned = parts.signature in UNSIGNED_MARKERS
    if not unsigned and (raw_signature != parts.signature or not well_formed_signature(parts.signature)):
        # Refused on its shape alone, before the options are even read: 43 characters of base64url.
        raise Forbidden("invalid signature")
    spec = parse_options(parts.options, settings, suffix_format=parts.extension)
    if unsigned:
        credential = Credential.unsigned()
    else:
        message = signed_message(spec.canonical(), parts.asset_id)
        credential = Credential(NATIVE, parts.signature, message)
    return ParsedRequest(spec, SourceRef.asset(parts.asset_id), credential)
