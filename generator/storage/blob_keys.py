"""What every BlobStore shares: the one key shape that may reach a filesystem or a bucket, and not-found."""

from __future__ import annotations

import re

_KEY_RE = re.compile(r"^[0-9a-f]{32}$")


class BlobNotFound(LookupError):
    pass


def check_key(key: str) -> str:
    # Keys come from URLs; only the asset id shape ever becomes a path or an object name.
    if not _KEY_RE.fullmatch(key):
        raise ValueError("invalid blob key")
    return key
