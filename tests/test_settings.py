"""Every IMGEDGE_* name the code reads is declared once, and the README's tables are the declarations."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from imgedge import settings
from imgedge.env import ConfigError

ROOT = Path(__file__).resolve().parent.parent
NAME = re.compile(r"IMGEDGE_[A-Z0-9_]*[A-Z0-9]\b")


def names_in_code() -> dict[str, str]:
    found: dict[str, str] = {}
    for top in ("proxy", "cache", "generator", "imgedge"):
        for path in sorted((ROOT / top).rglob("*.py")):
            if top == "imgedge" and path.relative_to(ROOT / top).parts[0] in ("proxy", "cache", "generator"):
                continue
            for name in NAME.findall(path.read_text()):
                found.setdefault(name, str(path.relative_to(ROOT)))
    return found


def test_every_name_the_code_mentions_is_declared() -> None:
    undeclared = {name: where for name, where in names_in_code().items() if not settings.declared(name)}
    assert undeclared == {}


def test_readme_tables_are_generated_from_the_declarations() -> None:
    readme = (ROOT / "README.md").read_text()
    block = readme.split("<!-- settings:begin -->\n")[1].split("<!-- settings:end -->")[0]
    assert block == settings.markdown_tables(), (
        "run `imgedge settings --markdown` and paste it into README.md"
    )


def test_values_are_parsed_and_bad_ones_name_the_variable() -> None:
    from imgedge import common_settings as common
    from imgedge.cache import settings as cache

    assert common.PORT.read({"IMGEDGE_PORT": " 9000 "}) == 9000
    assert cache.MEMORY_BYTES.read({"IMGEDGE_CACHE_MEMORY_BYTES": "2MiB"}) == 2 << 20
    assert common.PORT.read({}) == 8080
    for bad in ("80.5", "٣", "0", "70000"):
        with pytest.raises(ConfigError, match="IMGEDGE_PORT"):
            common.PORT.read({"IMGEDGE_PORT": bad})


def test_an_old_name_is_read_after_the_new_one() -> None:
    from imgedge.proxy import settings as proxy

    assert proxy.TRANSFORM_QUEUE_SIZE.read({"IMGEDGE_QUEUE_SIZE": "7"}) == 7
    both = {"IMGEDGE_QUEUE_SIZE": "7", "IMGEDGE_TRANSFORM_QUEUE_SIZE": "9"}
    assert proxy.TRANSFORM_QUEUE_SIZE.read(both) == 9


def test_a_name_cannot_be_declared_twice() -> None:
    settings.all_settings()
    with pytest.raises(ValueError, match="declared twice"):
        settings.flag("common", "IMGEDGE_PORT", False, "again")
