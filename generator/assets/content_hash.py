"""What a picture is, apart from the text around it: a hash of a canonical PNG's image header and pixel data
chunks only. A generated original (with its provenance text) and the same pixels uploaded again (without it)
share it, where their asset ids differ; moderation decisions are kept against it (rejections.py)."""

from __future__ import annotations

import hashlib
import struct

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PIXEL_CHUNKS = frozenset({b"IHDR", b"PLTE", b"tRNS", b"IDAT"})


def content_hash(png: bytes) -> str:
    if not png.startswith(PNG_SIGNATURE):
        raise ValueError("not a PNG")
    digest = hashlib.sha256()
    offset = len(PNG_SIGNATURE)
    while offset + 8 <= len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        kind = png[offset + 4 : offset + 8]
        if kind in _PIXEL_CHUNKS:
            digest.update(kind)
            digest.update(png[offset + 8 : offset + 8 + length])
        offset += 12 + length
        if kind == b"IEND":
            break
    return digest.hexdigest()
