"""The ordered steps after scaling. Each returns the image untouched when its option is off."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pyvips

from imgedge.formats import BY_NAME
from imgedge.proxy.pipeline.geometry import Box, Plan, offset
from imgedge.proxy.pipeline.watermark import watermark
from imgedge.url.spec import TransformSpec


@dataclass(frozen=True, slots=True)
class StepContext:
    spec: TransformSpec
    plan: Plan
    output_format: str
    mark: bytes | None = None  # the watermark's encoded bytes, when the spec has one


def background_rgba(hex_colour: str) -> list[float]:
    channels = [int(hex_colour[i : i + 2], 16) for i in range(0, len(hex_colour), 2)]
    return [float(c) for c in ([*channels, 255])[:4]]


def crop_to_plan(image: pyvips.Image, ctx: StepContext) -> pyvips.Image:
    box = ctx.plan.crop
    if box is None:
        return image
    if ctx.spec.gravity == "sm":
        # Attention scoring reads the image more than once; the loader only streams it top to bottom.
        scaled = image.copy_memory()
        return scaled.smartcrop(box.width, box.height, interesting="attention")
    x, y = offset(ctx.plan.scaled, box, ctx.spec.gravity, ctx.spec.focus)
    return image.extract_area(x, y, box.width, box.height)


def pad_to_plan(image: pyvips.Image, ctx: StepContext) -> pyvips.Image:
    canvas = ctx.plan.pad
    if canvas is None:
        return image
    colour = background_rgba(ctx.spec.background)
    if colour[3] < 255 and not image.hasalpha():
        image = image.addalpha()
    gravity = ctx.spec.gravity if ctx.spec.gravity != "sm" else "ce"
    x, y = offset(canvas, Box(image.width, image.height), gravity, ctx.spec.focus)
    background = colour if image.hasalpha() else colour[:3]
    return image.embed(x, y, canvas.width, canvas.height, extend="background", background=background)


def blur(image: pyvips.Image, ctx: StepContext) -> pyvips.Image:
    if not ctx.spec.blur:
        return image
    return image.gaussblur(ctx.spec.blur)


def sharpen(image: pyvips.Image, ctx: StepContext) -> pyvips.Image:
    if not ctx.spec.sharpen:
        return image
    if not image.hasalpha():
        return image.sharpen(sigma=ctx.spec.sharpen)
    colour = image.extract_band(0, n=image.bands - 1).sharpen(sigma=ctx.spec.sharpen)
    return colour.colourspace("srgb").bandjoin(image.extract_band(image.bands - 1))


def _colour_bands(image: pyvips.Image) -> tuple[pyvips.Image, pyvips.Image | None]:
    if not image.hasalpha():
        return image, None
    return image.extract_band(0, n=image.bands - 1), image.extract_band(image.bands - 1)


def _with_alpha(colour: pyvips.Image, alpha: pyvips.Image | None) -> pyvips.Image:
    colour = colour.cast("uchar").copy(interpretation="srgb")
    return colour if alpha is None else colour.bandjoin(alpha)


def brightness(image: pyvips.Image, ctx: StepContext) -> pyvips.Image:
    """Adds `brightness` percent of full scale to every colour channel (thumbor's brightness filter)."""
    if not ctx.spec.brightness:
        return image
    colour, alpha = _colour_bands(image)
    return _with_alpha(colour + 255 * ctx.spec.brightness // 100, alpha)


def contrast(image: pyvips.Image, ctx: StepContext) -> pyvips.Image:
    """Stretches every colour channel around mid-grey by ((100 + contrast) / 100)² (thumbor's filter)."""
    if not ctx.spec.contrast:
        return image
    factor = (100 + ctx.spec.contrast) ** 2 / 10_000
    colour, alpha = _colour_bands(image)
    return _with_alpha(colour.linear(factor, 128 * (1 - factor)), alpha)


def grayscale(image: pyvips.Image, ctx: StepContext) -> pyvips.Image:
    if not ctx.spec.grayscale:
        return image
    colour, alpha = _colour_bands(image)
    # Back to three bands, so later steps and every encoder see the usual sRGB layout.
    return _with_alpha(colour.colourspace("b-w").colourspace("srgb"), alpha)


def _clamp(values: pyvips.Image, low: float, high: float | None = None) -> pyvips.Image:
    # Not maxpair/minpair: they arrived in libvips 8.15, and imgedge also runs on Debian 12's 8.14.
    values = (values < low).ifthenelse(low, values)
    return values if high is None else (values > high).ifthenelse(high, values)


def round_corner(image: pyvips.Image, ctx: StepContext) -> pyvips.Image:
    """Elliptical corners of radii a x b; outside them the corner colour, or transparency for rrggbb00."""
    if ctx.spec.round_corner is None:
        return image
    a, b, colour = ctx.spec.round_corner
    a, b = min(a, image.width // 2) or 1, min(b, image.height // 2) or 1
    xy = pyvips.Image.xyz(image.width, image.height)
    x, y = xy[0], xy[1]
    # Distance into each corner's ellipse box, 0 along the straight edges.
    dx = ((a - 0.5 - x) > 0).ifthenelse(a - 0.5 - x, _clamp(x - (image.width - a - 0.5), 0))
    dy = ((b - 0.5 - y) > 0).ifthenelse(b - 0.5 - y, _clamp(y - (image.height - b - 0.5), 0))
    radius = ((dx / a) ** 2 + (dy / b) ** 2) ** 0.5
    # A one-pixel ramp at the ellipse's edge keeps the curve smooth.
    inside = _clamp((1 - radius) * min(a, b) + 0.5, 0, 1)
    rgba = background_rgba(colour)
    if rgba[3] < 255:
        colour_bands, alpha = _colour_bands(image)
        alpha = alpha if alpha is not None else pyvips.Image.black(image.width, image.height) + 255
        return _with_alpha(colour_bands, (alpha * inside).cast("uchar"))
    colour_bands, alpha = _colour_bands(image)
    blended = colour_bands * inside + (1 - inside) * rgba[: colour_bands.bands]
    return _with_alpha(blended, alpha)


def flatten(image: pyvips.Image, ctx: StepContext) -> pyvips.Image:
    if not image.hasalpha() or (BY_NAME[ctx.output_format].alpha and not ctx.spec.flatten):
        return image
    return image.flatten(background=background_rgba(ctx.spec.background)[:3])


STEPS: tuple[Callable[[pyvips.Image, StepContext], pyvips.Image], ...] = (
    crop_to_plan,
    pad_to_plan,
    blur,
    sharpen,
    brightness,
    contrast,
    grayscale,
    round_corner,
    watermark,
    flatten,
)
