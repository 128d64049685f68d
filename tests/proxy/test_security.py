"""Each check a request passes before the proxy works for it."""

from __future__ import annotations

from pathlib import Path

import pytest

from imgedge.errors import PublicError
from imgedge.proxy.config import ProxyConfig
from imgedge.proxy.dialects.base import Credential, ParsedRequest
from imgedge.proxy.dialects.native import NATIVE, NativeDialect
from imgedge.proxy.security import (
    Keyring,
    SecurityPolicy,
    check_expiry,
    check_moderation,
    check_output_limits,
    require_admin_token,
    verify_credential,
)
from imgedge.url import ParseSettings, parse_options
from imgedge.url.build import build_path
from imgedge.url.signing import sign, signed_message

KEY, OLD_KEY = b"current", b"previous"
NOW = 1_700_000_000.0


def native(signature: str, canonical: str = "w:10", asset_id: str = "cat") -> Credential:
    return Credential(NATIVE, signature, signed_message(canonical, asset_id))


def status_of(check: object, *args: object, **kwargs: object) -> int:
    try:
        check(*args, **kwargs)  # type: ignore[operator]
    except PublicError as exc:
        return exc.status
    return 200


def test_native_signatures_verify_with_every_configured_key() -> None:
    for key in (KEY, OLD_KEY):
        verify_credential(native(sign([key], "w:10", "cat")), Keyring((KEY, OLD_KEY)), allow_unsigned=False)


@pytest.mark.parametrize(
    "credential",
    [
        native(sign([b"other"], "w:10", "cat")),
        native(sign([KEY], "w:10", "cat"), canonical="w:11"),
        native(sign([KEY], "w:10", "cat"), asset_id="dog"),
        native(sign([KEY], "w:10", "cat") + "="),
        native(""),
    ],
)
def test_wrong_or_misspelt_signatures_are_403(credential: Credential) -> None:
    with pytest.raises(PublicError, match="invalid signature") as raised:
        verify_credential(credential, Keyring((KEY, OLD_KEY)), allow_unsigned=True)
    assert raised.value.status == 403


def test_unsigned_urls_pass_only_when_allowed() -> None:
    verify_credential(Credential.unsigned(), Keyring((KEY,)), allow_unsigned=True)
    assert status_of(verify_credential, Credential.unsigned(), Keyring((KEY,)), allow_unsigned=False) == 403


def test_expiry() -> None:
    check_expiry(0, NOW)  # no exp: never expires
    check_expiry(int(NOW) + 1, NOW)
    assert status_of(check_expiry, int(NOW) - 1, NOW) == 403


def test_output_limits_name_the_side() -> None:
    spec = parse_options(["w:800", "h:600"], ParseSettings())
    check_output_limits(spec, max_width=800, max_height=600)
    with pytest.raises(PublicError, match="width: 800 exceeds the maximum of 799"):
        check_output_limits(spec, max_width=799, max_height=600)
    with pytest.raises(PublicError, match="height: 600 exceeds the maximum of 599"):
        check_output_limits(spec, max_width=800, max_height=599)


@pytest.mark.parametrize(
    ("moderation", "options", "status"),
    [
        ("approved", [], 200),
        ("pending", [], 403),
        ("pending", ["exp:99999999999"], 200),  # the creator's expiring preview
        ("rejected", ["exp:99999999999"], 451),
    ],
)
def test_moderation(moderation: str, options: list[str], status: int) -> None:
    spec = parse_options(["w:10", *options], ParseSettings())
    assert status_of(check_moderation, moderation, spec) == status


@pytest.mark.parametrize(
    ("header", "configured", "status"),
    [("Bearer s3cret", "s3cret", 200), ("", "s3cret", 401), ("Basic s3cret", "s3cret", 401),
     ("Bearer wrong", "s3cret", 403), ("Bearer ", "", 403)],
)  # fmt: skip
def test_admin_token(header: str, configured: str, status: int) -> None:
    assert status_of(require_admin_token, header, configured) == status


def test_policy_checks_the_signature_before_expiry_and_limits() -> None:
    config = ProxyConfig(data_dir=Path("unused"), keys=(KEY,), max_width=100)
    policy = SecurityPolicy.from_config(config)
    dialect = NativeDialect(config)

    def parsed(key: bytes, **opts: object) -> ParsedRequest:
        return dialect.parse(build_path("cat", key=key, **opts), "")  # type: ignore[arg-type]

    policy.check_request(parsed(KEY, width=100, expires_in=60))
    with pytest.raises(PublicError, match="invalid signature"):
        policy.check_request(parsed(b"forged", width=101, expires_in=-60))
    with pytest.raises(PublicError, match="expired"):
        policy.check_request(parsed(KEY, width=101, expires_in=-60))
    with pytest.raises(PublicError, match="width"):
        policy.check_request(parsed(KEY, width=101))
