"""Query parameters: numbers are ASCII digits (`str.isdigit` also accepts `²` and `١٢`, which `int` then
refuses or reads differently), within their range, else 422 naming the parameter."""

from __future__ import annotations

import re

from imgedge.generator.errors import ApiError

_DIGITS = re.compile(r"[0-9]{1,9}")


def int_param(name: str, raw: str | None, *, default: int, low: int, high: int) -> int:
    if raw is None:
        return default
    if not _DIGITS.fullmatch(raw) or not low <= int(raw) <= high:
        raise ApiError(422, f"{name} must be an integer between {low} and {high}")
    return int(raw)
