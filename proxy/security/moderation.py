"""Who may see an asset in each moderation state; checked on every hit as well as on every miss."""

from __future__ import annotations

from imgedge.proxy.errors import Forbidden, Withdrawn
from imgedge.url.spec import TransformSpec


def check_moderation(moderation: str, spec: TransformSpec) -> None:
    """Pending assets are only delivered through expiring signed URLs (the creator's preview)."""
    if moderation == "rejected":
        raise Withdrawn()
    if moderation != "approved" and not spec.expires:
        raise Forbidden("asset is pending review")
