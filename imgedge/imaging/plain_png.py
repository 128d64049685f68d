"""A faster decode for the PNGs the generator stores, with libvips for every other image.

Canonical originals are 8-bit PNGs whose rows are all unfiltered (generator/assets/canonical.py). Decoding
one is nearly all inflating its zlib stream, and ISA-L inflates about 1.6x as fast as the zlib-ng inside
libvips' PNG loader (benchmarks/results/profile.md, "The tenth round"). Anything this module does not
recognise as that plain form gives None, so libvips decodes it and reports its faults as before.
"""

from __future__ import annotations

import struct
from typing import cast

import numpy as np
import pyvips
from isal import isal_zlib

# isal's stubs declare its error as an instance of Exception; it is the class.
_InflateError = cast(type[Exception], isal_zlib.error)
_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_BANDS = {0: 1, 2: 3, 4: 2, 6: 4}  # colour type: grey, RGB, grey + alpha, RGBA (no palette)
# Chunks that change no pixel and no colour. Any other (a palette, transparency, a profile, gamma, HDR
# signalling, an orientation, animation) leaves the image to libvips, which knows what it means.
_HARMLESS = frozenset({b"tEXt", b"zTXt", b"iTXt", b"pHYs", b"tIME", b"sRGB"})
# The generator's PNGs hold a dozen text chunks and 8 KiB IDAT chunks; a file cut into far smaller chunks is
# not one of them, and walking millions of chunks would hold the GIL for seconds.
_CHUNKS_BASE, _CHUNK_BYTES = 64, 4096
# Rows inflated first, to turn a filtered PNG away before inflating all of it (its first rows are filtered),
# from at most this much of the stream (what is left unread is copied aside, so not all of it).
_PROBE_ROWS, _PROBE_BYTES = 16, 64 << 10


def decode(data: bytes) -> pyvips.Image | None:
    """The image of a plain PNG (8-bit, not interlaced, no palette or profile, every row unfiltered).

    The caller bounds the pixel count first (imgedge.imaging.inspect): the stream is inflated to the size
    the header declares and no further, and a stream that gives more or less than that is not plain."""
    layout = _layout(data)
    if layout is None:
        return None
    width, height, bands, parts = layout
    stride = 1 + width * bands
    expected = height * stride
    stream = b"".join(parts)
    inflater = isal_zlib.decompressobj()
    try:
        head = memoryview(stream)[:_PROBE_BYTES]
        probe = isal_zlib.decompressobj().decompress(head, min(height, _PROBE_ROWS) * stride)
        if any(probe[row] for row in range(0, len(probe), stride)):
            return None  # filtered rows: undoing filters is libvips' work
        # One call for the rest: ISA-L lets go of the GIL for each call, and one per 8 KiB chunk handed it
        # to the event loop's thread hundreds of times per image.
        raw = inflater.decompress(stream, expected + 1)
    except _InflateError:
        return None
    if len(raw) != expected or not inflater.eof:
        return None
    rows = np.frombuffer(raw, dtype=np.uint8).reshape(height, stride)
    if rows[:, 0].any():  # a filtered row further down
        return None
    # The rows as they are, each filter byte cut off and its samples folded into pixels: no copy.
    rows_image = pyvips.Image.new_from_memory(raw, stride, height, 1, "uchar")
    image = rows_image.extract_area(1, 0, width * bands, height).bandfold(factor=bands)
    return image.copy(interpretation="srgb" if bands >= 3 else "b-w")


def size(data: bytes) -> tuple[int, int, int] | None:
    """(width, height, bands) of a PNG `decode` would take on (its rows may still turn out filtered), else
    None. Read from its chunks alone: a canonical original needs no libvips header read before its decode."""
    layout = _layout(data)
    return None if layout is None else layout[:3]


def _layout(data: bytes) -> tuple[int, int, int, list[memoryview]] | None:
    """(width, height, bands, the IDAT payloads) of a plain PNG, else None."""
    if not data.startswith(_SIGNATURE):
        return None
    view = memoryview(data)
    position = len(_SIGNATURE)
    size: tuple[int, int, int] | None = None
    parts: list[memoryview] = []
    idat_ended = False
    chunks_left = _CHUNKS_BASE + len(data) // _CHUNK_BYTES
    while position + 12 <= len(data):
        chunks_left -= 1
        if chunks_left < 0:
            return None
        length, kind = struct.unpack_from(">I4s", data, position)
        start, end = position + 8, position + 8 + length
        if end + 4 > len(data):
            return None
        if size is None:
            if kind != b"IHDR" or length != 13:
                return None
            size = _image_size(data, start)
            if size is None:
                return None
        elif kind == b"IDAT":
            if idat_ended:  # IDAT chunks must be consecutive
                return None
            parts.append(view[start:end])
        elif kind == b"IEND":
            return (*size, parts) if parts else None
        elif kind in _HARMLESS:
            idat_ended = bool(parts)
        else:
            return None
        position = end + 4  # past the CRC, which libvips would check; the stream's Adler-32 is checked
    return None


def _image_size(data: bytes, start: int) -> tuple[int, int, int] | None:
    width, height, depth, colour, *methods = struct.unpack_from(">IIBBBBB", data, start)
    bands = _BANDS.get(colour)
    if bands is None or depth != 8 or methods != [0, 0, 0]:  # zlib, the five filters, not interlaced
        return None
    if not (0 < width < 1 << 31 and 0 < height < 1 << 31):
        return None
    return width, height, bands
