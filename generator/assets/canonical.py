"""The canonical original: an sRGB PNG, orientation applied, foreign metadata gone, named by its hash.

Made from an accepted image file (uploads, ingest) or from a model's pixels (with their provenance).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pyvips

from imgedge.errors import PublicError
from imgedge.generator.assets.png_provenance import embed
from imgedge.imaging.colour import to_srgb
from imgedge.imaging.encode import save
from imgedge.imaging.errors import LibvipsFailure
from imgedge.imaging.failures import blame
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
        png = _png(image)
    except pyvips.Error as exc:
        failure = blame(exc, data, stage="canonicalize")
        if isinstance(failure, LibvipsFailure):
            raise failure from None
        raise InvalidImage(422, "image data is corrupt or truncated") from None
    return Canonical(png=png, width=image.width, height=image.height, asset_id=asset_id_for(png))


def _png(image: pyvips.Image) -> bytes:
    return save(image, "png", "none", compression=6)


def canonical_from_pixels(
    pixels: np.ndarray, text: Mapping[str, str], digital_source_type: str | None
) -> Canonical:
    """`pixels` is height x width x 3, floats in [0, 1]; `text` goes into the PNG, so it travels with it."""
    rgb = np.ascontiguousarray((np.clip(pixels, 0.0, 1.0) * 255).round().astype(np.uint8))
    height, width, bands = rgb.shape
    image = pyvips.Image.new_from_memory(rgb.tobytes(), width, height, bands, "uchar")
    try:
        png = embed(_png(image.copy(interpretation="srgb")), text, digital_source_type)
    except pyvips.Error as exc:
        raise blame(exc, None, stage="canonicalize") from None
    return Canonical(png=png, width=width, height=height, asset_id=asset_id_for(png))
