from __future__ import annotations

import pytest

from imgedge.env import ConfigError, env_bool, env_float, env_int, env_list


def test_defaults_when_unset_or_blank() -> None:
    assert env_int("X", 7, {}) == 7 and env_int("X", 7, {"X": "  "}) == 7
    assert env_float("X", 1.5, {}) == 1.5
    assert env_bool("X", True, {"X": ""}) is True
    assert env_list("X", ("a",), {}) == ("a",)


def test_values_are_parsed() -> None:
    assert env_int("X", 0, {"X": " 42 "}) == 42
    assert env_float("X", 0, {"X": "0.25"}) == 0.25
    assert env_bool("X", False, {"X": "Yes"}) is True and env_bool("X", True, {"X": "off"}) is False
    assert env_list("X", (), {"X": "a, b,,c "}) == ("a", "b", "c")
    assert env_list("X", ("default",), {"X": ""}) == ()  # set but empty means none, not the default


@pytest.mark.parametrize(
    ("reader", "raw"), [(env_int, "ten"), (env_int, "1.5"), (env_float, "fast"), (env_bool, "maybe")]
)
def test_malformed_values_name_the_variable(reader: object, raw: str) -> None:
    with pytest.raises(ConfigError, match="IMGEDGE_SOMETHING"):
        reader("IMGEDGE_SOMETHING", 0, {"IMGEDGE_SOMETHING": raw})  # type: ignore[operator]
