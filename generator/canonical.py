"""Turn any accepted image into the canonical original: sRGB PNG, orientation applied, metadata gone."""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass

import pyvips

ASSET_ID_HEX = 32


class InvalidImage(ValueError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class Canonical:
    png: bytes
    width: int
    height: int
    asset_id: str


def asset_id_for(png: bytes) -> str:
    return hashlib.sha256(png).hexdigest()[:ASSET_ID_HEX]


def canonicalize(data: bytes, *, max_pixels: int) -> Canonical:
    if not data:
        raise InvalidImage(422, "empty file")
    try:
        header = pyvips.Image.new_from_buffer(data, "", access="sequential")
    except pyvips.Error:
        raise InvalidImage(415, "not a supported image") from None
    if header.width * header.height > max_pixels:
        raise InvalidImage(413, f"image has {header.width}x{header.height} pixels, limit is {max_pixels}")
    try:
        image = pyvips.Image.new_from_buffer(data, "", fail_on="error").autorot()
        image = _to_srgb(image)
        png = image.write_to_buffer(".png", compression=6, keep="none")
    except pyvips.Error:
        raise InvalidImage(422, "image data is corrupt or truncated") from None
    return Canonical(png=png, width=image.width, height=image.height, asset_id=asset_id_for(png))


def _to_srgb(image: pyvips.Image) -> pyvips.Image:
    if image.get_typeof("icc-profile-data") != 0:
        # A broken embedded profile falls through to the plain colourspace conversion below.
        with contextlib.suppress(pyvips.Error):
            image = image.icc_transform("srgb", embedded=True, intent="perceptual")
    if image.interpretation not in ("srgb", "b-w") or image.format != "uchar":
        image = image.colourspace("srgb" if image.bands >= 3 or image.interpretation == "cmyk" else "b-w")
    if image.format != "uchar":
        image = image.cast("uchar")
    return image
