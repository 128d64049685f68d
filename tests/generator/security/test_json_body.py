"""The one strict JSON reader: what it refuses and why, without a server."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imgedge.generator.errors import ApiError
from imgedge.generator.security.json_body import MAX_DEPTH, check_content_type, nesting_depth, parse_json


@pytest.mark.parametrize(
    ("body", "depth"),
    [(b"{}", 1), (b'{"a": [[1]]}', 3), (b'{"a": "[[[[[["}', 1), (b'["\\"]]]", [1]]', 2), (b"1", 0)],
)
def test_depth_counts_brackets_outside_strings(body: bytes, depth: int) -> None:
    assert nesting_depth(body) == depth


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1), "nested"),
        (b'{"a": NaN}', "NaN"),
        (b'{"a": -Infinity}', "Infinity"),
        (b'{"a": 1e400}', "out of range"),
        (b'{"a": 1, "a": 2}', "twice"),
        (b'["\\udc00"]', "surrogate"),
        (b'{"\\ud800": 1}', "surrogate"),
        (b"\xff\xfe", "not valid JSON"),
        (b'{"a": ' + b"1" * 5000 + b"}", "not valid JSON"),
        (b"{'a': 1}", "not valid JSON"),
    ],
)
def test_refusals_are_400_saying_why(body: bytes, says: str) -> None:
    with pytest.raises(ApiError) as refused:
        parse_json(body)
    assert refused.value.status == 400 and says in refused.value.message


def test_ordinary_json_passes() -> None:
    assert parse_json(b'{"prompt": "caf\\u00e9 \xf0\x9f\x8d\xb0", "n": [1, 2.5, -3e2, true, null]}') == {
        "prompt": "café 🍰", "n": [1, 2.5, -300.0, True, None]
    }  # fmt: skip
    assert parse_json(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH) is not None


@pytest.mark.parametrize(
    ("content_type", "has_body", "accepted"),
    [
        ("application/json", True, True),
        ("Application/JSON; charset=utf-8", True, True),
        (None, False, True),
        (None, True, False),
        ("text/plain", False, False),
        ("application/x-www-form-urlencoded", True, False),
        ("application/jsonx", True, False),
    ],
)
def test_only_json_is_taken(content_type: str | None, has_body: bool, accepted: bool) -> None:
    if accepted:
        check_content_type(content_type, has_body=has_body)
    else:
        with pytest.raises(ApiError) as refused:
            check_content_type(content_type, has_body=has_body)
        assert refused.value.status == 415


@given(st.binary(max_size=200))
def test_any_bytes_give_a_value_or_a_400(body: bytes) -> None:
    try:
        parse_json(body)
    except ApiError as refused:
        assert refused.status == 400
