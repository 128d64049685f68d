"""thumbor's `filters:name(args):name(args)`: each filter a small function from its arguments to native
option segments, or to a fact the geometry needs (fill, no_upscale, rotate …). Anything else is a 400."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from imgedge.proxy.sources.base import SourceRef
from imgedge.url.errors import OptionError
from imgedge.url.spec import encode_mark

_CALL = re.compile(r"([a-z_]+)\(([^()]*)\)")
_NAMED_COLOURS = {
    "white": "ffffff", "black": "000000", "red": "ff0000", "green": "008000", "blue": "0000ff",
    "yellow": "ffff00", "cyan": "00ffff", "magenta": "ff00ff", "gray": "808080", "grey": "808080",
    "silver": "c0c0c0", "maroon": "800000", "olive": "808000", "lime": "00ff00", "aqua": "00ffff",
    "teal": "008080", "navy": "000080", "fuchsia": "ff00ff", "purple": "800080", "orange": "ffa500",
    "transparent": "ffffff00",
}  # fmt: skip
_OUTPUTS = {"webp": "webp", "jpeg": "jpeg", "jpg": "jpeg", "png": "png", "gif": "gif", "avif": "avif"}
_TRUE = ("1", "true", "yes", "on")


@dataclass(slots=True)
class Filters:
    segments: list[tuple[str, str]] = field(default_factory=list)  # native segments, with their filter
    rotate: int = 0  # clockwise quarter turns in degrees
    fill: str = ""
    background: str = ""
    no_upscale: bool = False
    upscale: bool = False
    stretch: bool = False
    focal: tuple[int, int, int, int] | None = None


def _args(name: str, raw: str, low: int, high: int) -> list[str]:
    args = [a.strip() for a in raw.split(",")] if raw.strip() else []
    if not low <= len(args) <= high:
        want = str(low) if low == high else f"{low} to {high}"
        raise OptionError(name, f"expected {want} argument(s), got {len(args)}")
    return args


def _int(name: str, raw: str) -> int:
    if not re.fullmatch(r"-?\d+", raw):
        raise OptionError(name, f"{raw!r} is not an integer")
    return int(raw)


def _number(name: str, raw: str) -> float:
    if not re.fullmatch(r"-?\d+(\.\d+)?", raw):
        raise OptionError(name, f"{raw!r} is not a number")
    return float(raw)


def colour(name: str, raw: str) -> str:
    """A colour name thumbor (PIL) knows, `transparent`, or hex digits (rgb or rrggbb)."""
    lowered = raw.lower().lstrip("#")
    if lowered in _NAMED_COLOURS:
        return _NAMED_COLOURS[lowered]
    if re.fullmatch(r"[0-9a-f]{3}|[0-9a-f]{6}", lowered):
        return lowered if len(lowered) == 6 else "".join(c * 2 for c in lowered)
    raise OptionError(
        name, f"{raw!r} is not a colour (a name, rrggbb or transparent; auto and blur are not supported)"
    )


def _format(f: Filters, args: list[str]) -> None:
    fmt = _OUTPUTS.get(args[0].lower())
    if fmt is None:
        raise OptionError("format", f"{args[0]!r} is not one of {', '.join(_OUTPUTS)}")
    f.segments.append((f"f:{fmt}", "format"))


def _quality(f: Filters, args: list[str]) -> None:
    f.segments.append((f"q:{max(1, _int('quality', args[0]))}", "quality"))


def _blur(f: Filters, args: list[str]) -> None:
    radius = _number("blur", args[0])
    sigma = _number("blur", args[1]) if len(args) > 1 else 0.0
    # thumbor's sigma defaults to the radius; its radius is capped at 150 and so is the effect.
    f.segments.append((f"bl:{min(sigma or radius, 100.0):g}", "blur"))


def _sharpen(f: Filters, args: list[str]) -> None:
    # thumbor's wavelet sharpen grows with its amount; libvips' unsharp mask with its sigma. Measured against
    # thumbor 7.8 (tests/proxy/test_thumbor_differential.py), sigma = amount comes closest.
    amount = _number("sharpen", args[0])
    f.segments.append((f"sh:{min(max(amount, 0.1), 10.0):g}", "sharpen"))


def _rotate(f: Filters, args: list[str]) -> None:
    angle = _int("rotate", args[0])
    if angle % 90:
        raise OptionError("rotate", f"{angle} is not a multiple of 90")
    f.rotate = -angle % 360  # thumbor turns anticlockwise


def _fill(f: Filters, args: list[str]) -> None:
    f.fill = colour("fill", args[0])


def _background(f: Filters, args: list[str]) -> None:
    f.background = colour("background_color", args[0])


def _focal(f: Filters, args: list[str]) -> None:
    match = re.fullmatch(r"(\d+)x(\d+):(\d+)x(\d+)", args[0])
    if match is None:
        raise OptionError("focal", "expected LEFTxTOP:RIGHTxBOTTOM")
    left, top, right, bottom = (int(v) for v in match.groups())
    f.focal = (left, top, right, bottom)


def _round_corner(f: Filters, args: list[str]) -> None:
    a, _, b = args[0].partition("|")
    red, green, blue = (_int("round_corner", v) for v in args[1:4])
    if not all(0 <= v <= 255 for v in (red, green, blue)):
        raise OptionError("round_corner", "colour channels are 0..255")
    alpha = "00" if len(args) > 4 and args[4].lower() in _TRUE else ""
    rc = f"rc:{_int('round_corner', a)}:{_int('round_corner', b or a)}:{red:02x}{green:02x}{blue:02x}{alpha}"
    f.segments.append((rc, "round_corner"))


def _position(raw: str, before: str, after: str) -> tuple[str, str]:
    """thumbor's x or y: N from the start, -N from the end, Np percent, center, repeat."""
    if raw in ("center", "repeat"):
        return ("ce" if raw == "center" else "re"), "0"
    if not re.fullmatch(r"-?\d+p?", raw):
        raise OptionError("watermark", f"{raw!r} is not a position (N, -N, Np, center or repeat)")
    return (after if raw.startswith("-") else before), raw.lstrip("-")


def _watermark(f: Filters, args: list[str]) -> None:
    mark = SourceRef.parse(args[0], part="watermark")
    (h, x), (v, y) = _position(args[1], "we", "ea"), _position(args[2], "no", "so")
    if "re" in (h, v) and (h, v) != ("re", "re"):
        raise OptionError("watermark", "repeating along one axis only is not supported")
    position = (
        "re" if h == "re" else {"ce": "", "no": "no", "so": "so"}[v] + {"ce": "", "we": "we", "ea": "ea"}[h]
    )
    alpha = _number("watermark", args[3])
    ratios = [min(_number("watermark", r), 100.0) / 100 if r != "none" else 0.0 for r in args[4:6]]
    width_ratio, height_ratio = [*ratios, 0.0, 0.0][:2]
    opacity = max(0.0, min(1.0, 1 - alpha / 100))
    numbers = f"{opacity:g}:{position}:{x}:{y}:{width_ratio:g}:{height_ratio:g}"
    text = f"wm:{numbers}:{encode_mark(mark.location)}"
    f.segments.append((text, "watermark"))


def _segment(template: str) -> Callable[[Filters, list[str]], None]:
    def apply(f: Filters, args: list[str]) -> None:
        f.segments.append((template.format(*args), name_of[template]))

    return apply


def _flag(attribute: str) -> Callable[[Filters, list[str]], None]:
    def apply(f: Filters, _: list[str]) -> None:
        setattr(f, attribute, True)

    return apply


def _nothing(_: Filters, __: list[str]) -> None:
    """strip_icc, strip_exif: imgedge strips metadata and converts to sRGB unless asked to keep it."""


name_of = {"br:{0}": "brightness", "co:{0}": "contrast", "gs:1": "grayscale", "mb:{0}": "max_bytes"}

# name → (handler, fewest and most arguments)
FILTERS: dict[str, tuple[Callable[[Filters, list[str]], None], int, int]] = {
    "format": (_format, 1, 1), "quality": (_quality, 1, 1), "blur": (_blur, 1, 2),
    "sharpen": (_sharpen, 3, 3), "rotate": (_rotate, 1, 1), "fill": (_fill, 1, 2),
    "background_color": (_background, 1, 1), "grayscale": (_segment("gs:1"), 0, 0),
    "brightness": (_segment("br:{0}"), 1, 1), "contrast": (_segment("co:{0}"), 1, 1),
    "no_upscale": (_flag("no_upscale"), 0, 0), "upscale": (_flag("upscale"), 0, 0),
    "stretch": (_flag("stretch"), 0, 0), "strip_icc": (_nothing, 0, 0), "strip_exif": (_nothing, 0, 0),
    "focal": (_focal, 1, 1), "max_bytes": (_segment("mb:{0}"), 1, 1),
    "round_corner": (_round_corner, 4, 5), "watermark": (_watermark, 4, 6),
}  # fmt: skip


def parse_filters(text: str) -> Filters:
    filters = Filters()
    position = 0
    while position < len(text):
        match = _CALL.match(text, position)
        if match is None:
            raise OptionError("filters", f"malformed at {text[position : position + 30]!r}")
        name, raw = match.groups()
        entry = FILTERS.get(name)
        if entry is None:
            raise OptionError(name, "thumbor filter not supported")
        handler, low, high = entry
        handler(filters, _args(name, raw, low, high))
        position = match.end()
        if position < len(text):
            if text[position] != ":":
                raise OptionError(
                    "filters", f"expected ':' between filters at {text[position : position + 30]!r}"
                )
            position += 1
    return filters
