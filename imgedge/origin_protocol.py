"""The contract between the generator's `GET /originals/{asset_id}` and the proxy that fetches it.

The generator answers with a strong ETag (the content-addressed id), immutable caching for approved
assets, and the moderation state in a header, so the proxy can pick its own cache lifetime.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping

from imgedge.provenance import ProvenanceLabel

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


# Provenance of generated originals, so the proxy keeps a label in every variant (imgedge.provenance):
# the IPTC digital source type, the URL of the full record, and the prompt (base64url of its UTF-8) only
# when the generator's operator opted in. Absent for uploads and ingested images.
DIGITAL_SOURCE_TYPE_HEADER = "x-imgedge-digital-source-type"
PROVENANCE_HEADER = "x-imgedge-provenance"
PROMPT_HEADER = "x-imgedge-prompt"


def label_headers(label: ProvenanceLabel | None) -> dict[str, str]:
    if label is None:
        return {}
    headers = {DIGITAL_SOURCE_TYPE_HEADER: label.digital_source_type}
    if label.record:
        headers[PROVENANCE_HEADER] = label.record
    if label.prompt:
        headers[PROMPT_HEADER] = base64.urlsafe_b64encode(label.prompt.encode()).decode().rstrip("=")
    return headers


def label_from_headers(headers: Mapping[str, str]) -> ProvenanceLabel | None:
    """The label an origin response (or a cached source entry) carries; None when there is none."""
    source_type = headers.get(DIGITAL_SOURCE_TYPE_HEADER, "")
    if not source_type:
        return None
    encoded = headers.get(PROMPT_HEADER, "")
    try:
        prompt = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode() if encoded else ""
    except (ValueError, UnicodeDecodeError):
        prompt = ""
    return ProvenanceLabel.checked(source_type, headers.get(PROVENANCE_HEADER, ""), prompt)
