"""URL option segments → TransformSpec. A name → handler table, long and short names, presets."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from imgedge.formats import SPELLINGS
from imgedge.url import values as v
from imgedge.url.errors import OptionError, UrlError
from imgedge.url.spec import (
    DEFAULT_BACKGROUND,
    DEFAULT_QUALITY_TARGET,
    FITS,
    FORMATS,
    ORIG,
    QUALITY_LEVELS,
    QUALITY_TARGET_RANGE,
    WATERMARK_POSITIONS,
    CropArea,
    TransformSpec,
    Watermark,
)

MAX_DIMENSION = 100_000  # structural bound; the configured output limit is checked later

Fields = dict[str, Any]
Handler = Callable[[str, list[str]], Fields]

_FIT_ALIASES = {
    "inside": "inside", "fit": "inside", "limit": "inside",
    "cover": "cover", "fill": "cover", "crop": "cover",
    "force": "force", "stretch": "force", "scale": "force",
    "pad": "pad", "contain": "pad",
    "clamp": "clamp", "outside": "outside", "auto": "auto",
}  # fmt: skip
_GRAVITY_ALIASES: dict[str, str] = {
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


def dimension(name: str, raw: str) -> int:
    """Pixels, or `orig` for the source's own size."""
    return ORIG if raw.lower() == "orig" else v.integer(name, raw, 0, MAX_DIMENSION)


def _width(name: str, args: list[str]) -> Fields:
    if args and args[0].lower() == "auto":
        # `w:auto[:fallback]`: the width from client hints, else the fallback (0: the original's).
        v.arity(name, args, 1, 2)
        fallback = v.integer(name, args[1], 0, MAX_DIMENSION) if len(args) == 2 else 0
        return {"width_auto": True, "width": fallback}
    v.arity(name, args, 1)
    # width_auto is named, so an explicit width wins over a preset's w:auto, as explicit options do.
    return {"width": dimension(name, args[0]), "width_auto": False}


def _height(name: str, args: list[str]) -> Fields:
    v.arity(name, args, 1)
    return {"height": dimension(name, args[0])}


def _fit(name: str, args: list[str]) -> Fields:
    v.arity(name, args, 1)
    fit = _FIT_ALIASES.get(args[0].lower())
    if fit is None:
        raise OptionError(name, f"{args[0]!r} is not one of {', '.join(FITS)}")
    return {"fit": fit}


def _focus(name: str, args: list[str]) -> Fields:
    v.arity(name, args, 2)
    return {"gravity": "fp", "focus": (v.number(name, args[0], 0, 1), v.number(name, args[1], 0, 1))}


def _region(name: str, args: list[str]) -> Fields:
    v.arity(name, args, 4)
    left, top, right, bottom = (v.integer(name, a, 0, MAX_DIMENSION) for a in args)
    if right <= left or bottom <= top:
        raise OptionError(name, "focal region must have right > left and bottom > top")
    return {"gravity": "fr", "focus": None, "region": (left, top, right, bottom)}


def _gravity(name: str, args: list[str]) -> Fields:
    if args and args[0].lower() == "fp":
        return _focus(name, args[1:])
    if args and args[0].lower() == "fr":
        return _region(name, args[1:])
    v.arity(name, args, 1)
    gravity = _GRAVITY_ALIASES.get(args[0].lower())
    if gravity is None:
        raise OptionError(name, f"{args[0]!r} is not a gravity (ce, no, so, ea, we, noea, …, sm, fp:x:y)")
    return {"gravity": gravity, "focus": None}


def _crop(name: str, args: list[str]) -> Fields:
    """`X:Y:W:H` (a rectangle) or `W:H[:gravity]` (an area placed by gravity; below 1: a fraction)."""
    if len(args) != 4:
        return _crop_area(name, args)
    x, y = (v.integer(name, a, 0, MAX_DIMENSION) for a in args[:2])
    w, h = (v.integer(name, a, 1, MAX_DIMENSION) for a in args[2:])
    return {"crop": (x, y, w, h)}


def _crop_area(name: str, args: list[str]) -> Fields:
    if len(args) not in (2, 3, 5):
        raise OptionError(name, f"expected X:Y:W:H or W:H[:gravity], got {len(args)} argument(s)")
    width, height = (v.number(name, a, 0, MAX_DIMENSION) for a in args[:2])
    if len(args) == 2:
        return {"area": CropArea(width, height)}
    placed = _gravity(name, args[2:])
    if placed["gravity"] in ("sm", "fr"):
        raise OptionError(name, "a crop area is placed by a compass gravity or fp:X:Y")
    return {"area": CropArea(width, height, placed["gravity"], placed["focus"])}


def _aspect(name: str, args: list[str]) -> Fields:
    v.arity(name, args, 2)
    a, b = (v.integer(name, x, 1, 10_000) for x in args)
    g = math.gcd(a, b)
    return {"aspect": (a // g, b // g)}


def _dpr(name: str, args: list[str]) -> Fields:
    v.arity(name, args, 1)
    if args[0].lower() == "auto":
        return {"dpr_auto": True}
    return {"dpr": v.number(name, args[0], 1, 4), "dpr_auto": False}


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


def _trim(name: str, args: list[str]) -> Fields:
    """`THRESHOLD[:REFERENCE]`: trim edges that differ from the reference colour by at most the threshold;
    the reference is the top-left pixel, `br` (the bottom-right one) or a hex colour."""
    v.arity(name, args, 1, 2)
    threshold = v.number(name, args[0], 0, 442)  # 442 is the largest RGB distance
    reference = args[1].lower() if len(args) == 2 else ""
    if reference in ("tl", "top-left"):
        reference = ""
    elif reference in ("br", "bottom-right"):
        reference = "br"
    elif reference:
        reference = v.colour(name, [reference])
    return {"trim": (threshold, reference)}


def _percent(field_name: str) -> Handler:
    def handler(name: str, args: list[str]) -> Fields:
        v.arity(name, args, 1)
        return {field_name: v.integer(name, args[0], -100, 100)}

    return handler


def _round_corner(name: str, args: list[str]) -> Fields:
    """`A[:B[:COLOUR]]`: corner radii in px (B defaults to A), the colour outside them (default white)."""
    v.arity(name, args, 1, 2, 3)
    a = v.integer(name, args[0], 1, MAX_DIMENSION)
    b = v.integer(name, args[1], 1, MAX_DIMENSION) if len(args) > 1 else a
    colour = v.colour(name, [args[2]]) if len(args) > 2 else DEFAULT_BACKGROUND
    return {"round_corner": (a, b, colour)}


def offset(name: str, raw: str) -> str:
    """Watermark offsets: pixels, or `Np` for N percent of the result."""
    digits = raw[:-1] if raw.endswith("p") else raw
    value = v.integer(name, digits, -MAX_DIMENSION, MAX_DIMENSION)
    return f"{value}p" if raw.endswith("p") else str(value)


def decode_mark(name: str, raw: str) -> str:
    """A watermark: an asset id, or `url.` + base64url of an image URL."""
    if raw.startswith("url."):
        return v.base64_url(name, raw[4:])
    if not v.ASSET_ID.fullmatch(raw):
        raise OptionError(name, "expected an asset id or url.BASE64URL")
    return raw


def _watermark(name: str, args: list[str]) -> Fields:
    """`OPACITY[:POSITION[:X[:Y[:SCALE]]]]` with the mark from `wmu` (or the configured default), or the
    canonical `OPACITY:POSITION:X:Y:WIDTH_RATIO:HEIGHT_RATIO:MARK`."""
    v.arity(name, args, 1, 2, 3, 4, 5, 7)
    opacity = v.number(name, args[0], 0, 1)
    position = args[1].lower() if len(args) > 1 else "ce"
    if position not in WATERMARK_POSITIONS:
        raise OptionError(name, f"{position!r} is not one of {', '.join(WATERMARK_POSITIONS)}")
    x = offset(name, args[2]) if len(args) > 2 else "0"
    y = offset(name, args[3]) if len(args) > 3 else "0"
    ratios = [v.number(name, a, 0, 1) for a in args[4:6]] if len(args) > 4 else [0.0]
    width_ratio, height_ratio = ratios[0], ratios[-1]
    mark = decode_mark(name, args[6]) if len(args) == 7 else ""
    return {"watermark": Watermark(mark, opacity, position, x, y, width_ratio, height_ratio)}


def _watermark_url(name: str, args: list[str]) -> Fields:
    v.arity(name, args, 1)
    return {"watermark_mark": decode_mark(name, args[0])}


def _max_bytes(name: str, args: list[str]) -> Fields:
    v.arity(name, args, 1)
    return {"max_bytes": v.integer(name, args[0], 1, 1 << 30)}


def _expires(name: str, args: list[str]) -> Fields:
    v.arity(name, args, 1)
    return {"expires": v.integer(name, args[0], 1, 2**40)}


HANDLERS: dict[str, Handler] = {
    "width": _width, "height": _height, "fit": _fit, "gravity": _gravity, "focus": _focus, "crop": _crop,
    "aspect": _aspect, "dpr": _dpr, "quality": _quality, "format": _format, "blur": _blur,
    "sharpen": _sharpen, "rotate": _rotate, "flip": _flag("flip"), "flop": _flag("flop"),
    "background": _background, "strip": _flag("strip"), "enlarge": _flag("enlarge"), "expires": _expires,
    "trim": _trim, "extend": _flag("extend"), "adaptive": _flag("adaptive"),
    "brightness": _percent("brightness"), "contrast": _percent("contrast"),
    "grayscale": _flag("grayscale"), "round_corner": _round_corner, "watermark": _watermark,
    "watermark_url": _watermark_url, "max_bytes": _max_bytes, "flatten": _flag("flatten"),
}  # fmt: skip

ALIASES: dict[str, str] = {
    "w": "width", "h": "height", "rt": "fit", "resize": "fit", "resizing_type": "fit", "g": "gravity",
    "fp": "focus", "c": "crop", "ar": "aspect", "aspect_ratio": "aspect", "q": "quality", "f": "format",
    "ext": "format", "bl": "blur", "sh": "sharpen", "rot": "rotate", "bg": "background",
    "sm": "strip", "strip_metadata": "strip", "el": "enlarge", "exp": "expires", "pr": "preset",
    "t": "trim", "ex": "extend", "ad": "adaptive", "br": "brightness", "co": "contrast", "gs": "grayscale",
    "rc": "round_corner", "wm": "watermark", "wmu": "watermark_url", "mb": "max_bytes", "fl": "flatten",
    **{name: name for name in HANDLERS}, "preset": "preset",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class ParseSettings:
    presets: Mapping[str, str] = field(default_factory=dict)
    max_dpr: float = 4.0
    watermark: str = ""  # the mark of a `wm` without `wmu`: an asset id or an allowed source URL


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


def _scaled(value: int, dpr: float) -> int:
    return value if value == ORIG else _round(value * dpr)


def fold_aspect(width: int, aspect: tuple[int, int]) -> int:
    """The height a width and an aspect ratio give."""
    return max(1, _round(width * aspect[1] / aspect[0]))


def _size(fields: Fields, settings: ParseSettings) -> tuple[int, int, tuple[int, int] | None]:
    width: int = fields.pop("width", 0)
    height: int = fields.pop("height", 0)
    aspect: tuple[int, int] | None = fields.pop("aspect", None)
    dpr: float = fields.pop("dpr", 1.0)
    if dpr > settings.max_dpr:
        raise OptionError("dpr", f"{dpr:g} exceeds the maximum of {settings.max_dpr:g}")
    if aspect is not None and width and height:
        raise OptionError("aspect", "cannot be combined with both width and height")
    if aspect is not None and ORIG in (width, height):
        raise OptionError("aspect", "cannot be combined with orig")
    width_auto: bool = fields.get("width_auto", False)
    if width_auto and height:
        raise OptionError("width", "w:auto cannot be combined with a height (use ar)")
    if width_auto and fields.get("dpr_auto", False):
        raise OptionError("dpr", "dpr:auto cannot be combined with w:auto (the width hint counts pixels)")
    width, height = _scaled(width, dpr), _scaled(height, dpr)
    if width_auto:
        pass  # the ratio is applied to the width the hints give, once the proxy knows it
    elif aspect is not None and width:
        height, aspect = fold_aspect(width, aspect), None
    elif aspect is not None and height:
        width, aspect = max(1, _round(height * aspect[0] / aspect[1])), None
    if max(width, height) > MAX_DIMENSION:
        # Folded sizes must parse again from the canonical form, where w and h are bounded.
        raise OptionError("dpr" if dpr != 1 else "aspect", f"gives a side over {MAX_DIMENSION} px")
    return width, height, aspect


def _watermark_of(fields: Fields, settings: ParseSettings) -> Watermark | None:
    watermark: Watermark | None = fields.pop("watermark", None)
    mark: str = fields.pop("watermark_mark", "")
    if watermark is None:
        if mark:
            raise OptionError("watermark_url", "needs a watermark option (wm) as well")
        return None
    if watermark.mark and mark:
        raise OptionError("watermark_url", "conflicts with the mark given in wm")
    if not watermark.mark:
        if not (mark or settings.watermark):
            raise OptionError("watermark", "no mark: give watermark_url (wmu) or configure a default")
        watermark = replace(watermark, mark=mark or settings.watermark)
    return watermark


def _normalise(fields: Fields, settings: ParseSettings) -> TransformSpec:
    """Fold shortcuts into plain fields so equivalent URLs share one canonical form."""
    width, height, aspect = _size(fields, settings)
    fit: str = fields.pop("fit", "inside")
    extend: bool = fields.pop("extend", False)
    adaptive: bool = fields.pop("adaptive", False)
    if not (width and height) and not (fields.get("width_auto", False) and aspect is not None):
        # With one side free, every mode keeps the aspect ratio and fits inside.
        fit, extend, adaptive = "inside", False, False
    if fit == "clamp" and fields.get("enlarge"):
        fit = "cover"  # the two differ only where cover would upscale
    if extend and fit == "inside":
        fit, extend = "pad", False
    if fit in ("force", "outside", "pad"):
        extend = False  # never smaller than the box, or already padded
    gravity: str = fields.pop("gravity", "ce")
    focus: tuple[float, float] | None = fields.pop("focus", None)
    region: tuple[int, int, int, int] | None = fields.pop("region", None)
    if fit not in ("cover", "pad", "clamp", "auto") and aspect is None and not extend:
        gravity, focus, region = "ce", None, None  # gravity only places crops and padding
    background: str = fields.pop("background", DEFAULT_BACKGROUND)
    if len(background) == 8:
        fields["flatten"] = False  # nothing to lay a transparent colour onto
    return TransformSpec(
        width=width, height=height, fit=fit, gravity=gravity, focus=focus, aspect=aspect,
        background=background, extend=extend, adaptive=adaptive, region=region,
        watermark=_watermark_of(fields, settings), **fields,
    )  # fmt: skip
