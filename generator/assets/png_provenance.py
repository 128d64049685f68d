"""Provenance embedded in the PNG itself, so it travels with the file: iTXt chunks plus an XMP packet."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Mapping

from imgedge.provenance import TRAINED_ALGORITHMIC_MEDIA

__all__ = ["PNG_SIGNATURE", "TRAINED_ALGORITHMIC_MEDIA", "XMP_KEYWORD", "PngError", "embed", "read_text"]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
XMP_KEYWORD = "XML:com.adobe.xmp"

_XMP = (
    '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    '<rdf:Description rdf:about="" xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"'
    ' Iptc4xmpExt:DigitalSourceType="{source}"/>'
    '</rdf:RDF></x:xmpmeta><?xpacket end="r"?>'
)


class PngError(ValueError):
    pass


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _itxt(keyword: str, text: str) -> bytes:
    # keyword \0, compression flag 0, method 0, empty language tag \0, empty translated keyword \0, UTF-8 text
    return _chunk(b"iTXt", keyword.encode("latin-1") + b"\0\0\0\0\0" + text.encode("utf-8"))


def embed(png: bytes, fields: Mapping[str, str], digital_source_type: str | None) -> bytes:
    """Insert the chunks right after IHDR, where readers that stop at the first IDAT still find them."""
    if not png.startswith(PNG_SIGNATURE) or png[12:16] != b"IHDR":
        raise PngError("not a PNG")
    ihdr_end = 8 + 8 + struct.unpack(">I", png[8:12])[0] + 4
    chunks = [_itxt(key, value) for key, value in fields.items()]
    if digital_source_type:
        chunks.append(_itxt(XMP_KEYWORD, _XMP.format(source=digital_source_type)))
    return png[:ihdr_end] + b"".join(chunks) + png[ihdr_end:]


def read_text(png: bytes) -> dict[str, str]:
    if not png.startswith(PNG_SIGNATURE):
        raise PngError("not a PNG")
    found: dict[str, str] = {}
    pos = len(PNG_SIGNATURE)
    while pos + 8 <= len(png):
        length = struct.unpack(">I", png[pos : pos + 4])[0]
        kind = png[pos + 4 : pos + 8]
        data = png[pos + 8 : pos + 8 + length]
        if kind == b"iTXt":
            keyword, _, rest = data.partition(b"\0")
            # Skip the compression flag and method, then the language tag and translated keyword.
            _, _, rest = rest[2:].partition(b"\0")
            _, _, text = rest.partition(b"\0")
            found[keyword.decode("latin-1")] = text.decode("utf-8")
        elif kind == b"tEXt":
            keyword, _, text = data.partition(b"\0")
            found[keyword.decode("latin-1")] = text.decode("latin-1")
        if kind == b"IEND":
            break
        pos += 12 + length
    return found
