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


# The only types f:auto can pick, one bit each; nothing else in an Accept header changes the answer.
_BITS = tuple((f.media_type, 1 << i) for i, f in enumerate(AUTO_ORDER))
_QVALUE = re.compile(r"(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)")


def _choice(mask: int) -> Negotiated:
    for (_, bit), candidate in zip(_BITS, AUTO_ORDER, strict=True):
        if mask & bit:
            return Negotiated(candidate.name, varies=True)
    return Negotiated(LEGACY, varies=True)


# The answer for every set of accepted types: the only memo negotiation keeps, whatever headers arrive.
_CHOICES = tuple(_choice(mask) for mask in range(1 << len(_BITS)))


def accepted_mask(accept: str | None) -> int:
    """The negotiable types the client lists explicitly with q > 0, as bits; wildcards promise nothing about
    new formats. Parsed on every request — a few `find`s over at most IMGEDGE_MAX_HEADER_BYTES — because a
    memo keyed by the raw header would grow with every distinct header an attacker sends."""
    if not accept:
        return 0
    lowered = accept.lower()
    length = len(lowered)
    mask = 0
    for media, bit in _BITS:
        start = lowered.find(media)
        while start != -1:
            item_end = lowered.find(",", start)
            item_end = length if item_end == -1 else item_end
            name, _, params = lowered[lowered.rfind(",", 0, start) + 1 : item_end].partition(";")
            if name.strip() == media and (not params or _quality(params) > 0):
                mask |= bit
                break
            # Each item is looked at once, however it is spelled.
            start = lowered.find(media, item_end) if item_end < length else -1
    return mask


def _quality(params: str) -> float:
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip() == "q":
            value = value.strip()
            return float(value) if _QVALUE.fullmatch(value) else 0.0
    return 1.0


def negotiate(requested: str, accept: str | None, allowed: tuple[str, ...] | None = None) -> Negotiated:
    """`allowed` narrows what f:auto may pick (a dialect's configured formats); None allows every one."""
    if requested != "auto":
        return Negotiated(requested, varies=False)
    mask = accepted_mask(accept)
    if allowed is not None:
        mask &= _allowed_mask(allowed)
    return _CHOICES[mask]


@functools.lru_cache(maxsize=16)  # keyed by configured format lists, never by request data
def _allowed_mask(allowed: tuple[str, ...]) -> int:
    return sum(
        bit for (_, bit), candidate in zip(_BITS, AUTO_ORDER, strict=True) if candidate.name in allowed
    )


def resolve(negotiated: str, has_alpha: bool) -> str:
    if negotiated == LEGACY:
        return FALLBACK["alpha" if has_alpha else "opaque"]
    return negotiated
