"""Text fields, the moderation form of text, webhook URLs and query numbers."""

from __future__ import annotations

import pytest

from imgedge.generator.errors import ApiError
from imgedge.generator.security.query import int_param
from imgedge.generator.security.text import check_text, fold_pattern, moderation_form
from imgedge.generator.security.urls import webhook_url_problem


@pytest.mark.parametrize(
    ("text", "multiline", "ok"),
    [
        ("a red fox", False, True),
        ("two\nlines\tand a tab", True, True),
        ("two\nlines", False, False),
        ("bell\x07", True, False),
        ("nul\x00", True, False),
        ("c1\x85", True, False),
        ("lone \ud800", True, False),
        ("emoji 🍰 and zwj \u200d", False, True),
    ],
)
def test_text_is_unicode_scalar_values_without_controls(text: str, multiline: bool, ok: bool) -> None:
    if ok:
        assert check_text("prompt", text, max_chars=100, multiline=multiline) == text
    else:
        with pytest.raises(ApiError) as refused:
            check_text("prompt", text, max_chars=100, multiline=multiline)
        assert refused.value.status == 422 and "prompt" in refused.value.message


def test_text_is_bounded() -> None:
    with pytest.raises(ApiError, match="longer than 3"):
        check_text("prompt", "abcd", max_chars=3)


@pytest.mark.parametrize(
    "disguised",
    ["Forbidden", "FORBIDDEN", "for\u200bbidden", "for\u00adbidden", "f\u2060orbidden",
     "".join(chr(ord(c) + 0xFEE0) for c in "forbidden"), "for\ufeffbidden", "ﬁ"],
)  # fmt: skip
def test_moderation_sees_through_disguises(disguised: str) -> None:
    expected = "fi" if disguised == "ﬁ" else "forbidden"
    assert moderation_form(disguised) == expected


def test_patterns_fold_their_letters_and_keep_their_escapes() -> None:
    assert fold_pattern(r"STRAẞE\S+\d") == r"strasse\S+\d"
    assert fold_pattern("\uff22\uff21\uff24") == "bad"  # fullwidth BAD


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://hooks.example/cb?x=1", None),
        ("http://192.0.2.1:8080/", None),
        ("http://[2001:db8::1]/", None),
        ("http://[::1", "valid URL"),
        ("http://example.com:99999/", "valid URL"),
        ("https://u:p@example.com/", "user name"),
        ("https://u@example.com/", "user name"),
        ("https://example.com/#", "fragment"),
        ("https://example.com/#x", "fragment"),
        ("ftp://example.com/", "http(s)"),
        ("javascript:alert(1)", "http(s)"),
        ("https://exa mple.com/", "spaces"),
        ("https://example.com/\n", "control"),
        ("https://bücher.example/", "punycode"),
        ("https://-bad-.example/", "valid host"),
        ("https:///path", "valid host"),
        ("https://" + "a" * 3000, "longer"),
    ],
)
def test_webhook_urls(url: str, problem: str | None) -> None:
    found = webhook_url_problem(url)
    assert (found is None) if problem is None else (found is not None and problem in found)


@pytest.mark.parametrize("raw", ["²", "١٢", "+1", "-1", "1.0", "", " 1", "0", "101", "9" * 20])
def test_query_numbers_are_ascii_digits_in_range(raw: str) -> None:
    with pytest.raises(ApiError):
        int_param("limit", raw, default=12, low=1, high=100)
    assert int_param("limit", None, default=12, low=1, high=100) == 12
    assert int_param("limit", "100", default=12, low=1, high=100) == 100
