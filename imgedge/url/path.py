"""Split `/{signature}/{options…}/{asset_id}[.ext]` into its parts without interpreting the options."""

from __future__ import annotations

import re
from dataclasses import dataclass

from imgedge.url.errors import UrlError

_ASSET_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


def is_asset_id(text: str) -> bool:
    return _ASSET_ID.fullmatch(text) is not None


@dataclass(frozen=True, slots=True)
class RequestPath:
    signature: str
    options: list[str]
    asset_id: str
    extension: str | None


def split_path(path: str) -> RequestPath:
    segments = path.strip("/").split("/")
    if len(segments) < 2 or not segments[0]:
        raise UrlError("expected /{signature}/{options}/{asset_id}")
    last = segments[-1]
    asset_id, dot, extension = last.partition(".")
    if not _ASSET_ID.fullmatch(asset_id) or (dot and not extension):
        raise UrlError("asset id must be 1-128 letters, digits, '-' or '_', optionally with .format")
    return RequestPath(segments[0], segments[1:-1], asset_id, extension if dot else None)
