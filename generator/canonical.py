"""Turn any accepted image into the canonical original: sRGB PNG, orientation applied, metadata gone."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pyvips

from imgedge.errors import PublicError
from imgedge.imaging.colour import to_srgb
from imgedge.imaging.inspect import inspect

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
    # The proxy's own header check and colour conversion, so an original is judged and converted the same
    # way whether it arrives as an upload or is fetched for a transform.
    try:
        inspect(data, max_pixels=max_pixels)
    except PublicError as exc:
        raise InvalidImage(exc.status, exc.message) from None
    try:
        image = pyvips.Image.new_from_buffer(data, "", fail_on="error").autorot()
        image = to_srgb(image, keep_profile=False)
        png = image.write_to_buffer(".png", compression=6, keep="none")
    except pyvips.Error:
        raise InvalidImage(422, "image data is corrupt or truncated") from None
    return Canonical(png=png, width=image.width, height=image.height, asset_id=asset_id_for(png))
