"""Header reads: a canonical PNG's from its chunks, every other image's from libvips, with the same answer."""

from __future__ import annotations

import struct

import numpy as np
import pytest
import pyvips
from skimage import data as photos

from imgedge.generator.assets.canonical import canonicalize
from imgedge.imaging import plain_png
from imgedge.imaging.errors import SourceTooLarge
from imgedge.imaging.inspect import inspect
from tests.imaging.test_plain_png import _chunk, _png, _unfiltered


def _through_libvips(data: bytes, monkeypatch: pytest.MonkeyPatch, max_pixels: int = 10**8) -> object:
    with monkeypatch.context() as patched:
        patched.setattr(plain_png, "size", lambda _data: None)
        return inspect(data, max_pixels=max_pixels)


@pytest.mark.parametrize("colour", [0, 4, 2, 6])
def test_a_plain_png_reads_as_libvips_reads_it(colour: int, monkeypatch: pytest.MonkeyPatch) -> None:
    bands = {0: 1, 4: 2, 2: 3, 6: 4}[colour]
    pixels = np.ascontiguousarray(np.dstack([photos.astronaut()[:48, :64]] * 2)[:, :, :bands])
    data = _png(_unfiltered(pixels), 64, 48, colour, idat_parts=3)
    assert plain_png.size(data) == (64, 48, bands)
    assert inspect(data, max_pixels=10**8) == _through_libvips(data, monkeypatch)


def test_a_canonical_original_is_read_without_libvips(monkeypatch: pytest.MonkeyPatch) -> None:
    source = pyvips.Image.new_from_array(np.ascontiguousarray(photos.astronaut()[:200, :300]))
    canonical = canonicalize(source.write_to_buffer(".png"), max_pixels=10**7).png
    expected = _through_libvips(canonical, monkeypatch)

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("libvips read the header")

    monkeypatch.setattr(pyvips.Image, "new_from_buffer", refuse)
    assert inspect(canonical, max_pixels=10**8) == expected
    with pytest.raises(SourceTooLarge, match="300x200 pixels, limit is 59999"):
        inspect(canonical, max_pixels=59_999)


def test_an_oriented_png_goes_to_libvips() -> None:
    # EXIF orientation 6 (turned a quarter): libvips reports the turned size, which a chunk walk would not.
    exif = b"MM\x00*\x00\x00\x00\x08\x00\x01" + struct.pack(">HHIHH", 0x0112, 3, 1, 6, 0) + b"\x00" * 4
    oriented = _png(_unfiltered(np.zeros((2, 4, 3), np.uint8)), 4, 2, extra=(_chunk(b"eXIf", exif),))
    assert plain_png.size(oriented) is None
    header = inspect(oriented, max_pixels=100)
    assert (header.width, header.height, header.loader) == (2, 4, "pngload_buffer")
