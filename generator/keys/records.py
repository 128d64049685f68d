"""An API key as stored (never the key itself), and the caller a request turns out to be."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

KEY_PREFIX = "ie_"
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# 32 random bytes in URL-safe base64 are 43 characters; anything much longer is not one of ours.
MAX_KEY_CHARS = 128
_RATE_RE = re.compile(r"^([0-9]+)/(s|sec|min|m)$")


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    name: str
    # None: the service's default per-client rate (IMGEDGE_RATE_PER_MINUTE) applies.
    rate_per_minute: int | None
    # None: no daily quota.
    daily_quota: int | None
    created_at: float
    revoked_at: float | None = None
    # Caps on what one request with this key may ask for; None: the service's maxima (IMGEDGE_MAX_SIDE²,
    # IMGEDGE_MAX_STEPS). generator/security/clients.py turns them into the caller's Caps.
    max_pixels: int | None = None
    max_steps: int | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is asking: the key they showed, the administrator (IMGEDGE_ADMIN_TOKEN), or nobody (anonymous,
    known by its address: the socket peer, or what a trusted proxy names)."""

    key: ApiKey | None
    address: str
    # Anonymous because the service listens on loopback and no key exists: the operator's own machine.
    local: bool = False
    admin: bool = False
    # The proxy resolving prompt URLs (its origin token): each was signed by a holder of its signing keys.
    proxy: bool = False

    @property
    def anonymous(self) -> bool:
        return self.key is None and not self.admin and not self.proxy

    @property
    def owner(self) -> str:
        """What this caller's jobs are counted under, across processes (the job_owners table)."""
        if self.key is not None:
            return f"key:{self.key.id}"
        if self.proxy:
            return "proxy"
        return "admin" if self.admin else f"anon:{self.address}"


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_hash(key: str) -> str:
    # Keys carry 256 random bits: no dictionary to defend against, so a fast hash is enough.
    return hashlib.sha256(key.encode()).hexdigest()


def check_name(name: str) -> str:
    if not NAME_RE.fullmatch(name):
        raise ValueError(
            "a key name is 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return name


def parse_rate(raw: str) -> int:
    """`R/min` (or `R/s`) as requests per minute."""
    match = _RATE_RE.fullmatch(raw.strip().lower())
    if match is None or int(match.group(1)) < 1:
        raise ValueError(f"rate must look like 60/min (at least 1), got {raw!r}")
    per = int(match.group(1))
    return per * 60 if match.group(2) in ("s", "sec") else per
