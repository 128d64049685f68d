"""Pick the output format from `Accept` for f:auto; explicit formats never vary."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from imgedge.formats import AUTO_ORDER, FALLBACK

# Decided only after decoding: JPEG, or PNG when the image has alpha.
LEGACY = "legacy"


@dataclass(frozen=True, slots=True)
class Negotiated:
    format: str  # a format name from imgedge.formats, or LEGACY
    varies: bool  # the response depends on Accept, so it carries `Vary: Accept`


@functools.lru_cache(maxsize=1024)
def accepted_types(accept: str | None) -> frozenset[str]:
    """Media types the client lists explicitly with q > 0; wildcards promise nothing about new formats."""
    accepted: set[str] = set()
    for item in (accept or "").split(","):
        media, *params = (part.strip() for part in item.split(";"))
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media and quality > 0:
            accepted.add(media.lower())
    return frozenset(accepted)


def negotiate(requested: str, accept: str | None, allowed: tuple[str, ...] | None = None) -> Negotiated:
    """`allowed` narrows what f:auto may pick (a dialect's configured formats); None allows every one."""
    if requested != "auto":
        return Negotiated(requested, varies=False)
    accepted = accepted_types(accept)
    for candidate in AUTO_ORDER:
        if candidate.media_type in accepted and (allowed is None or candidate.name in allowed):
            return Negotiated(candidate.name, varies=True)
    return Negotiated(LEGACY, varies=True)


def resolve(negotiated: str, has_alpha: bool) -> str:
    if negotiated == LEGACY:
        return FALLBACK["alpha" if has_alpha else "opaque"]
    return negotiated
