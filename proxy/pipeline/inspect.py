"""Read only the header: dimensions, orientation, alpha, frames. Limits are checked before any decoding."""

from __future__ import annotations

from dataclasses import dataclass

import pyvips

from proxy.errors import CorruptImage, SourceTooLarge, UnsupportedImage

_SWAPPING_ORIENTATIONS = {5, 6, 7, 8}
# Formats people upload and models produce. Everything else libvips can read (SVG with its external
# references, PDF, FITS, matrix, CSV, raw PPM …) is refused before a decoder runs.
ALLOWED_LOADERS = ("jpegload", "pngload", "webpload", "gifload", "heifload", "tiffload", "jxlload")


@dataclass(frozen=True, slots=True)
class Header:
    width: int  # after EXIF orientation
    height: int
    has_alpha: bool
    pages: int
    loader: str


def inspect(data: bytes, *, max_pixels: int) -> Header:
    if not data:
        raise CorruptImage("source image is empty")
    try:
        image = pyvips.Image.new_from_buffer(data, "", access="sequential")
    except pyvips.Error:
        raise UnsupportedImage("source is not an image in a supported format") from None
    loader = image.get("vips-loader") if image.get_typeof("vips-loader") else "unknown"
    if not loader.startswith(ALLOWED_LOADERS):
        raise UnsupportedImage(f"source format ({loader.removesuffix('_buffer')}) is not accepted")
    width, height = image.width, image.height
    pages = image.get("n-pages") if image.get_typeof("n-pages") else 1
    if width * height > max_pixels:
        raise SourceTooLarge(f"source is {width}x{height} pixels, limit is {max_pixels}")
    orientation = image.get("orientation") if image.get_typeof("orientation") else 1
    if orientation in _SWAPPING_ORIENTATIONS:
        width, height = height, width
    return Header(width=width, height=height, has_alpha=image.hasalpha(), pages=pages, loader=loader)
