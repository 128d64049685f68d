"""Decode the source. The common case shrinks on load; rotations, flips and crops need the full image."""

from __future__ import annotations

import pyvips

from imgedge.imaging import plain_png
from imgedge.proxy.pipeline.decoded import DecodedImage
from imgedge.proxy.pipeline.geometry import Box, offset
from imgedge.url.errors import OptionError
from imgedge.url.spec import TransformSpec

# Truncated or garbled data must fail the request rather than render grey bands.
_LOAD_OPTIONS = "fail_on=error"


def needs_full_decode(spec: TransformSpec) -> bool:
    return (
        spec.crop is not None or spec.area is not None or spec.trim is not None
        or bool(spec.rotate) or spec.flip or spec.flop
    )  # fmt: skip


def load_scaled(data: bytes | DecodedImage, size: Box, *, level_ratio: float = 0.0) -> pyvips.Image:
    if isinstance(data, DecodedImage):
        return scale_to(data.to_vips(data.level_for(size.width, size.height, level_ratio)), size)
    plain = plain_png.decode(data)
    if plain is not None:
        return scale_to(plain, size)
    return pyvips.Image.thumbnail_buffer(
        data, size.width, height=size.height, size="force", option_string=_LOAD_OPTIONS
    )


def load_full(data: bytes | DecodedImage) -> pyvips.Image:
    if isinstance(data, DecodedImage):
        return data.to_vips()
    plain = plain_png.decode(data)  # never rotated: orientation is a chunk it does not accept
    if plain is not None:
        return plain
    return pyvips.Image.new_from_buffer(data, _LOAD_OPTIONS).autorot()


def orient(image: pyvips.Image, spec: TransformSpec) -> pyvips.Image:
    if spec.rotate:
        image = image.rot(f"d{spec.rotate}")
    if spec.flip:
        image = image.flip("vertical")
    if spec.flop:
        image = image.flip("horizontal")
    return image


def cut(image: pyvips.Image, spec: TransformSpec) -> tuple[pyvips.Image, tuple[int, int]]:
    """Trim, then the crop rectangle or area; also where the result's top-left was in `image`."""
    image, (trim_x, trim_y) = trim(image, spec)
    image, (crop_x, crop_y) = crop_rect(image, spec)
    return image, (trim_x + crop_x, trim_y + crop_y)


def _reference(image: pyvips.Image, reference: str) -> list[float]:
    if reference == "":
        return [float(v) for v in image(0, 0)]
    if reference == "br":
        return [float(v) for v in image(image.width - 1, image.height - 1)]
    channels = [float(int(reference[i : i + 2], 16)) for i in range(0, 6, 2)]
    return (channels + [255.0] * image.bands)[: image.bands]


def trim(image: pyvips.Image, spec: TransformSpec) -> tuple[pyvips.Image, tuple[int, int]]:
    """Cut away edges within `threshold` of the reference colour; nothing when that would leave nothing."""
    if spec.trim is None:
        return image, (0, 0)
    threshold, reference = spec.trim
    # find_trim reads the image more than once; the loader only streams it top to bottom.
    image = image.copy_memory()
    left, top, width, height = image.find_trim(threshold=threshold, background=_reference(image, reference))
    if width <= 0 or height <= 0:
        return image, (0, 0)
    return image.extract_area(left, top, width, height), (left, top)


def crop_rect(image: pyvips.Image, spec: TransformSpec) -> tuple[pyvips.Image, tuple[int, int]]:
    if spec.area is not None:
        return _crop_area(image, spec)
    if spec.crop is None:
        return image, (0, 0)
    x, y, w, h = spec.crop
    if x >= image.width or y >= image.height:
        raise OptionError("crop", f"rectangle starts outside the {image.width}x{image.height} image")
    return image.extract_area(x, y, min(w, image.width - x), min(h, image.height - y)), (x, y)


def _side(requested: float, available: int) -> int:
    if requested <= 0:
        return available
    if requested < 1:
        return max(1, round(available * requested))
    return min(int(requested), available)


def _crop_area(image: pyvips.Image, spec: TransformSpec) -> tuple[pyvips.Image, tuple[int, int]]:
    assert spec.area is not None
    area = spec.area
    box = Box(_side(area.width, image.width), _side(area.height, image.height))
    x, y = offset(Box(image.width, image.height), box, area.gravity, area.focus)
    return image.extract_area(x, y, box.width, box.height), (x, y)


def scale_to(image: pyvips.Image, size: Box) -> pyvips.Image:
    if (image.width, image.height) == (size.width, size.height):
        return image
    return image.thumbnail_image(size.width, height=size.height, size="force")
