"""What a page shows before an image arrives: ThumbHash, BlurHash, dominant and average colour, a tiny LQIP.

Computed once per asset, from the original, by whichever service sees it first (the generator when it stores
an asset, the proxy's `/info` for any source); both call `placeholders` here. The codecs are the `thumbhash`
and `blurhash` packages; libvips makes the small images they read.
"""

from __future__ import annotations

import base64
from dataclasses import asdict, dataclass

import numpy as np
import pyvips

from imgedge.imaging.colour import to_srgb
from imgedge.imaging.encode import save
from imgedge.imaging.errors import CorruptImage
from imgedge.imaging.inspect import inspect

THUMBHASH_SIDE = 100  # the ThumbHash format's limit
BLURHASH_SIDE = 32  # BlurHash keeps a handful of cosine terms; more pixels only cost time
BLURHASH_COMPONENTS = (4, 3)
LQIP_SIDE = 16
_DOMINANT_BINS = 8  # per channel: 512 colour cells for the dominant-colour histogram


@dataclass(frozen=True, slots=True)
class Placeholders:
    thumbhash: str  # base64, as the reference decoders take it
    blurhash: str
    dominant_color: str  # "#rrggbb"
    average_color: str  # "#rrggbb"
    lqip: str  # data:image/webp;base64,…
    width: int
    height: int

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def placeholders_from_bytes(data: bytes, *, max_pixels: int) -> Placeholders:
    """Decodes through a shrink-on-load thumbnail, so a large original costs little."""
    header = inspect(data, max_pixels=max_pixels)
    try:
        small = pyvips.Image.thumbnail_buffer(data, THUMBHASH_SIDE, height=THUMBHASH_SIDE, size="down")
        small = to_srgb(small, keep_profile=False).copy_memory()  # read several times below
        return placeholders(small, header.width, header.height)
    except pyvips.Error:
        raise CorruptImage("source image could not be decoded") from None


def placeholders(image: pyvips.Image, width: int, height: int) -> Placeholders:
    """`image`: 8-bit sRGB, any size (it is shrunk here); width and height: the original's."""
    # Here, not at the top: `thash` brings Pillow, 2.3 MiB in every proxy worker that never answers `/info`.
    import blurhash
    import thash

    if image.bands in (1, 2):
        image = image.colourspace("srgb")
    rgba = image if image.hasalpha() else image.bandjoin(255)
    rgba = _fit(rgba, THUMBHASH_SIDE)
    pixels = _array(rgba)
    opaque = _fit(image.flatten(background=[255, 255, 255]) if image.hasalpha() else image, BLURHASH_SIDE)
    rgb = _array(opaque)[..., :3]
    return Placeholders(
        thumbhash=base64.b64encode(
            bytes(thash.rgba_to_thumb_hash(rgba.width, rgba.height, pixels.ravel().tolist()))
        ).decode("ascii"),
        blurhash=blurhash.encode(rgb.tolist(), *BLURHASH_COMPONENTS),
        dominant_color=_hex(_dominant(rgb)),
        average_color=_hex(rgb.reshape(-1, 3).mean(axis=0)),
        lqip=_lqip(image),
        width=width,
        height=height,
    )


def _fit(image: pyvips.Image, side: int) -> pyvips.Image:
    scale = min(1.0, side / max(image.width, image.height))
    return image.resize(scale) if scale < 1 else image


def _array(image: pyvips.Image) -> np.ndarray:
    image = image.cast("uchar")
    return np.ndarray(
        buffer=image.write_to_memory(), dtype=np.uint8, shape=(image.height, image.width, image.bands)
    )


def _dominant(rgb: np.ndarray) -> np.ndarray:
    """The mean colour of the most populated cell of a coarse RGB histogram (not the mean of everything)."""
    flat = rgb.reshape(-1, 3).astype(np.int64)
    cells = flat // (256 // _DOMINANT_BINS)
    index = (cells[:, 0] * _DOMINANT_BINS + cells[:, 1]) * _DOMINANT_BINS + cells[:, 2]
    winner = np.bincount(index).argmax()
    result: np.ndarray = flat[index == winner].mean(axis=0)
    return result


def _hex(colour: np.ndarray) -> str:
    r, g, b = (round(float(c)) for c in colour[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


def _lqip(image: pyvips.Image) -> str:
    tiny = _fit(image, LQIP_SIDE)
    data = save(tiny, "webp", "none", Q=40)
    return "data:image/webp;base64," + base64.b64encode(data).decode("ascii")
