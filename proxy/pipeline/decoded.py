"""Originals kept as raw sRGB pixels, with a resolution pyramid: loading them is a memcpy, not a PNG decode.

Decoding a 1024x1024 PNG is most of a 400 px WebP transform (28 ms with the PNG, 17 ms from pixels here),
so the source cache keeps this form next to the encoded original for strip=1 requests. Below the full-size
image it keeps exact halvings (lanczos3, made once per original, when the first variant that can use one is
asked for), and a variant is resized from the smallest level at least `level_ratio` times its size: with the
default 1, a 400 px variant of a 1024² original reads the 512² level, a quarter of the pixels.
benchmarks/results/pyramid.md measures each ratio with SSIMULACRA2.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pyvips

from imgedge.imaging.colour import to_srgb
from imgedge.imaging.failures import blame
from imgedge.imaging.inspect import Header, inspect

# Reductions stop before the shorter side would fall below this: smaller variants are rare and cheap.
MIN_LEVEL_SIDE = 64


@dataclass(frozen=True, slots=True)
class Level:
    width: int
    height: int
    offset: int  # where its rows start in DecodedImage.pixels


@dataclass(frozen=True, slots=True)
class DecodedImage:
    pixels: bytes  # every level back to back, full size first
    width: int
    height: int
    bands: int
    reductions: tuple[Level, ...] = ()  # halving in size, after the full-size level at offset 0

    @property
    def header(self) -> Header:
        return Header(self.width, self.height, self.bands in (2, 4), 1, "decoded")

    @property
    def levels(self) -> tuple[Level, ...]:
        return (Level(self.width, self.height, 0), *self.reductions)

    def level_for(self, width: int, height: int, level_ratio: float) -> Level:
        """The smallest level at least `level_ratio` times width x height; full size when none is, or when
        the ratio is 0 (pyramid off)."""
        chosen = self.levels[0]
        if level_ratio <= 0:
            return chosen
        for level in self.reductions:
            if level.width < width * level_ratio or level.height < height * level_ratio:
                break
            chosen = level
        return chosen

    def lacks_reduction_for(self, width: int, height: int, level_ratio: float) -> bool:
        """True when a reduction would serve width x height but none has been made yet."""
        if level_ratio <= 0 or self.reductions or not _halves(self.width, self.height):
            return False
        return self.width // 2 >= width * level_ratio and self.height // 2 >= height * level_ratio

    def to_vips(self, level: Level | None = None) -> pyvips.Image:
        level = level or self.levels[0]
        size = level.width * level.height * self.bands
        view = memoryview(self.pixels)[level.offset : level.offset + size]
        image = pyvips.Image.new_from_memory(view, level.width, level.height, self.bands, "uchar")
        return image.copy(interpretation="srgb")

    def geometry(self) -> list[object]:
        """What a cache entry records to rebuild this from its pixels (see from_geometry)."""
        return [self.width, self.height, self.bands, [[lv.width, lv.height] for lv in self.reductions]]

    @classmethod
    def from_geometry(cls, pixels: bytes, geometry: list[object]) -> DecodedImage:
        width, height, bands, *rest = geometry
        assert isinstance(width, int) and isinstance(height, int) and isinstance(bands, int)
        sizes = rest[0] if rest and isinstance(rest[0], list) else []  # entries from before the pyramid
        return cls(pixels, width, height, bands, _layout(width * height * bands, bands, sizes))


def header_of(source: bytes | DecodedImage, *, max_pixels: int) -> Header:
    """The header of an encoded original (read, and its limits checked) or of raw pixels (known)."""
    return source.header if isinstance(source, DecodedImage) else inspect(source, max_pixels=max_pixels)


def _layout(offset: int, bands: int, sizes: list[list[int]]) -> tuple[Level, ...]:
    levels = []
    for w, h in sizes:
        levels.append(Level(w, h, offset))
        offset += w * h * bands
    return tuple(levels)


def decode(data: bytes, *, max_pixels: int, pyramid: bool = False) -> DecodedImage:
    """The full-size pixels, with the reductions when `pyramid`. The proxy adds them later instead
    (`with_reductions`), when a variant first needs one: the first view of a new image need not wait."""
    inspect(data, max_pixels=max_pixels)
    try:
        # Not through plain_png: here its inflated rows would be a second fresh multi-megabyte buffer beside
        # the pixels, and faulting it in costs what the faster inflate saves (profile.md, the tenth round).
        image = pyvips.Image.new_from_buffer(data, "", fail_on="error").autorot()
        image = to_srgb(image, keep_profile=False)
        decoded = DecodedImage(image.write_to_memory(), image.width, image.height, image.bands)
    except pyvips.Error as exc:
        raise blame(exc, data, stage="decode") from None
    return with_reductions(decoded) if pyramid else decoded


def with_reductions(image: DecodedImage) -> DecodedImage:
    """The same pixels with every exact halving below them (a copy; the image itself is not changed)."""
    try:
        return _with_reductions(image)
    except pyvips.Error as exc:  # the pixels decoded once already: the library is at fault
        raise blame(exc, None, stage="transform") from None


def _with_reductions(image: DecodedImage) -> DecodedImage:
    full = image.pixels[: image.width * image.height * image.bands]
    chunks = [full]
    sizes: list[list[int]] = []
    level = _wrap(full, image.width, image.height, image.bands)
    while _halves(level.width, level.height):
        # Lanczos rather than a box average: variants from these levels score higher (pyramid.md).
        smaller = _premultiplied(level, lambda im: im.reduce(2, 2, kernel="lanczos3"))
        chunks.append(smaller.write_to_memory())
        sizes.append([smaller.width, smaller.height])
        level = _wrap(chunks[-1], smaller.width, smaller.height, image.bands)
    reductions = _layout(len(full), image.bands, sizes)
    return DecodedImage(b"".join(chunks), image.width, image.height, image.bands, reductions)


def _wrap(pixels: bytes, width: int, height: int, bands: int) -> pyvips.Image:
    # Raw memory comes back as "multiband", which libvips would not treat as having alpha.
    return pyvips.Image.new_from_memory(pixels, width, height, bands, "uchar").copy(interpretation="srgb")


def _halves(width: int, height: int) -> bool:
    """Only exact halvings: a level of odd size would shift variants made from it by a fraction of a pixel,
    which SSIMULACRA2 (and an eye on edges) sees."""
    return width % 2 == 0 and height % 2 == 0 and min(width, height) // 2 >= MIN_LEVEL_SIDE


def _premultiplied(image: pyvips.Image, resample: Callable[[pyvips.Image], pyvips.Image]) -> pyvips.Image:
    if not image.hasalpha():
        return resample(image).cast("uchar")
    # Resampling straight alpha would bleed the colour of transparent pixels into the edges.
    return resample(image.premultiply()).unpremultiply().cast("uchar")
