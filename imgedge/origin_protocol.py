"""The contract between the generator's `GET /originals/{asset_id}` and the proxy that fetches it.

The generator answers with a strong ETag (the content-addressed id), immutable caching for approved
assets, and the moderation state in a header, so the proxy can pick its own cache lifetime.
"""

from __future__ import annotations

ORIGINALS_PATH = "/originals/{asset_id}"
MODERATION_HEADER = "x-imgedge-moderation"
MODERATION_STATES = ("approved", "pending", "rejected")
IMMUTABLE = "public, max-age=31536000, immutable"


def originals_path(asset_id: str) -> str:
    return ORIGINALS_PATH.format(asset_id=asset_id)


def if_none_match_tags(header: str | None) -> set[str]:
    """The entity tags of an `If-None-Match` header, weak ones compared by their opaque part (RFC 9110)."""
    if not header:
        return set()
    if header.strip() == "*":
        return {"*"}
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    tags = if_none_match_tags(if_none_match)
    return "*" in tags or etag in tags
