"""Signature verification, one verifier per credential scheme (the dialects say which scheme they use)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType

from imgedge.proxy.dialects.base import UNSIGNED, Credential
from imgedge.proxy.dialects.native import NATIVE
from imgedge.proxy.errors import Forbidden
from imgedge.url.signing import verify_message

Verifier = Callable[[Credential, Sequence[bytes]], bool]


def verify_native(credential: Credential, keys: Sequence[bytes]) -> bool:
    return verify_message(keys, credential.message, credential.signature)


VERIFIERS: Mapping[str, Verifier] = MappingProxyType({NATIVE: verify_native})


def verify_credential(credential: Credential, keys: Sequence[bytes], *, allow_unsigned: bool) -> None:
    if credential.scheme == UNSIGNED:
        if not allow_unsigned:
            raise Forbidden("unsigned URLs are not allowed here")
        return
    _verified(credential, tuple(keys))


@functools.lru_cache(maxsize=16384)
def _verified(credential: Credential, keys: tuple[bytes, ...]) -> bool:
    # Memoised because a hit pays for it on every request (an HMAC was a sixth of a hit's CPU). The cache
    # keeps only credentials that verified: a refusal raises, and lru_cache does not keep exceptions.
    if not VERIFIERS[credential.scheme](credential, keys):
        raise Forbidden("invalid signature")
    return True
