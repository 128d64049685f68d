"""HMAC-SHA256 over the canonical path, URL-safe base64 without padding; several keys verify, the first signs.

Anyone can sign in any language: base64url_nopad(HMAC-SHA256(key, "/" + canonical options + "/" + asset id)).
Exactly one spelling verifies: the signature is compared as that encoded text, so padding, the standard
alphabet or trailing bits that decode to the same bytes are all refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Sequence

SIGNATURE_LENGTH = 43  # unpadded base64 of 32 bytes
# The last character carries 4 bits of the digest and 2 zero bits, so only 16 of the 64 letters can end one.
_SHAPE = re.compile(r"[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]")


def well_formed_signature(signature: str) -> bool:
    """Could this be a signature at all? Checked before anything else is done with a URL."""
    return _SHAPE.fullmatch(signature) is not None


def signed_message(canonical_options: str, asset_id: str) -> bytes:
    return (f"/{canonical_options}/{asset_id}" if canonical_options else f"/{asset_id}").encode()


def signature_for(key: bytes, message: bytes) -> str:
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def sign(keys: Sequence[bytes], canonical_options: str, asset_id: str) -> str:
    return signature_for(keys[0], signed_message(canonical_options, asset_id))


def verify(keys: Sequence[bytes], canonical_options: str, asset_id: str, signature: str) -> bool:
    return verify_message(keys, signed_message(canonical_options, asset_id), signature)


def verify_message(keys: Sequence[bytes], message: bytes, signature: str) -> bool:
    """`verify` for a message already built with `signed_message` (the proxy keeps it with the parsed URL)."""
    if not keys or not well_formed_signature(signature):
        return False
    given = signature.encode("ascii")
    # Every key is tried, so the time taken does not tell which one matched.
    matches = [hmac.compare_digest(signature_for(key, message).encode("ascii"), given) for key in keys]
    return any(matches)


def _raw(path: str | bytes) -> bytes:
    return path if isinstance(path, bytes) else path.encode("utf-8")


def thumbor_signature(key: bytes, path: str | bytes) -> str:
    """thumbor's: urlsafe base64 (with padding) of HMAC-SHA1(SECURITY_KEY, the path after `/{hash}/`)."""
    digest = hmac.new(key, _raw(path), hashlib.sha1).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")


def imgproxy_signature(key: bytes, salt: bytes, path: str | bytes, size: int = 32) -> str:
    """imgproxy's: unpadded base64url of HMAC-SHA256(key, salt + path), the digest cut to `size` bytes;
    `path` starts with the `/` after the signature."""
    digest = hmac.new(key, salt + _raw(path), hashlib.sha256).digest()[:size]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def same_text(expected: str, given: str) -> bool:
    """Constant-time comparison of two signatures as text (the one spelling that verifies)."""
    return given.isascii() and hmac.compare_digest(expected.encode("ascii"), given.encode("ascii"))
