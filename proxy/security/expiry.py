"""Expiring URLs: `exp:{unix time}` is signed with the rest, so only its time needs checking here."""

from __future__ import annotations

from imgedge.proxy.errors import Forbidden


def check_expiry(expires: int, now: float) -> None:
    if expires and expires < now:
        raise Forbidden("URL has expired")
