from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imgedge.secrets import load_signing_keys
from imgedge.url.build import build_path, srcset
from imgedge.url.signing import sign, verify, well_formed_signature


def test_signature_is_plain_hmac_sha256_of_the_canonical_path() -> None:
    expected = hmac.new(b"k", b"/w:400/h:300/fit:cover/abc", hashlib.sha256).digest()
    assert sign([b"k"], "w:400/h:300/fit:cover", "abc") == base64.urlsafe_b64encode(expected).decode().rstrip(
        "="
    )
    assert sign([b"k"], "", "abc") == base64.urlsafe_b64encode(
        hmac.new(b"k", b"/abc", hashlib.sha256).digest()
    ).decode().rstrip("=")


def test_first_key_signs_and_every_key_verifies() -> None:
    new, old = b"new", b"old"
    signature = sign([new, old], "w:1", "a")
    assert signature == sign([new], "w:1", "a")
    assert verify([new, old], "w:1", "a", signature)
    assert verify([b"newer", new], "w:1", "a", signature)  # rotated once more: still verifies
    assert verify([old, new], "w:1", "a", sign([old], "w:1", "a"))
    assert not verify([b"other"], "w:1", "a", signature)
    assert not verify([], "w:1", "a", signature)


@given(st.text(max_size=60))
def test_garbage_signatures_never_verify_and_never_raise(signature: str) -> None:
    assert not verify([b"k"], "w:1", "a", signature)


def test_tampering_any_part_breaks_the_signature() -> None:
    signature = sign([b"k"], "w:400", "asset")
    assert not verify([b"k"], "w:401", "asset", signature)
    assert not verify([b"k"], "w:400", "asset2", signature)
    assert not verify([b"k"], "w:400", "asset", signature[:-1] + ("A" if signature[-1] != "A" else "B"))


def test_keys_come_from_the_environment_or_one_generated_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("IMGEDGE_KEYS", raising=False)
    generated = load_signing_keys(tmp_path)
    assert len(generated) == 1 and len(generated[0]) >= 32
    assert load_signing_keys(tmp_path) == generated  # stable across processes and restarts
    monkeypatch.setenv("IMGEDGE_KEYS", "new-key, old-key")
    assert load_signing_keys(tmp_path) == (b"new-key", b"old-key")


def test_build_path_is_canonical_and_verifiable() -> None:
    path = build_path("abc", key=b"k", height=300, width=400, fit="fill", gravity="smart", fmt="auto")
    signature, *options, asset = path.strip("/").split("/")
    assert options == ["w:400", "h:300", "fit:cover", "g:sm"] and asset == "abc"
    assert verify([b"k"], "/".join(options), asset, signature)
    assert build_path("abc", key=None, width=10) == "/_/w:10/abc"
    expiring = build_path("abc", key=b"k", width=10, expires_in=60, now=1_000_000)
    assert expiring.split("/")[3] == "exp:1000060"


def test_srcset_signs_each_candidate() -> None:
    value = srcset("abc", [640, 320, 320], key=b"k", base_url="http://img", fmt="auto")
    candidates = [c.strip() for c in value.split(",")]
    assert [c.split(" ")[1] for c in candidates] == ["320w", "640w"]
    for candidate in candidates:
        url, _ = candidate.split(" ")
        signature, *options, asset = url.removeprefix("http://img/").split("/")
        assert verify([b"k"], "/".join(options), asset, signature)


@given(st.binary(min_size=1, max_size=64), st.text(max_size=40))
def test_every_real_signature_has_the_one_accepted_shape(key: bytes, options: str) -> None:
    assert well_formed_signature(sign([key], options, "asset"))


@pytest.mark.parametrize(
    "signature",
    ["", "A" * 42, "A" * 44, "A" * 42 + "B", "A" * 43 + "=", "+" + "A" * 42, "/" + "A" * 42, "Ä" + "A" * 42],
)
def test_other_shapes_are_refused_before_any_hmac(signature: str) -> None:
    assert not well_formed_signature(signature)
    assert not verify([b"k"], "w:1", "a", signature)
