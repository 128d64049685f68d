"""Argument parsers shared by option handlers; each raises OptionError naming the option."""

from __future__ import annotations

import base64
import binascii
import math
import re

from imgedge.url.errors import OptionError

_TRUE = {"1", "t", "true", "yes", "y", "on"}
_FALSE = {"0", "f", "false", "no", "n", "off"}
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_BASE64URL = re.compile(r"^[A-Za-z0-9_-]*={0,2}$")
ASSET_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
MAX_SOURCE_URL = 2048  # bytes of a source URL, as browsers and CDNs bound them
# ASCII only, one grammar in every language: Python's int() and float() would also take " 5", "1_0", "inf"
# and other scripts' digits, which a JavaScript client could not reproduce.
_INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
MAX_NUMBER_TEXT = 32  # characters; longer spellings of a number in range are only zeros


def arity(name: str, args: list[str], *counts: int) -> None:
    if len(args) not in counts:
        want = " or ".join(str(c) for c in counts)
        raise OptionError(name, f"expected {want} argument(s), got {len(args)}")


def integer(name: str, raw: str, lo: int, hi: int) -> int:
    if len(raw) > MAX_NUMBER_TEXT or not _INTEGER.fullmatch(raw):
        raise OptionError(name, f"{raw!r} is not an integer")
    value = int(raw, 10)
    if not lo <= value <= hi:
        raise OptionError(name, f"{value} is out of range {lo}..{hi}")
    return value


def number(name: str, raw: str, lo: float, hi: float) -> float:
    if len(raw) > MAX_NUMBER_TEXT or not _NUMBER.fullmatch(raw):
        raise OptionError(name, f"{raw!r} is not a number")
    value = float(raw)
    if not math.isfinite(value) or not lo <= value <= hi:
        raise OptionError(name, f"{raw} is out of range {lo:g}..{hi:g}")
    return round(value, 3)


def boolean(name: str, raw: str) -> bool:
    lowered = raw.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise OptionError(name, f"{raw!r} is not a boolean (use 1 or 0)")


def colour(name: str, args: list[str]) -> str:
    """`rrggbb`, `rgb`, `rrggbbaa` or `r:g:b[:a]` (0..255) → lowercase `rrggbb` or `rrggbbaa`."""
    if len(args) in (3, 4):
        channels = [integer(name, a, 0, 255) for a in args]
        text = "".join(f"{c:02x}" for c in channels)
    elif len(args) == 1 and _HEX.fullmatch(args[0]) and len(args[0]) in (3, 6, 8):
        text = args[0].lower()
        if len(text) == 3:
            text = "".join(ch * 2 for ch in text)
    else:
        raise OptionError(name, "expected a hex colour (rrggbb or rrggbbaa) or r:g:b")
    if len(text) == 8 and text.endswith("ff"):
        text = text[:6]
    return text


def base64_url(name: str, raw: str) -> str:
    """URL-safe base64 (padding optional) of a UTF-8 URL, as imgproxy encodes sources."""
    if not _BASE64URL.fullmatch(raw) or len(raw) > MAX_SOURCE_URL * 4 // 3 + 4:
        raise OptionError(name, "not URL-safe base64")
    stripped = raw.rstrip("=")
    try:
        decoded = base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise OptionError(name, "not URL-safe base64 of a UTF-8 URL") from None
    if not decoded or not decoded.isprintable():
        raise OptionError(name, "decodes to an empty or unprintable URL")
    return decoded
