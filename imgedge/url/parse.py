"""URL option segments → TransformSpec. A name → handler table, long and short names, presets."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from imgedge.formats import SPELLINGS
from imgedge.url import values as v
from imgedge.url.errors import OptionError, UrlError
from imgedge.url.spec import (
    DEFAULT_BACKGROUND,
    DEFAULT_QUALITY_TARGET,
    FORMATS,
    QUALITY_LEVELS,
    QUALITY_TARGET_RANGE,
    TransformSpec,
)

MAX_DIMENSION = 100_000  # structural bound; the configured output limit is checked later

Fields = dict[str, Any]
Handler = Callable[[str, list[str]], Fields]

_FIT_ALIASES = {
    "inside": "inside", "fit": "inside", "limit": "inside",
    "cover": "cover", "fill": "cover", "crop": "cover",
    "force": "force", "stretch": "force", "scale": "force",
    "pad": "pad", "contain": "pad",
}  # fmt: skip
_GRAVITY_ALIASES = {
    "ce": "ce", "c": "ce", "center": "ce", "centre": "ce",
    "no": "no", "n": "no", "north": "no", "top": "no",
    "so": "so", "s": "so", "south": "so", "bottom": "so",
    "ea": "ea", "e": "ea", "east": "ea", "right": "ea",
    "we": "we", "w": "we", "west": "we", "left": "we",
    "noea": "noea", "ne": "noea", "northeast": "noea",
    "nowe": "nowe", "nw": "nowe", "northwest": "nowe",
    "soea": "soea", "se": "soea", "southeast": "soea",
    "sowe": "sowe", "sw": "sowe", "southwest": "sowe",
    "sm": "sm", "smart": "sm", "attention": "sm", "auto": "sm",
}  # fmt: skip


def _width(name: str, args: list[str]) -> Fields:
    if args and args[0].lower() == "auto":
        # `w:auto[:fallback]`: the width from client hints, else the fallback (0: the original's).
        v.arity(name, args, 1, 2)
        fallback = v.integer(name, args[1], 0, MAX_DIMENSION) if len(args) == 2 else 0
        return {"width_auto": True, "width": fallback}
    v.arity(name, args, 1)
    return {"width": v.integer(name, args[0], 0, MAX_DIMENSION)}


def _height(name: str, args: list[str]) -> Fields:
    v.arity(name, args, 1)
    return {"height": v.integer(name, args[0], 0, MAX_DIMENSION)}


def _fit(name: str, args: list[str]) -> Fields:
    v.arity(name, args, 1)
    fit = _FIT_ALIASES.get(args[0].lower())
    if fit is None:
        raise OptionError(name, f"{args[0]!r} is not one of inside, cover, force, pad")
    return {"fit": fit}


def _focus(name: str, args: list[str]) -> Fields:
    v.arity(name, args, 2)
    return {"gravity": "fp", "focus": (v.number(name, args[0], 0, 1), v.number(name, args[1], 0, 1))}


def _gravity(name: str, args: list[str]) -> Fields:
    if args and args[0].lower() == "fp":
        return _focus(name, args[1:])
    v.arity(name, args, 1)
    gravity = _GRAVITY_ALIASES.get(args[0].lower())
    if gravity is None:
        raise OptionError(name, f"{args[0]!r} is not a gravity (ce, no, so, ea, we, noea, …, sm, fp:x:y)")
    return {"gravity": gravity, "focus": None}


def _crop(name: str, args: list[str]) -> Fields:
    v.arity(name, args, 4)
    x, y = (v.integer(name, a, 0, MAX_DIMENSION) for a in args[:2])
    w, h = (v.integer(name, a, 1, MAX_DIMENSION) for a in args[2:])
    return {"crop": (x, y, w, h)}


def _aspect(name: str, args: list[str]) -> Fields:
    v.arity(name, args, 2)
    a, b = (v.integer(name, x, 1, 10_000) for x in args)
    g = math.gcd(a, b)
    return {"aspect": (a // g, b // g)}


def _dpr(name: str, args: list[str]) -> Fields:
    v.arity(name, args, 1)
    if args[0].lower() == "auto":
        return {"dpr_auto": True}
    return {"dpr": v.number(name, args[0], 1, 4)}


def _quality(name: str, args: list[str]) -> Fields:
    if args and args[0].lower() == "auto":
        # `q:auto[:low|good|best|target]`: the encoder quality that meets a perceptual target.
        v.arity(name, args, 1, 2)
        if len(args) == 1:
            return {"quality_target": DEFAULT_QUALITY_TARGET, "quality": 0}
        level = QUALITY_LEVELS.get(args[1].lower())
        if level is not None:
            return {"quality_target": level, "quality": 0}
        if not args[1].isdigit():
            raise OptionError(name, f"{args[1]!r} is not one of {', '.join(QUALITY_LEVELS)} or a number")
        return {"quality_target": v.integer(name, args[1], *QUALITY_TARGET_RANGE), "quality": 0}
    v.arity(name, args, 1)
    return {"quality": v.integer(name, args[0], 1, 100), "quality_target": 0}


def _format(name: str, args: list[str]) -> Fields:
    v.arity(name, args, 1)
    fmt = SPELLINGS.get(args[0].lower())
    if fmt is None:
        raise OptionError(name, f"{args[0]!r} is not one of {', '.join(FORMATS)}")
    return {"format": fmt}


def _blur(name: str, args: list[str]) -> Fields:
    v.arity(name, args, 1)
    return {"blur": v.number(name, args[0], 0, 100)}


def _sharpen(name: str, args: list[str]) -> Fields:
    v.arity(name, args, 1)
    return {"sharpen": v.number(name, args[0], 0, 10)}


def _rotate(name: str, args: list[str]) -> Fields:
    v.arity(name, args, 1)
    angle = v.integer(name, args[0], -360, 360)
    if angle % 90:
        raise OptionError(name, f"{angle} is not a multiple of 90")
    return {"rotate": angle % 360}


def _flag(field_name: str) -> Handler:
    def handler(name: str, args: list[str]) -> Fields:
        v.arity(name, args, 0, 1)
        return {field_name: v.boolean(name, args[0]) if args else True}

    return handler


def _background(name: str, args: list[str]) -> Fields:
    return {"background": v.colour(name, args)}


def _expires(name: str, args: list[str]) -> Fields:
    v.arity(name, args, 1)
    return {"expires": v.integer(name, args[0], 1, 2**40)}


HANDLERS: dict[str, Handler] = {
    "width": _width, "height": _height, "fit": _fit, "gravity": _gravity, "focus": _focus, "crop": _crop,
    "aspect": _aspect, "dpr": _dpr, "quality": _quality, "format": _format, "blur": _blur,
    "sharpen": _sharpen, "rotate": _rotate, "flip": _flag("flip"), "flop": _flag("flop"),
    "background": _background, "strip": _flag("strip"), "enlarge": _flag("enlarge"), "expires": _expires,
}  # fmt: skip

ALIASES: dict[str, str] = {
    "w": "width", "h": "height", "rt": "fit", "resize": "fit", "resizing_type": "fit", "g": "gravity",
    "fp": "focus", "c": "crop", "ar": "aspect", "aspect_ratio": "aspect", "q": "quality", "f": "format",
    "ext": "format", "bl": "blur", "sh": "sharpen", "rot": "rotate", "bg": "background",
    "sm": "strip", "strip_metadata": "strip", "el": "enlarge", "exp": "expires", "pr": "preset",
    **{name: name for name in HANDLERS}, "preset": "preset",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class ParseSettings:
    presets: Mapping[str, str] = field(default_factory=dict)
    max_dpr: float = 4.0


def _split(segment: str) -> tuple[str, list[str]]:
    if not segment:
        raise UrlError("empty option segment (double slash?)")
    name, sep, rest = segment.partition(":")
    return name.lower(), rest.split(":") if sep else []


def _collect(segments: list[str], settings: ParseSettings, *, in_preset: bool) -> tuple[Fields, Fields]:
    """Returns (fields from presets, fields given explicitly)."""
    base: Fields = {}
    explicit: Fields = {}
    seen: set[str] = set()
    for segment in segments:
        name, args = _split(segment)
        canonical = ALIASES.get(name)
        if canonical is None:
            raise OptionError(name, "unknown option")
        if canonical == "preset":
            if in_preset:
                raise OptionError(name, "presets cannot include presets")
            for preset in args:
                definition = settings.presets.get(preset)
                if definition is None:
                    raise OptionError(name, f"unknown preset {preset!r}")
                _, fields = _collect(definition.strip("/").split("/"), settings, in_preset=True)
                base.update(fields)
            continue
        slot = "gravity" if canonical == "focus" else canonical  # fp is a way of giving the gravity
        if slot in seen:
            raise OptionError(name, "given more than once")
        seen.add(slot)
        explicit.update(HANDLERS[canonical](name, args))
    return base, explicit


def parse_options(
    segments: list[str], settings: ParseSettings, *, suffix_format: str | None = None
) -> TransformSpec:
    base, explicit = _collect(segments, settings, in_preset=False)
    fields = {**base, **explicit}
    if suffix_format is not None:
        fmt = SPELLINGS.get(suffix_format.lower())
        if fmt is None:
            raise OptionError("extension", f"{suffix_format!r} is not a supported output format")
        if "format" in explicit and explicit["format"] != fmt:
            raise OptionError("format", "conflicts with the file extension")
        fields["format"] = fmt
    return _normalise(fields, settings)


def _round(x: float) -> int:
    return math.floor(x + 0.5)


def fold_aspect(width: int, aspect: tuple[int, int]) -> int:
    """The height a width and an aspect ratio give."""
    return max(1, _round(width * aspect[1] / aspect[0]))


def _normalise(fields: Fields, settings: ParseSettings) -> TransformSpec:
    """Fold shortcuts into plain fields so equivalent URLs share one canonical form."""
    width: int = fields.pop("width", 0)
    height: int = fields.pop("height", 0)
    aspect: tuple[int, int] | None = fields.pop("aspect", None)
    dpr: float = fields.pop("dpr", 1.0)
    if dpr > settings.max_dpr:
        raise OptionError("dpr", f"{dpr:g} exceeds the maximum of {settings.max_dpr:g}")
    width_auto: bool = fields.get("width_auto", False)
    if aspect is not None and width and height:
        raise OptionError("aspect", "cannot be combined with both width and height")
    if width_auto and height:
        raise OptionError("width", "w:auto cannot be combined with a height (use ar)")
    if width_auto and fields.get("dpr_auto", False):
        raise OptionError("dpr", "dpr:auto cannot be combined with w:auto (the width hint counts pixels)")
    width, height = _round(width * dpr), _round(height * dpr)
    if width_auto:
        pass  # the ratio is applied to the width the hints give, once the proxy knows it
    elif aspect is not None and width:
        height, aspect = fold_aspect(width, aspect), None
    elif aspect is not None and height:
        width, aspect = max(1, _round(height * aspect[0] / aspect[1])), None
    fit: str = fields.pop("fit", "inside")
    if not (width and height) and not (width_auto and aspect is not None):
        fit = "inside"  # with one side free, every mode keeps the aspect ratio and fits inside
    gravity: str = fields.pop("gravity", "ce")
    focus: tuple[float, float] | None = fields.pop("focus", None)
    if fit not in ("cover", "pad") and aspect is None:
        gravity, focus = "ce", None  # gravity only places crops and padding
    background: str = fields.pop("background", DEFAULT_BACKGROUND)
    return TransformSpec(
        width=width, height=height, fit=fit, gravity=gravity, focus=focus, aspect=aspect,
        background=background, **fields,
    )  # fmt: skip
