"""Pick the output format from `Accept` for f:auto; explicit formats never vary."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from imgedge.formats import AUTO_ORDER, FALLBACK

# Decided only after decoding: JPEG, or PNG when the image has alpha.
LEGACY = "legacy"


@dataclass(frozen=True, slots=True)
class Negotiated:
    format: str  # a format name from imgedge.formats, or LEGACY
    varies: bool  # the response depends on Accept, so it carries `Vary: Accept`


# The only types f:auto can pick; nothing else in an Accept header changes the answer.
NEGOTIABLE = tuple(f.media_type for f in AUTO_ORDER)
_QVALUE = re.compile(r"(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)")


def accepted_types(accept: str | None) -> frozenset[str]:
    """The negotiable media types the client lists explicitly with q > 0; wildcards promise nothing about
    new formats. Parsed on every request (a few `find`s over at most IMGEDGE_MAX_HEADER_BYTES): a cache
    keyed by the raw header would grow with every distinct header an attacker sends."""
    if not accept:
        return frozenset()
    lowered = accept.lower()
    return frozenset(media for media in NEGOTIABLE if _listed(lowered, media))


def _listed(accept: str, media: str) -> bool:
    start = accept.find(media)
    while start != -1:
        end = start + len(media)
        item_start = accept.rfind(",", 0, start) + 1
        item_end = accept.find(",", end)
        item = accept[item_start : item_end if item_end != -1 else len(accept)]
        name, _, params = item.partition(";")
        if name.strip() == media and _quality(params) > 0:
            return True
        if item_end == -1:
            return False
        start = accept.find(media, item_end)  # each item is looked at once, however it is spelled
    return False


def _quality(params: str) -> float:
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip() == "q":
            value = value.strip()
            return float(value) if _QVALUE.fullmatch(value) else 0.0
    return 1.0


@functools.lru_cache(maxsize=1 << len(NEGOTIABLE))
def _choose(accepted: frozenset[str]) -> Negotiated:
    for candidate in AUTO_ORDER:
        if candidate.media_type in accepted:
            return Negotiated(candidate.name, varies=True)
    return Negotiated(LEGACY, varies=True)


def negotiate(requested: str, accept: str | None) -> Negotiated:
    if requested != "auto":
        return Negotiated(requested, varies=False)
    return _choose(accepted_types(accept))


def resolve(negotiated: str, has_alpha: bool) -> str:
    if negotiated == LEGACY:
        return FALLBACK["alpha" if has_alpha else "opaque"]
    return negotiated
