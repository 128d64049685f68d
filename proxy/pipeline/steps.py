"""The ordered steps after scaling. Each returns the image untouched when its option is off."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pyvips

from imgedge.formats import BY_NAME
from imgedge.proxy.pipeline.geometry import Plan, offset
from imgedge.url.spec import TransformSpec


@dataclass(frozen=True, slots=True)
class StepContext:
    spec: TransformSpec
    plan: Plan
    output_format: str


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
    x, y = offset(canvas, ctx.plan.scaled, gravity, ctx.spec.focus)
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


def flatten(image: pyvips.Image, ctx: StepContext) -> pyvips.Image:
    if not image.hasalpha() or BY_NAME[ctx.output_format].alpha:
        return image
    return image.flatten(background=background_rgba(ctx.spec.background)[:3])


STEPS: tuple[Callable[[pyvips.Image, StepContext], pyvips.Image], ...] = (
    crop_to_plan,
    pad_to_plan,
    blur,
    sharpen,
    flatten,
)
