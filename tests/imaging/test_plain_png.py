"""The fast decode of canonical PNGs: the same pixels as libvips, or None and libvips decides."""

from __future__ import annotations

import struct
import tracemalloc
import zlib

import numpy as np
import pytest
import pyvips
from skimage import data as photos

from imgedge.generator.assets.canonical import canonicalize
from imgedge.imaging import plain_png
from imgedge.imaging.encode import metadata_options
from imgedge.proxy.pipeline import load
from imgedge.proxy.pipeline.geometry import Box


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def _png(rows: bytes, width: int, height: int, colour: int = 2, *, depth: int = 8, interlace: int = 0,
         extra: tuple[bytes, ...] = (), idat_parts: int = 1) -> bytes:  # fmt: skip
    header = _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, interlace))
    stream = zlib.compress(rows)
    cut = len(stream) // idat_parts + 1
    idats = b"".join(_chunk(b"IDAT", stream[i : i + cut]) for i in range(0, len(stream), cut))
    return b"\x89PNG\r\n\x1a\n" + header + b"".join(extra) + idats + _chunk(b"IEND", b"")


def _unfiltered(pixels: np.ndarray) -> bytes:
    height = pixels.shape[0]
    flat = pixels.reshape(height, -1)
    return np.hstack([np.zeros((height, 1), np.uint8), flat]).tobytes()


def _array(image: pyvips.Image) -> np.ndarray:
    return np.ndarray(
        buffer=image.write_to_memory(), dtype=np.uint8, shape=(image.height, image.width, image.bands)
    )


def _photo(size: int = 256) -> np.ndarray:
    return np.asarray(photos.astronaut()[:size, :size], dtype=np.uint8)


@pytest.mark.parametrize("bands", [1, 2, 3, 4])
def test_canonical_pngs_decode_to_the_pixels_libvips_gives(bands: int) -> None:
    pixels = _photo()
    pixels = np.dstack([pixels, pixels[:, :, :1]]) if bands == 4 else pixels
    pixels = pixels[:, :, :1] if bands == 1 else pixels[:, :, :2] if bands == 2 else pixels
    source = pyvips.Image.new_from_array(np.ascontiguousarray(pixels)).write_to_buffer(".png")
    canonical = canonicalize(source, max_pixels=10**7).png  # what the generator stores, provenance chunks too
    fast = plain_png.decode(canonical)
    assert fast is not None
    reference = pyvips.Image.new_from_buffer(canonical, "")
    assert (fast.width, fast.height, fast.bands) == (reference.width, reference.height, reference.bands)
    assert (fast.format, fast.interpretation) == ("uchar", reference.interpretation)
    assert np.array_equal(_array(fast), _array(reference))


@pytest.mark.parametrize(("colour", "bands"), [(0, 1), (4, 2), (2, 3), (6, 4)])
def test_each_colour_type_decodes_as_libvips_does(colour: int, bands: int) -> None:
    pixels = np.dstack([_photo(64)] * 2)[:, :, :bands]  # canonical originals are RGB or RGBA; others may come
    data = _png(_unfiltered(np.ascontiguousarray(pixels)), 64, 64, colour)
    fast = plain_png.decode(data)
    assert fast is not None
    reference = pyvips.Image.new_from_buffer(data, "")
    assert (fast.bands, fast.interpretation) == (bands, reference.interpretation)
    assert np.array_equal(_array(fast), _array(reference))


def test_the_proxy_scales_and_loads_canonical_pngs_as_libvips_would() -> None:
    source = pyvips.Image.new_from_array(_photo(512)).write_to_buffer(".png")
    canonical = canonicalize(source, max_pixels=10**7).png
    assert plain_png.decode(canonical) is not None
    whole = pyvips.Image.new_from_buffer(canonical, "")
    scaled = load.load_scaled(canonical, Box(200, 200))
    reference = pyvips.Image.thumbnail_buffer(canonical, 200, height=200, size="force")
    assert np.array_equal(_array(scaled), _array(reference))
    assert np.array_equal(_array(load.load_full(canonical)), _array(whole))


def test_other_pngs_are_left_to_libvips() -> None:
    pixels = _photo(64)
    rows = _unfiltered(pixels)
    assert plain_png.decode(_png(rows, 64, 64)) is not None  # the control: plain, as built here
    assert plain_png.decode(_png(rows, 64, 64, idat_parts=5)) is not None
    filtered = bytes(b if i % (1 + 64 * 3) else 1 for i, b in enumerate(rows))  # every row "sub"
    refused = {
        "filtered rows": _png(filtered, 64, 64),
        "16-bit": _png(rows, 32, 64, depth=16),
        "interlaced": _png(rows, 64, 64, interlace=1),
        "palette": _png(rows, 64, 64, colour=3),
        "a colour profile": _png(rows, 64, 64, extra=(_chunk(b"iCCP", b"p\x00\x00" + zlib.compress(b"x")),)),
        "transparency": _png(rows, 64, 64, extra=(_chunk(b"tRNS", b"\x00\x01\x00\x02\x00\x03"),)),
        "an orientation": _png(rows, 64, 64, extra=(_chunk(b"eXIf", b"MM\x00*"),)),
        "gamma": _png(rows, 64, 64, extra=(_chunk(b"gAMA", struct.pack(">I", 100000)),)),
        "animation": _png(rows, 64, 64, extra=(_chunk(b"acTL", struct.pack(">II", 1, 0)),)),
        "too few rows": _png(rows[: len(rows) // 2], 64, 64),
        "more data than rows": _png(rows + rows, 64, 64),
        "no IEND": _png(rows, 64, 64)[:-12],
        "a truncated chunk": _png(rows, 64, 64)[:100],
        "JPEG": pyvips.Image.new_from_array(pixels).write_to_buffer(".jpg"),
        "nothing": b"",
    }
    for name, data in refused.items():
        assert plain_png.decode(data) is None, name


def test_a_corrupt_stream_is_left_to_libvips() -> None:
    data = bytearray(_png(_unfiltered(_photo(64)), 64, 64))
    start = data.index(b"IDAT") + 4
    data[start + 10 : start + 30] = b"\xff" * 20
    assert plain_png.decode(bytes(data)) is None


def test_idat_chunks_apart_are_left_to_libvips() -> None:
    stream = zlib.compress(_unfiltered(_photo(64)))
    header = _chunk(b"IHDR", struct.pack(">IIBBBBB", 64, 64, 8, 2, 0, 0, 0))
    half = len(stream) // 2
    apart = _chunk(b"IDAT", stream[:half]) + _chunk(b"tEXt", b"k\x00v") + _chunk(b"IDAT", stream[half:])
    assert plain_png.decode(b"\x89PNG\r\n\x1a\n" + header + apart + _chunk(b"IEND", b"")) is None


def _refused_within(data: bytes) -> int:
    """Asserts that `data` is not decoded as plain; returns the peak of Python allocations while deciding."""
    tracemalloc.start()
    try:
        assert plain_png.decode(data) is None
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_stream_that_inflates_past_the_header_stops_at_its_size() -> None:
    # A kilobyte that inflates to 64 MiB, declared as a 16x16 image: inflating stops one byte past 16 rows.
    bomb = zlib.compress(bytes(64 << 20), 9)
    header = _chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0))
    data = b"\x89PNG\r\n\x1a\n" + header + _chunk(b"IDAT", bomb) + _chunk(b"IEND", b"")
    peak = _refused_within(data)
    assert peak < 1 << 20, peak


def test_a_filtered_png_is_turned_away_before_its_whole_stream_is_inflated() -> None:
    image = pyvips.Image.new_from_array(np.ascontiguousarray(_photo(512)))
    filtered = image.write_to_buffer(".png", filter="all", **metadata_options("png", "none"))
    peak = _refused_within(filtered)
    # The joined stream and the first rows only: the 768 KiB of inflated rows are never made.
    assert peak < len(filtered) + (256 << 10), (peak, len(filtered))


def test_a_png_cut_into_tiny_chunks_is_left_to_libvips() -> None:
    rows = _unfiltered(_photo(16))
    few = tuple(_chunk(b"tEXt", b"") for _ in range(8))
    many = tuple(_chunk(b"tEXt", b"") for _ in range(200))
    assert plain_png.decode(_png(rows, 16, 16, extra=few)) is not None
    assert plain_png.decode(_png(rows, 16, 16, extra=many)) is None
