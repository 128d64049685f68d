"""imgproxy's processing options, long and short names, each a function from its arguments to native option
segments (empty arguments keep the default, as in imgproxy). Options imgedge does not have are a 400."""

from __future__ import annotations

from collections.abc import Callable

from imgedge.url import values as v
from imgedge.url.errors import OptionError
from imgedge.url.spec import COMPASS, encode_mark

Option = Callable[[str, list[str]], list[str]]

# imgproxy's resizing types: fill crops to at most the box without scaling up (imgedge's clamp), fill-down
# keeps the box's ratio (imgedge's cover), fit and force are the same, auto picks fill or fit by orientation.
_TYPES = {"fit": "inside", "fill": "clamp", "fill-down": "cover", "force": "force", "auto": "auto"}


def _arity(name: str, args: list[str], most: int) -> list[str]:
    if len(args) > most:
        raise OptionError(name, f"expected at most {most} argument(s), got {len(args)}")
    return args + [""] * (most - len(args))


def _given(*pairs: tuple[str, str]) -> list[str]:
    return [f"{native}:{value}" for native, value in pairs if value != ""]


def resizing_type(name: str, args: list[str]) -> list[str]:
    (kind,) = _arity(name, args, 1)
    if kind and kind not in _TYPES:
        raise OptionError(name, f"{kind!r} is not one of {', '.join(_TYPES)}")
    return [f"fit:{_TYPES[kind]}"] if kind else []


def _size(name: str, args: list[str]) -> list[str]:
    width, height, enlarge, extend = _arity(name, args, 4)
    return _given(("w", width), ("h", height), ("el", enlarge)) + _extend(name, [extend] if extend else [])


def _resize(name: str, args: list[str]) -> list[str]:
    kind, *rest = _arity(name, args, 5)
    return resizing_type(name, [kind]) + _size(name, rest)


def _single(native: str) -> Option:
    def option(name: str, args: list[str]) -> list[str]:
        (value,) = _arity(name, args, 1)
        return _given((native, value))

    return option


def _gravity(name: str, args: list[str]) -> list[str]:
    if not args or not args[0]:
        return []
    kind = args[0]
    if kind == "fp":
        x, y = _arity(name, args[1:], 2)
        return [f"g:fp:{x}:{y}"]
    if kind not in (*COMPASS, "sm"):
        raise OptionError(name, f"{kind!r} is not a gravity imgedge supports ({', '.join(COMPASS)}, sm, fp)")
    x_offset, y_offset = _arity(name, args[1:], 2)
    if any(o not in ("", "0") for o in (x_offset, y_offset)):
        raise OptionError(name, "gravity offsets are not supported")
    return [f"g:{kind}"]


def _extend(name: str, args: list[str]) -> list[str]:
    if not args or not args[0]:
        return []
    on = v.boolean(name, args[0])
    gravity = _gravity(name, args[1:]) if len(args) > 1 else []
    return ["ex:1", *gravity] if on else []


def _crop(name: str, args: list[str]) -> list[str]:
    width, height, *gravity = args + [""] * max(0, 2 - len(args))
    placed = _gravity(name, gravity)
    where = placed[0].removeprefix("g:") if placed else "ce"
    return [f"c:{width or 0}:{height or 0}:{where}"]


def _background(name: str, args: list[str]) -> list[str]:
    if not args or args == [""]:
        return []
    return [f"bg:{':'.join(args)}", "fl:1"]  # imgproxy fills the background whatever the format


def _trim(name: str, args: list[str]) -> list[str]:
    threshold, colour, equal_hor, equal_ver = _arity(name, args, 4)
    if any(flag and v.boolean(name, flag) for flag in (equal_hor, equal_ver)):
        raise OptionError(name, "equal_hor and equal_ver are not supported")
    return [f"t:{threshold or 10}" + (f":{colour}" if colour else "")]


def _watermark(name: str, args: list[str]) -> list[str]:
    opacity, position, x, y, scale = _arity(name, args, 5)
    if not opacity or v.number(name, opacity, 0, 1) == 0:
        return []  # imgproxy: opacity 0 turns the watermark off
    return [f"wm:{opacity}:{position or 'ce'}:{x or 0}:{y or 0}:{scale or 0}"]


def _watermark_url(name: str, args: list[str]) -> list[str]:
    (encoded,) = _arity(name, args, 1)
    return [f"wmu:{encode_mark(v.base64_url(name, encoded))}"] if encoded else []


def _quality(name: str, args: list[str]) -> list[str]:
    (value,) = _arity(name, args, 1)
    return [] if value in ("", "0") else [f"q:{value}"]  # 0: the format's default, as in imgproxy


def _ignored(name: str, args: list[str]) -> list[str]:
    """cachebuster and filename change the URL (and so what caches in front hold), not the image."""
    return []


def _auto_rotate(name: str, args: list[str]) -> list[str]:
    (value,) = _arity(name, args, 1)
    if value and not v.boolean(name, value):
        raise OptionError(name, "EXIF orientation is always applied")
    return []


def _preset(name: str, args: list[str]) -> list[str]:
    return [f"pr:{':'.join(args)}"]


OPTIONS: dict[str, Option] = {}
for names, option in (
    (("resize", "rs"), _resize), (("size", "s"), _size), (("resizing_type", "rt"), resizing_type),
    (("width", "w"), _single("w")), (("height", "h"), _single("h")), (("dpr",), _single("dpr")),
    (("enlarge", "el"), _single("el")), (("extend", "ex"), _extend), (("gravity", "g"), _gravity),
    (("crop", "c"), _crop), (("quality", "q"), _quality), (("format", "f", "ext"), _single("f")),
    (("blur", "bl"), _single("bl")), (("sharpen", "sh"), _single("sh")), (("rotate", "rot"), _single("rot")),
    (("background", "bg"), _background), (("strip_metadata", "sm"), _single("strip")),
    (("preset", "pr"), _preset), (("expires", "exp"), _single("exp")), (("cachebuster", "cb"), _ignored),
    (("filename", "fn"), _ignored), (("max_bytes", "mb"), _single("mb")), (("trim", "t"), _trim),
    (("watermark", "wm"), _watermark), (("watermark_url", "wmu"), _watermark_url),
    (("auto_rotate", "ar"), _auto_rotate),
):  # fmt: skip
    for alias in names:
        OPTIONS[alias] = option
