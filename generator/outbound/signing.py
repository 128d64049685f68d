"""Webhook signatures by the Standard Webhooks convention, so receivers can verify with existing libraries.

A delivery carries `webhook-id` (the same on every retry: receivers deduplicate by it), `webhook-timestamp`
(Unix seconds of this attempt) and `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`,
keyed with the bytes of the `whsec_…` secret. Standard library only.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Mapping

SECRET_PREFIX = "whsec_"
ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
TOLERANCE_S = 300


def new_webhook_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signing_key(secret: str) -> bytes:
    """The HMAC key a `whsec_` secret stands for; ValueError for anything else."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError(
            "must be whsec_ followed by base64 (Standard Webhooks), e.g. from `imgedge settings`"
        )
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error:
        raise ValueError("is not valid base64 after whsec_") from None
    if not 24 <= len(key) <= 64:
        raise ValueError(f"must hold 24 to 64 bytes, got {len(key)}")
    return key


def signature(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def signed_headers(key: bytes, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        ID_HEADER: message_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(key, message_id, timestamp, body),
    }


def verify(secret: str, headers: Mapping[str, str], body: bytes, *, now: float) -> bool:
    """What a receiver does (for those without a Standard Webhooks library): any `v1,` signature in the
    space-separated list matches, and the timestamp is within five minutes."""
    try:
        message_id, timestamp = headers[ID_HEADER], int(headers[TIMESTAMP_HEADER])
        key = signing_key(secret)
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > TOLERANCE_S:
        return False
    expected = signature(key, message_id, timestamp, body)
    offered = headers.get(SIGNATURE_HEADER, "").split()
    return any(hmac.compare_digest(expected, candidate) for candidate in offered)
