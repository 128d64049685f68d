"""HMAC-SHA256 over the canonical path, URL-safe base64 without padding; several keys verify, the first signs.

Anyone can sign in any language: base64url(HMAC-SHA256(key, "/" + canonical options + "/" + asset id)).
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

from itsdangerous import Signer

from imgedge.secrets import load_or_create

KEYS_ENV = "IMGEDGE_KEYS"


def load_signing_keys(data_dir: Path) -> tuple[bytes, ...]:
    """`IMGEDGE_KEYS` (comma-separated, first signs) or a key generated once in the data directory."""
    raw = os.environ.get(KEYS_ENV, "")
    keys = tuple(k.strip().encode() for k in raw.split(",") if k.strip())
    return keys or (load_or_create(data_dir, "signing.key").encode(),)


def _signer(keys: Sequence[bytes]) -> Signer:
    # key_derivation="none": the HMAC key is the configured key itself, so other languages can sign too.
    # itsdangerous signs with the *last* key, so the list is reversed.
    return Signer(list(reversed(keys)), key_derivation="none", digest_method=hashlib.sha256, sep="~")


def signed_message(canonical_options: str, asset_id: str) -> bytes:
    return (f"/{canonical_options}/{asset_id}" if canonical_options else f"/{asset_id}").encode()


def sign(keys: Sequence[bytes], canonical_options: str, asset_id: str) -> str:
    return _signer(keys).get_signature(signed_message(canonical_options, asset_id)).decode()


def verify(keys: Sequence[bytes], canonical_options: str, asset_id: str, signature: str) -> bool:
    if not keys or not signature:
        return False
    return _verify_cached(tuple(keys), signed_message(canonical_options, asset_id), signature)


@functools.lru_cache(maxsize=65536)
def _verify_cached(keys: tuple[bytes, ...], message: bytes, signature: str) -> bool:
    # Hot URLs are verified once per process; the cache key includes the keys, so rotation still applies.
    try:
        sig = signature.encode("ascii")
    except UnicodeEncodeError:
        return False
    return _signer(keys).verify_signature(message, sig)
