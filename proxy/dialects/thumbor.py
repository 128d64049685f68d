"""thumbor's URLs under IMGEDGE_THUMBOR_PREFIX, signed with HMAC-SHA1 over the path as sent:

    /{hash|unsafe}/[meta/][trim[:top-left|bottom-right][:tolerance]/][AxB:CxD/][adaptive-][full-]fit-in/]
    [[-]W|orig]x[[-]H|orig]/][left|right|center/][top|bottom|middle/][smart/][filters:f(a,b):g()/]IMAGE

Each part becomes native options (see translate.py). thumbor crops and resizes first, then mirrors (-W, -H)
and rotates (the rotate filter); imgedge orients first, so here the mirrors and the rotation move in front
and the gravity (and the box, for quarter turns) turns with them: the pixels are the same.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote

from imgedge.proxy.dialects.base import IMAGE, THUMBOR_META, Credential, ParsedRequest
from imgedge.proxy.dialects.thumbor_filters import FILTERS, Filters, parse_filters
from imgedge.proxy.dialects.translate import Translation, check_length
from imgedge.proxy.sources.base import SourceRef
from imgedge.url import ParseSettings
from imgedge.url.errors import OptionError, UrlError

if TYPE_CHECKING:
    from imgedge.proxy.config import ProxyConfig

THUMBOR = "thumbor"  # HMAC-SHA1 over the path after /{hash}/ (imgedge.url.signing.thumbor_signature)
UNSAFE = "unsafe"

_PATH = re.compile(
    r"(?:(?P<meta>meta)/)?"
    r"(?:(?P<trim>trim(?::(?:top-left|bottom-right))?(?::\d+)?)/)?"
    r"(?:(?P<crop>\d+x\d+:\d+x\d+)/)?"
    r"(?:(?P<fit>(?:adaptive-)?(?:full-)?fit-in)/)?"
    r"(?:(?P<size>-?(?:\d+|orig)?x-?(?:\d+|orig)?)/)?"
    r"(?:(?P<halign>left|right|center)/)?"
    r"(?:(?P<valign>top|bottom|middle)/)?"
    r"(?:(?P<smart>smart)/)?"
    r"(?:filters:(?P<filters>.*?\))/)?"
    r"(?P<image>.+)",
    re.DOTALL,
)
_HALIGN = {"left": 0.0, "center": 0.5, "right": 1.0}
_VALIGN = {"top": 0.0, "middle": 0.5, "bottom": 1.0}
_COMPASS = {
    (0.5, 0.5): "ce", (0.5, 0.0): "no", (0.5, 1.0): "so", (1.0, 0.5): "ea", (0.0, 0.5): "we",
    (1.0, 0.0): "noea", (0.0, 0.0): "nowe", (1.0, 1.0): "soea", (0.0, 1.0): "sowe",
}  # fmt: skip
_CALLBACK = re.compile(r"[A-Za-z_$][A-Za-z0-9_$.]{0,63}")
_COLLAPSED_SCHEME = re.compile(r"^(https?|s3):/(?!/)")


class ThumborDialect:
    def __init__(self, config: ProxyConfig) -> None:
        self.prefix = config.thumbor_prefix
        # Pure, and not memoised here: the transform handler memoises requests once they have been verified.
        self._parse = functools.partial(parse_thumbor_path, settings=config.parse_settings)

    def parse(self, path: str, query: str) -> ParsedRequest:
        check_length(path)
        parsed = self._parse(path)
        if parsed.reply == THUMBOR_META and "callback" in query:
            callback = parse_qs(query).get("callback", [""])[0]
            if not _CALLBACK.fullmatch(callback):
                raise UrlError("callback: expected a JavaScript function name")
            return ParsedRequest(parsed.spec, parsed.source, parsed.credential, parsed.reply, callback)
        return parsed


def parse_thumbor_path(path: str, settings: ParseSettings) -> ParsedRequest:
    signature, slash, signed = path.removeprefix("/").partition("/")
    if not signature or not slash or not signed:
        raise UrlError("expected /{hash|unsafe}/…/{image}")
    match = _PATH.fullmatch(signed)
    assert match is not None  # the image group takes whatever the options leave
    parts = match.groupdict()
    source = _source(parts["image"])
    filters = parse_filters(parts["filters"] or "")
    translation = _translate(parts, filters)
    spec = translation.spec(settings)
    if unquote(signature) == UNSAFE:
        credential = Credential.unsigned()
    else:
        credential = Credential(THUMBOR, unquote(signature), signed.encode("latin-1"))
    reply = THUMBOR_META if parts["meta"] else IMAGE
    return ParsedRequest(spec, source, credential, reply)


def _source(raw: str) -> SourceRef:
    image = _COLLAPSED_SCHEME.sub(r"\1://", unquote(raw))  # proxies collapse `//` in paths
    if raw.startswith("filters:"):
        raise UrlError("filters: malformed (expected filters:name(args):name(args)/)")
    if "/" in image and not re.match(r"^(https?|s3)://", image):
        # Not a URL: the first segment is a part thumbor does not have, or one out of order.
        raise UrlError(f"{image.split('/')[0]}: unknown or misplaced thumbor URL part")
    return SourceRef.parse(image)


def _translate(parts: dict[str, str | None], filters: Filters) -> Translation:
    out = Translation()
    flop, flip, width, height = _size(parts["size"] or "")
    turn = filters.rotate  # clockwise, as imgedge turns (thumbor's rotate filter turns anticlockwise)
    if turn in (90, 270):
        width, height = height, width
    _trim_and_crop(out, parts, moved=bool(turn or flip or flop))
    _geometry(out, parts, filters, width, height)
    gravity = _gravity(parts, filters, flop=flop, flip=flip, turn=turn)
    if gravity:
        out.add(gravity, "smart" if gravity == "g:sm" else "focal" if "fr" in gravity else "alignment")
    # A mirror before a quarter turn is the other mirror after it.
    flip_after, flop_after = (flop, flip) if turn in (90, 270) else (flip, flop)
    orient = ((turn, f"rot:{turn}", "rotate"), (flip_after, "flip:1", "size"), (flop_after, "flop:1", "size"))
    for on, segment, part in orient:
        if on:
            out.add(segment, part)
    for segment, part in filters.segments:
        out.add(segment, part)
    return out


def _trim_and_crop(out: Translation, parts: dict[str, str | None], *, moved: bool) -> None:
    # thumbor trims and crops in the source's frame; imgedge after mirroring and turning, where its corners
    # and rectangles would have to move with the image.
    for part in ("trim", "crop"):
        if parts[part] and moved:
            raise OptionError(part, "cannot be combined with flipping or rotation here")
    if parts["trim"]:
        words = parts["trim"].split(":")[1:]
        reference = ":br" if "bottom-right" in words else ""
        tolerance = next((w for w in words if w.isdigit()), "0")
        out.add(f"t:{tolerance}{reference}", "trim")
    if parts["crop"]:
        left, top, right, bottom = (int(v) for v in re.split(r"[x:]", parts["crop"]))
        if right > left and bottom > top:  # thumbor ignores an empty crop
            out.add(f"c:{left}:{top}:{right - left}:{bottom - top}", "crop")


def _size(size: str) -> tuple[bool, bool, str, str]:
    """`[-]W x [-]H` → (mirror left-right, mirror top-bottom, width, height); "" is a free side."""
    raw_w, _, raw_h = size.partition("x")
    return raw_w.startswith("-"), raw_h.startswith("-"), raw_w.lstrip("-"), raw_h.lstrip("-")


def _geometry(
    out: Translation, parts: dict[str, str | None], filters: Filters, width: str, height: str
) -> None:
    for side, value in (("w", width), ("h", height)):
        if value.strip("0"):
            out.add(f"{side}:{value}", "size")
    fit = parts["fit"] or ""
    if fit:
        if "adaptive" in fit:
            out.add("ad:1", "fit-in")
        if "full" in fit:
            out.add("fit:outside", "fit-in")
            upscale = not filters.no_upscale  # full-fit-in scales up as well as down
        else:
            out.add("fit:pad" if filters.fill else "fit:inside", "fit-in")
            upscale = filters.upscale
    else:
        out.add(
            "fit:force" if filters.stretch else "fit:clamp" if filters.no_upscale else "fit:cover", "size"
        )
        if filters.fill:
            out.add("ex:1", "fill")  # a crop held back by no_upscale is filled out to the size asked for
        upscale = not filters.no_upscale  # thumbor's crop mode scales up by default
    if upscale and (width.strip("0") or height.strip("0")):
        out.add("el:1", "upscale")
    if filters.fill and filters.background and filters.fill != filters.background:
        raise OptionError("fill", "conflicts with background_color")
    colour = filters.fill or filters.background
    if colour:
        out.add(f"bg:{colour}", "fill" if filters.fill else "background_color")
    if filters.background:
        out.add("fl:1", "background_color")  # thumbor lays the image onto it, whatever the format


def _gravity(parts: dict[str, str | None], filters: Filters, *, flop: bool, flip: bool, turn: int) -> str:
    if filters.focal:
        if turn or flip or flop:
            raise OptionError("focal", "cannot be combined with flipping or rotation here")
        return "g:fr:" + ":".join(str(v) for v in filters.focal)
    if parts["smart"]:
        return "g:sm"
    # thumbor places its crop before it mirrors and turns; imgedge crops after, so the anchor moves with them.
    x, y = _HALIGN[parts["halign"] or "center"], _VALIGN[parts["valign"] or "middle"]
    x, y = (1 - x if flop else x), (1 - y if flip else y)
    for _ in range(turn // 90):
        x, y = 1 - y, x  # a clockwise quarter turn
    compass = _COMPASS[(x, y)]
    return "" if compass == "ce" else f"g:{compass}"


__all__ = ["FILTERS", "THUMBOR", "ThumborDialect", "parse_thumbor_path"]
