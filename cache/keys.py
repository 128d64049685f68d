"""Cache keys: pure functions of explicit inputs under a versioned prefix, safe as file names.

The URL signature is deliberately not an input, so signing keys can rotate without a cold cache.
"""

from __future__ import annotations

import hashlib
import re

KEY_SCHEMA = "v1"

_SAFE_SEGMENT = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}")


def variant_key(asset_id: str, canonical_spec: str, output_format: str, encoder_version: str) -> str:
    digest = _digest("variant", asset_id, canonical_spec, output_format, encoder_version)
    return f"{KEY_SCHEMA}/var/{_segment(asset_id)}/{digest}"


def source_key(asset_id: str, form: str = "original") -> str:
    return f"{KEY_SCHEMA}/src/{_segment(asset_id)}/{_segment(form)}"


def asset_tag(asset_id: str) -> str:
    return f"asset:{asset_id}"


def tag_asset(tag: str) -> str | None:
    """The asset id an asset tag names (the CDN's surrogate key), or None for any other tag."""
    asset_id = tag.removeprefix("asset:")
    return asset_id if asset_id != tag and asset_id else None


def _segment(value: str) -> str:
    if _SAFE_SEGMENT.fullmatch(value):
        return value
    # "~" is outside the safe alphabet, so a hashed segment can never equal a literal one.
    return "~" + hashlib.sha256(value.encode()).hexdigest()[:40]


def _digest(*parts: str) -> str:
    h = hashlib.sha256()
    for part in parts:
        raw = part.encode()
        # Length-prefixing keeps ("ab", "c") and ("a", "bc") apart.
        h.update(len(raw).to_bytes(8, "big"))
        h.update(raw)
    return h.hexdigest()


def facts_key(asset_id: str, name: str) -> str:
    """What the proxy learned about an original (q:auto qualities, placeholders), kept with its variants."""
    return f"{KEY_SCHEMA}/facts/{_segment(asset_id)}/{_segment(name)}"


def generation_key(generation: str) -> str:
    """Where a prompt URL's generation (imgedge.url.prompt) maps to the asset id it made."""
    return f"{KEY_SCHEMA}/gen/{_digest('generation', generation)}"
