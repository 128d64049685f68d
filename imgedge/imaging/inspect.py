"""Read only the header: dimensions, orientation, alpha, frames. Limits are checked before any decoding."""

from __future__ import annotations

from dataclasses import dataclass

import pyvips

from imgedge.imaging import plain_png
from imgedge.imaging.errors import CorruptImage, SourceTooLarge, UnsupportedImage

_SWAPPING_ORIENTATIONS = {5, 6, 7, 8}
# Formats people upload and models produce. Everything else libvips can read (SVG with its external
# references, PDF, FITS, matrix, CSV, raw PPM …) is refused before a decoder runs.
ALLOWED_LOADERS = ("jpegload", "pngload", "webpload", "gifload", "heifload", "tiffload", "jxlload")
_PLAIN_LOADER = "pngload_buffer"  # what libvips names its loader of a PNG in memory


@dataclass(frozen=True, slots=True)
class Header:
    width: int  # after EXIF orientation
    height: int
    has_alpha: bool
    pages: int
    loader: str


_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"II*\x00", b"MM\x00*")


def looks_like_image(data: bytes) -> bool:
    """The first bytes say image even though no loader could read it: damaged, not foreign."""
    if data.startswith(_MAGIC):
        return True
    return (data[:4] == b"RIFF" and data[8:12] == b"WEBP") or data[4:12] in (b"ftypavif", b"ftypheic")


def inspect(data: bytes, *, max_pixels: int) -> Header:
    if not data:
        raise CorruptImage("source image is empty")
    plain = plain_png.size(data)
    if plain is not None:
        # A canonical original: one frame, no orientation, what libvips' header read would say, in half
        # its time (benchmarks/results/profile.md, "The thirteenth round").
        width, height, bands = plain
        _check_pixels(width, height, max_pixels)
        return Header(width=width, height=height, has_alpha=bands in (2, 4), pages=1, loader=_PLAIN_LOADER)
    try:
        image = pyvips.Image.new_from_buffer(data, "", access="sequential")
    except pyvips.Error:
        if looks_like_image(data):
            raise CorruptImage("source image is corrupt or truncated") from None
        raise UnsupportedImage("source is not an image in a supported format") from None
    loader = image.get("vips-loader") if image.get_typeof("vips-loader") else "unknown"
    if not loader.startswith(ALLOWED_LOADERS):
        raise UnsupportedImage(f"source format ({loader.removesuffix('_buffer')}) is not accepted")
    width, height = image.width, image.height
    pages = image.get("n-pages") if image.get_typeof("n-pages") else 1
    _check_pixels(width, height, max_pixels)
    orientation = image.get("orientation") if image.get_typeof("orientation") else 1
    if orientation in _SWAPPING_ORIENTATIONS:
        width, height = height, width
    return Header(width=width, height=height, has_alpha=image.hasalpha(), pages=pages, loader=loader)


def _check_pixels(width: int, height: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise SourceTooLarge(f"source is {width}x{height} pixels, limit is {max_pixels}")
