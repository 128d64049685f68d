"""Read only the header: dimensions, orientation, alpha, frames. Limits are checked before any decoding."""

from __future__ import annotations

from dataclasses import dataclass

import pyvips

from proxy.errors import CorruptImage, SourceTooLarge, UnsupportedImage

_SWAPPING_ORIENTATIONS = {5, 6, 7, 8}


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
    width, height = image.width, image.height
    pages = image.get("n-pages") if image.get_typeof("n-pages") else 1
    if width * height > max_pixels:
        raise SourceTooLarge(f"source is {width}x{height} pixels, limit is {max_pixels}")
    orientation = image.get("orientation") if image.get_typeof("orientation") else 1
    if orientation in _SWAPPING_ORIENTATIONS:
        width, height = height, width
    loader = image.get("vips-loader") if image.get_typeof("vips-loader") else "unknown"
    return Header(width=width, height=height, has_alpha=image.hasalpha(), pages=pages, loader=loader)
