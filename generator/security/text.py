"""Text a client sends: valid Unicode scalar values (no lone surrogates, which could be stored but never
written out again), no control characters (multi-line fields keep their newlines and tabs), bounded length.
And the one normal form moderation compares: NFKC, case-folded, with format and zero-width characters gone,
so `for\u200bbidden` and the same word in fullwidth letters read as what they say."""

from __future__ import annotations

import unicodedata

from imgedge.generator.errors import ApiError

_MULTILINE_ALLOWED = frozenset("\n\t")
# Not all of these are category Cf, but every one renders as nothing between letters.
_INVISIBLE = frozenset("\u00ad\u034f\u115f\u1160\u17b4\u17b5\u180e\u3164\uffa0")


def check_text(name: str, value: str, *, max_chars: int, multiline: bool = False) -> str:
    if len(value) > max_chars:
        raise ApiError(422, f"{name} is longer than {max_chars} characters")
    allowed = _MULTILINE_ALLOWED if multiline else frozenset()
    for char in value:
        category = unicodedata.category(char)
        if category == "Cs":
            raise ApiError(422, f"{name} is not valid Unicode (it holds a lone surrogate)")
        if category == "Cc" and char not in allowed:
            raise ApiError(422, f"{name} must not contain control characters (U+{ord(char):04X})")
    return value


def moderation_form(text: str) -> str:
    """NFKC, case-folded, without format (Cf) or other invisible characters; NFKC again after folding, since
    folding can produce sequences that compose."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    visible = "".join(c for c in folded if unicodedata.category(c) != "Cf" and c not in _INVISIBLE)
    return unicodedata.normalize("NFKC", visible)


def fold_pattern(pattern: str) -> str:
    """A block-list or review pattern in the same form as the text it is matched against: literal characters
    normalised and case-folded, escapes (`\\S`, `\\d`, …) left as written."""
    out: list[str] = []
    escaped = False
    for char in unicodedata.normalize("NFKC", pattern):
        if escaped:
            out.append(char)
            escaped = False
        elif char == "\\":
            out.append(char)
            escaped = True
        else:
            out.append(char.casefold())
    return "".join(out)
