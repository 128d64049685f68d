"""A cached response and its self-checking byte form, shared by the disk and Redis tiers."""

from __future__ import annotations

import json
import struct
import zlib
from dataclasses import dataclass
from typing import Any

_MAGIC = b"IEC1"
# magic, metadata length, body length; the CRC32 of everything before it closes the record.
_HEAD = struct.Struct(">4sIQ")
_CRC = struct.Struct(">I")
# Per-entry bookkeeping (dict slots, object headers) charged on top of the payload by byte-bounded tiers.
_OVERHEAD_BYTES = 256


class CorruptEntry(ValueError):
    """Stored bytes are torn, truncated or not an entry at all."""


@dataclass(frozen=True, slots=True)
class Entry:
    body: bytes
    media_type: str
    etag: str
    tags: tuple[str, ...]
    created_at: float
    headers: tuple[tuple[str, str], ...] = ()


def entry_size(entry: Entry) -> int:
    strings = len(entry.media_type) + len(entry.etag) + sum(len(t) for t in entry.tags)
    strings += sum(len(k) + len(v) for k, v in entry.headers)
    return len(entry.body) + strings + _OVERHEAD_BYTES


def encode_entry(entry: Entry) -> bytes:
    meta = json.dumps(
        {
            "m": entry.media_type,
            "e": entry.etag,
            "t": list(entry.tags),
            "c": entry.created_at,
            "h": [list(pair) for pair in entry.headers],
        },
        separators=(",", ":"),
    ).encode()
    head = _HEAD.pack(_MAGIC, len(meta), len(entry.body))
    crc = zlib.crc32(entry.body, zlib.crc32(meta, zlib.crc32(head)))
    return b"".join((head, meta, entry.body, _CRC.pack(crc)))


def decode_entry(data: bytes) -> Entry:
    if len(data) < _HEAD.size + _CRC.size:
        raise CorruptEntry("too short")
    magic, meta_len, body_len = _HEAD.unpack_from(data)
    if magic != _MAGIC:
        raise CorruptEntry("bad magic")
    if len(data) != _HEAD.size + meta_len + body_len + _CRC.size:
        raise CorruptEntry("length mismatch")
    view = memoryview(data)
    meta_end = _HEAD.size + meta_len
    body_end = meta_end + body_len
    crc = zlib.crc32(view[meta_end:body_end], zlib.crc32(view[:meta_end]))
    if _CRC.unpack_from(data, body_end)[0] != crc:
        raise CorruptEntry("checksum mismatch")
    try:
        return _entry_from_meta(json.loads(view[_HEAD.size : meta_end].tobytes()), data[meta_end:body_end])
    except (ValueError, TypeError, KeyError) as exc:
        raise CorruptEntry(f"bad metadata: {exc}") from exc


def _entry_from_meta(meta: Any, body: bytes) -> Entry:
    media_type, etag, tags, created_at = meta["m"], meta["e"], meta["t"], meta["c"]
    headers = [tuple(pair) for pair in meta["h"]]
    if not (isinstance(media_type, str) and isinstance(etag, str) and isinstance(created_at, int | float)):
        raise TypeError("metadata field of the wrong type")
    if not all(isinstance(t, str) for t in tags):
        raise TypeError("tag is not a string")
    if not all(len(p) == 2 and isinstance(p[0], str) and isinstance(p[1], str) for p in headers):
        raise TypeError("header is not a name/value pair")
    return Entry(
        body=body,
        media_type=media_type,
        etag=etag,
        tags=tuple(tags),
        created_at=float(created_at),
        headers=tuple((str(k), str(v)) for k, v in headers),
    )
