"""imgproxy's URLs under IMGEDGE_IMGPROXY_PREFIX:

    /{signature}/{options}/plain/{source}[@{ext}]      /{signature}/{options}/{base64url source}[.{ext}]
    /info/{signature}/{info options}/{source}          (facts about the source as JSON: imgproxy_info.py)

Options are `name:arg:arg` segments, long or short names; the first segment without a `:` starts the source.
The older positional form `/{signature}/{type}/{w}/{h}/{gravity}/{enlarge}/{source}` is read too (imgproxy's
published signature example uses it). The signature is base64url_nopad(HMAC-SHA256(key, salt + path)) over
the path as sent after the signature; with no key configured, imgproxy checks none, so the URL is unsigned.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING
from urllib.parse import unquote

from imgedge.proxy.dialects.base import IMAGE, IMGPROXY_INFO, Credential, ParsedRequest
from imgedge.proxy.dialects.imgproxy_info import info_fields
from imgedge.proxy.dialects.imgproxy_options import OPTIONS, resizing_type
from imgedge.proxy.dialects.translate import Translation, check_length
from imgedge.proxy.sources.base import SourceRef
from imgedge.url import ParseSettings
from imgedge.url import values as v
from imgedge.url.errors import OptionError, UrlError

if TYPE_CHECKING:
    from imgedge.proxy.config import ProxyConfig

IMGPROXY = "imgproxy"  # HMAC-SHA256 over salt + path (imgedge.url.signing.imgproxy_signature)
_BASIC_TYPES = ("fit", "fill", "fill-down", "force", "auto")


class ImgproxyDialect:
    def __init__(self, config: ProxyConfig) -> None:
        self.prefix = config.imgproxy_prefix
        # Pure, and not memoised here: the transform handler memoises requests once they have been verified.
        self._parse = functools.partial(
            parse_imgproxy_path, settings=config.parse_settings, signed=bool(config.imgproxy_keys)
        )

    def parse(self, path: str, query: str) -> ParsedRequest:
        check_length(path)
        return self._parse(path)


def parse_imgproxy_path(path: str, settings: ParseSettings, *, signed: bool) -> ParsedRequest:
    reply = IMAGE
    if path.startswith("/info/"):
        reply, path = IMGPROXY_INFO, path.removeprefix("/info")
    signature, slash, rest = path.removeprefix("/").partition("/")
    if not signature or not slash or not rest:
        raise UrlError("expected /{signature}/{options}/{source}")
    segments = rest.split("/")
    fields: tuple[str, ...] = ()
    if reply == IMGPROXY_INFO:
        fields, source_parts = info_fields(segments)
        translation = Translation()
    elif segments[0] in _BASIC_TYPES and len(segments) >= 6 and ":" not in "".join(segments[:5]):
        translation, source_parts = _basic(segments)
    else:
        translation, source_parts = _advanced(segments)
    source, extension = _source(source_parts)
    spec = translation.spec(settings, suffix_format=extension)
    credential = (
        Credential(IMGPROXY, signature, f"/{rest}".encode("latin-1")) if signed else Credential.unsigned()
    )
    return ParsedRequest(spec, source, credential, reply, info_fields=fields)


def _advanced(segments: list[str]) -> tuple[Translation, list[str]]:
    out = Translation()
    for index, segment in enumerate(segments):
        name, colon, raw = segment.partition(":")
        if not colon:
            return out, segments[index:]
        entry = OPTIONS.get(name)
        if entry is None:
            raise OptionError(name, "unknown or unsupported imgproxy option")
        for native in entry(name, raw.split(":")):
            out.add(native, name)
    raise UrlError("source: missing after the options")


def _basic(segments: list[str]) -> tuple[Translation, list[str]]:
    kind, width, height, gravity, enlarge = segments[:5]
    out = Translation()
    for native in resizing_type("rs", [kind]):
        out.add(native, "resizing_type")
    for native, part in ((f"w:{width}", "width"), (f"h:{height}", "height"), (f"el:{enlarge}", "enlarge")):
        out.add(native, part)
    if gravity != "ce":
        out.add(f"g:{gravity}", "gravity")
    return out, segments[5:]


def _source(parts: list[str]) -> tuple[SourceRef, str | None]:
    if parts[0] == "plain":
        url, at, extension = "/".join(parts[1:]).rpartition("@")
        if not at:
            url, extension = extension, ""
        return SourceRef.parse(unquote(url), part="source"), extension or None
    encoded, dot, extension = "".join(parts).partition(".")
    return SourceRef.parse(v.base64_url("source", encoded), part="source"), extension if dot else None
