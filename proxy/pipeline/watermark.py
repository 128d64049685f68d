"""The watermark step: a mark (fetched like an original) scaled, faded and laid over the result."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pyvips

from imgedge.imaging.colour import to_srgb
from imgedge.imaging.inspect import inspect
from imgedge.proxy.pipeline.geometry import Box
from imgedge.url.spec import Watermark

if TYPE_CHECKING:
    from imgedge.proxy.pipeline.steps import StepContext

MAX_MARK_PIXELS = 16_777_216  # a mark is small; a huge one is refused before it is decoded

_ANCHOR = {
    "ce": (0.5, 0.5), "no": (0.5, 0.0), "so": (0.5, 1.0), "ea": (1.0, 0.5), "we": (0.0, 0.5),
    "noea": (1.0, 0.0), "nowe": (0.0, 0.0), "soea": (1.0, 1.0), "sowe": (0.0, 1.0),
}  # fmt: skip


def mark_size(image: Box, mark: Box, wm: Watermark) -> Box:
    """The mark's size fitted inside `width_ratio` x `height_ratio` of the image (one ratio: the other
    follows the mark's aspect), or its own size without ratios."""
    if not (wm.width_ratio or wm.height_ratio):
        return mark
    max_w = image.width * wm.width_ratio or mark.width * image.height * wm.height_ratio / mark.height
    max_h = image.height * wm.height_ratio or mark.height * max_w / mark.width
    if mark.width / max_w >= mark.height / max_h:
        return Box(max(1, round(max_w)), max(1, round(mark.height * max_w / mark.width)))
    return Box(max(1, round(mark.width * max_h / mark.height)), max(1, round(max_h)))


def _pixels(offset: str, side: int) -> int:
    return round(side * int(offset[:-1]) / 100) if offset.endswith("p") else int(offset)


def placement(image: Box, mark: Box, wm: Watermark) -> tuple[int, int]:
    """Top-left of the mark: anchored by `position`, moved inwards from that edge by the offsets."""
    fx, fy = _ANCHOR[wm.position]
    dx, dy = _pixels(wm.x, image.width), _pixels(wm.y, image.height)
    x = (image.width - mark.width) * fx + (dx if fx < 1 else -dx)
    y = (image.height - mark.height) * fy + (dy if fy < 1 else -dy)
    return math.floor(x), math.floor(y)


def _load_mark(data: bytes, wm: Watermark, image: Box) -> pyvips.Image:
    inspect(data, max_pixels=MAX_MARK_PIXELS)
    mark = to_srgb(pyvips.Image.new_from_buffer(data, "", fail_on="error").autorot(), keep_profile=False)
    if not mark.hasalpha():
        mark = mark.addalpha()
    size = mark_size(image, Box(mark.width, mark.height), wm)
    if (size.width, size.height) != (mark.width, mark.height):
        mark = mark.resize(size.width / mark.width, vscale=size.height / mark.height)
    if wm.opacity < 1:
        mark = mark.linear([1, 1, 1, wm.opacity], [0, 0, 0, 0]).cast("uchar")
    return mark.copy(interpretation="srgb")


def _tiled(mark: pyvips.Image, image: Box, wm: Watermark) -> pyvips.Image:
    gap_x, gap_y = max(0, _pixels(wm.x, image.width)), max(0, _pixels(wm.y, image.height))
    tile = mark.embed(0, 0, mark.width + gap_x, mark.height + gap_y, extend="background", background=[0] * 4)
    across, down = math.ceil(image.width / tile.width), math.ceil(image.height / tile.height)
    return tile.replicate(across, down).crop(0, 0, image.width, image.height)


def watermark(image: pyvips.Image, ctx: StepContext) -> pyvips.Image:
    wm = ctx.spec.watermark
    if wm is None or ctx.mark is None:
        return image
    box = Box(image.width, image.height)
    mark = _load_mark(ctx.mark, wm, box)
    if wm.position == "re":
        layer, x, y = _tiled(mark, box, wm), 0, 0
    else:
        x, y = placement(box, Box(mark.width, mark.height), wm)
        layer = mark
    had_alpha = image.hasalpha()
    base = image if had_alpha else image.addalpha()
    result = base.composite2(layer, "over", x=x, y=y).cast("uchar").copy(interpretation="srgb")
    return result if had_alpha else result.extract_band(0, n=3)
