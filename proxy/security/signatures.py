"""Signature verification, one verifier per credential scheme (the dialects say which scheme they use).

Each verifier compares the signature as the URL spells it with the one expected, as text and in constant
time: one spelling verifies (no other padding, alphabet or trailing bits). Every configured key is tried,
so the time taken does not tell which one matched.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

from imgedge.proxy.dialects.base import BOUNDED, UNSIGNED, Credential
from imgedge.proxy.dialects.imgproxy import IMGPROXY
from imgedge.proxy.dialects.native import NATIVE
from imgedge.proxy.dialects.thumbor import THUMBOR
from imgedge.proxy.errors import Forbidden
from imgedge.url.signing import imgproxy_signature, same_text, thumbor_signature, verify_message

if TYPE_CHECKING:
    from imgedge.proxy.config import ProxyConfig


@dataclass(frozen=True, slots=True)
class Keyring:
    """Every secret a URL may be signed with, by scheme."""

    native: tuple[bytes, ...] = ()
    thumbor: bytes = b""
    imgproxy: tuple[tuple[bytes, bytes], ...] = ()  # (key, salt) pairs
    imgproxy_size: int = 32

    @classmethod
    def from_config(cls, config: ProxyConfig) -> Keyring:
        return cls(config.keys, config.thumbor_key, config.imgproxy_keys, config.imgproxy_signature_size)


Verifier = Callable[[Credential, Keyring], bool]


def verify_native(credential: Credential, keys: Keyring) -> bool:
    return verify_message(keys.native, credential.message, credential.signature)


def verify_thumbor(credential: Credential, keys: Keyring) -> bool:
    if not keys.thumbor:
        return False
    return same_text(thumbor_signature(keys.thumbor, credential.message), credential.signature)


def verify_imgproxy(credential: Credential, keys: Keyring) -> bool:
    matches = [
        same_text(imgproxy_signature(key, salt, credential.message, keys.imgproxy_size), credential.signature)
        for key, salt in keys.imgproxy
    ]
    return any(matches)


def verify_bounded(credential: Credential, keys: Keyring) -> bool:
    # Nothing to verify: the dialect admitted only allow-listed variants. Unlike UNSIGNED, this does not
    # depend on IMGEDGE_ALLOW_UNSIGNED, which opens the whole native grammar.
    return True


VERIFIERS: Mapping[str, Verifier] = MappingProxyType(
    {NATIVE: verify_native, THUMBOR: verify_thumbor, IMGPROXY: verify_imgproxy, BOUNDED: verify_bounded}
)


def verify_credential(credential: Credential, keys: Keyring, *, allow_unsigned: bool) -> None:
    if credential.scheme == UNSIGNED:
        if not allow_unsigned:
            raise Forbidden("unsigned URLs are not allowed here")
        return
    if not VERIFIERS[credential.scheme](credential, keys):
        raise Forbidden("invalid signature")
