"""imgproxy's info options: `/info/{signature}/{info options}/{source}` says which facts to return.

Size, format and dimensions are on unless turned off (as imgproxy has them); `average` and `blurhash` come
from the asset's placeholders, computed once per asset (proxy/info.py). BlurHash is computed with 4x3
components, so `blurhash` accepts those; other info options (EXIF, palettes, object detection) are refused
by name rather than answered with less than was asked for.
"""

from __future__ import annotations

from imgedge.imaging.placeholders import BLURHASH_COMPONENTS
from imgedge.url import values as v
from imgedge.url.errors import OptionError, UrlError

DEFAULT_FIELDS = ("size", "format", "dimensions")
PLACEHOLDER_FIELDS = frozenset({"average", "blurhash"})
_NAMES = {
    "size": "size", "s": "size", "format": "format", "f": "format", "dimensions": "dimensions",
    "d": "dimensions", "average": "average", "avg": "average", "blurhash": "blurhash", "bh": "blurhash",
}  # fmt: skip


def info_fields(segments: list[str]) -> tuple[tuple[str, ...], list[str]]:
    """The facts asked for, and the segments that name the source."""
    fields = dict.fromkeys(DEFAULT_FIELDS, True)
    for index, segment in enumerate(segments):
        name, colon, raw = segment.partition(":")
        if not colon:
            return tuple(f for f, on in fields.items() if on), segments[index:]
        field = _NAMES.get(name)
        if field is None:
            raise OptionError(name, "unknown or unsupported imgproxy info option")
        fields[field] = _wanted(name, field, raw.split(":"))
    raise UrlError("source: missing after the options")


def _wanted(name: str, field: str, args: list[str]) -> bool:
    if field == "blurhash":
        v.arity(name, args, 2)
        components = (v.integer(name, args[0], 0, 9), v.integer(name, args[1], 0, 9))
        if components == (0, 0):
            return False
        if components != BLURHASH_COMPONENTS:
            x, y = BLURHASH_COMPONENTS
            raise OptionError(name, f"only {x}:{y} components are computed")
        return True
    v.arity(name, args, 1, 2) if field == "average" else v.arity(name, args, 1)
    return v.boolean(name, args[0])


def average_rgba(hex_colour: str) -> dict[str, int]:
    """imgproxy's form of a colour: {"R", "G", "B", "A"}; placeholders are computed on opaque pixels."""
    red, green, blue = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return {"R": red, "G": green, "B": blue, "A": 255}
