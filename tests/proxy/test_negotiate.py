from __future__ import annotations

import pytest

from imgedge.proxy.negotiate import LEGACY, negotiate, resolve

CHROMIUM = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"
FIREFOX = "image/avif,image/webp,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5"
SAFARI = (
    "image/webp,image/avif,image/jxl,image/heic,image/heic-sequence,video/*;q=0.8,image/png,"
    "image/svg+xml,image/*;q=0.8,*/*;q=0.5"
)
SAFARI_15 = "image/webp,image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5"
CURL = "*/*"


@pytest.mark.parametrize(
    ("accept", "has_alpha", "expected"),
    [
        (CHROMIUM, False, "avif"),
        (CHROMIUM, True, "avif"),
        (FIREFOX, False, "avif"),
        (SAFARI, False, "avif"),
        (SAFARI_15, False, "webp"),
        (SAFARI_15, True, "webp"),
        (CURL, False, "jpeg"),
        (CURL, True, "png"),
        (None, False, "jpeg"),
        ("image/*", True, "png"),
        ("image/avif;q=0,image/webp", False, "webp"),
        ("IMAGE/AVIF", False, "avif"),
        ("image/avif;q=bogus, image/webp;q=0.5", False, "webp"),
    ],
)
def test_auto_matrix(accept: str | None, has_alpha: bool, expected: str) -> None:
    negotiated = negotiate("auto", accept)
    assert negotiated.varies
    assert resolve(negotiated.format, has_alpha) == expected


@pytest.mark.parametrize("fmt", ["avif", "webp", "jpeg", "png", "gif"])
@pytest.mark.parametrize("accept", [CHROMIUM, CURL, None])
def test_explicit_format_never_varies(fmt: str, accept: str | None) -> None:
    negotiated = negotiate(fmt, accept)
    assert negotiated.format == fmt and not negotiated.varies


def test_legacy_browsers_share_one_negotiated_value() -> None:
    assert negotiate("auto", CURL).format == negotiate("auto", "image/png,image/*").format == LEGACY


@pytest.mark.parametrize(
    ("allowed", "accept", "expected"),
    [
        (("webp",), CHROMIUM, "webp"),
        (("avif", "webp"), CHROMIUM, "avif"),
        (("webp", "avif"), SAFARI_15, "webp"),
        (("avif",), SAFARI_15, LEGACY),
        ((), CHROMIUM, LEGACY),
    ],
)
def test_a_dialect_may_narrow_what_auto_picks(allowed: tuple[str, ...], accept: str, expected: str) -> None:
    negotiated = negotiate("auto", accept, allowed)
    assert (negotiated.format, negotiated.varies) == (expected, True)
    assert negotiate("png", accept, allowed).format == "png"
