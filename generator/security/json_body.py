"""One strict JSON reader for every JSON endpoint: `Content-Type: application/json` (415 otherwise), at most
IMGEDGE_MAX_JSON_BYTES (413, refused on the declared length before reading), UTF-8, nesting at most
MAX_DEPTH deep (Python's parser would recurse until it fails), finite numbers (no NaN, Infinity or 1e999),
no duplicate keys (which one wins differs between parsers), no lone surrogates in any string (400)."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from imgedge.generator.errors import ApiError

MAX_DEPTH = 32
JSON_MEDIA_TYPE = "application/json"
_OPENERS, _CLOSERS = b"[{", b"]}"
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)


def check_content_type(content_type: str | None, *, has_body: bool) -> None:
    """A declared type must be JSON; with no declared type, only an empty body is accepted."""
    if content_type is None and not has_body:
        return
    if (content_type or "").split(";", 1)[0].strip().lower() != JSON_MEDIA_TYPE:
        raise ApiError(415, f"send the request body as {JSON_MEDIA_TYPE}")


def parse_json(body: bytes) -> object:
    if nesting_depth(body) > MAX_DEPTH:
        raise ApiError(400, f"request body is nested more than {MAX_DEPTH} levels deep")
    try:
        value = json.loads(
            body.decode("utf-8"), parse_constant=_no_constants, parse_float=_finite, object_pairs_hook=_unique
        )
    except (ValueError, RecursionError) as exc:
        reason = str(exc) if isinstance(exc, _Refused) else "request body is not valid JSON"
        raise ApiError(400, reason) from None
    _check_strings(value)
    return value


def nesting_depth(body: bytes) -> int:
    """The deepest bracket nesting outside strings; counting stops past MAX_DEPTH."""
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    depth = deepest = 0
    for byte in brackets:
        if byte in _OPENERS:
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_DEPTH:
                break
        else:
            depth -= 1
    return deepest


class _Refused(ValueError):
    pass


def _no_constants(name: str) -> Any:
    raise _Refused(f"request body holds {name}, which is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"request body holds a number out of range ({text[:20]})")
    return value


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _Refused(f"request body names {key[:40]!r} twice")
        result[key] = value
    return result


def _check_strings(value: object) -> None:
    if isinstance(value, str):
        _scalar_values(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            _scalar_values(key)
            _check_strings(item)
    elif isinstance(value, list):
        for item in value:
            _check_strings(item)


def _scalar_values(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ApiError(
            400, "request body holds a string that is not valid Unicode (a lone surrogate)"
        ) from None
