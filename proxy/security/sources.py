"""Which originals a URL may name: any asset id; a remote or S3 URL only under IMGEDGE_REMOTE_SOURCES.

Checked with the signature, before anything is looked up or fetched: a refused URL costs no network traffic.
"""

from __future__ import annotations

from imgedge.proxy.dialects.base import ParsedRequest
from imgedge.proxy.errors import Forbidden
from imgedge.proxy.sources.allowlist import AllowedPrefix, admitted
from imgedge.proxy.sources.base import ASSET, GENERATION, SourceRef


def check_source(ref: SourceRef, allowed: tuple[AllowedPrefix, ...]) -> None:
    # A generation resolves to an asset of the generator's store: what asset ids name.
    if ref.kind not in (ASSET, GENERATION) and not admitted(ref.location, allowed):
        raise Forbidden("source is not allowed (IMGEDGE_REMOTE_SOURCES)")


def check_sources(parsed: ParsedRequest, allowed: tuple[AllowedPrefix, ...]) -> None:
    """The original and, when the spec has one, the watermark's mark."""
    check_source(parsed.source, allowed)
    if parsed.spec.watermark is not None:
        check_source(SourceRef.parse(parsed.spec.watermark.mark, part="watermark"), allowed)
