"""Decode the source. The common case shrinks on load; rotations, flips and crops need the full image."""

from __future__ import annotations

import pyvips

from imgedge.proxy.pipeline.decoded import DecodedImage
from imgedge.proxy.pipeline.geometry import Box
from imgedge.url.errors import OptionError
from imgedge.url.spec import TransformSpec

# Truncated or garbled data must fail the request rather than render grey bands.
_LOAD_OPTIONS = "fail_on=error"


def needs_full_decode(spec: TransformSpec) -> bool:
    return spec.crop is not None or bool(spec.rotate) or spec.flip or spec.flop


def load_scaled(data: bytes | DecodedImage, size: Box, *, level_ratio: float = 0.0) -> pyvips.Image:
    if isinstance(data, DecodedImage):
        return scale_to(data.to_vips(data.level_for(size.width, size.height, level_ratio)), size)
    return pyvips.Image.thumbnail_buffer(
        data, size.width, height=size.height, size="force", option_string=_LOAD_OPTIONS
    )


def load_full(data: bytes | DecodedImage) -> pyvips.Image:
    if isinstance(data, DecodedImage):
        return data.to_vips()
    return pyvips.Image.new_from_buffer(data, _LOAD_OPTIONS).autorot()


def orient(image: pyvips.Image, spec: TransformSpec) -> pyvips.Image:
    if spec.rotate:
        image = image.rot(f"d{spec.rotate}")
    if spec.flip:
        image = image.flip("vertical")
    if spec.flop:
        image = image.flip("horizontal")
    return image


def crop_rect(image: pyvips.Image, spec: TransformSpec) -> pyvips.Image:
    if spec.crop is None:
        return image
    x, y, w, h = spec.crop
    if x >= image.width or y >= image.height:
        raise OptionError("crop", f"rectangle starts outside the {image.width}x{image.height} image")
    return image.extract_area(x, y, min(w, image.width - x), min(h, image.height - y))


def scale_to(image: pyvips.Image, size: Box) -> pyvips.Image:
    if (image.width, image.height) == (size.width, size.height):
        return image
    return image.thumbnail_image(size.width, height=size.height, size="force")
