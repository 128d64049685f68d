"""URL dialects: native parsing into one ParsedRequest, and the prefix router other dialects plug into."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest

from imgedge.proxy.config import ProxyConfig
from imgedge.proxy.dialects import DIALECTS, UNSIGNED, DialectRouter, ParsedRequest, build_dialects
from imgedge.proxy.dialects.base import Credential
from imgedge.proxy.dialects.native import NATIVE, NativeDialect
from imgedge.proxy.errors import Forbidden
from imgedge.proxy.sources import SourceRef
from imgedge.url.build import build_path
from imgedge.url.errors import UrlError
from imgedge.url.signing import signed_message

KEY = b"k"
CONFIG = ProxyConfig(data_dir=Path("unused"), keys=(KEY,), presets={"thumb": "w:64/h:64/fit:cover"})


def test_native_url_gives_spec_source_and_the_signed_canonical_form() -> None:
    path = build_path("cat", key=KEY, width=400, height=300, fit="cover")
    signature = path.split("/")[1]
    parsed = NativeDialect(CONFIG).parse(f"/{signature}/h:300/rt:fill/w:400/cat.webp", "")
    assert parsed.spec.canonical() == "w:400/h:300/fit:cover/f:webp"
    assert parsed.source == SourceRef.asset("cat")
    assert parsed.credential == Credential(
        NATIVE, signature, signed_message("w:400/h:300/fit:cover/f:webp", "cat")
    )


@pytest.mark.parametrize("marker", ["_", "unsafe"])
def test_unsigned_markers_give_an_unsigned_credential(marker: str) -> None:
    parsed = NativeDialect(CONFIG).parse(f"/{marker}/pr:thumb/cat", "")
    assert parsed.credential.scheme == UNSIGNED
    assert (parsed.spec.width, parsed.spec.height, parsed.spec.fit) == (64, 64, "cover")


@pytest.mark.parametrize(
    "signature",
    ["A" * 42, "A" * 44, "A" * 42 + "B", "A" * 42 + "=", "+" * 43, "A" * 15_000, "%41" * 43, "Ä" * 43],
)
def test_a_signature_of_the_wrong_shape_is_refused_before_the_options_are_read(signature: str) -> None:
    # w:abc would be a 400 if the options were parsed first.
    with pytest.raises(Forbidden, match="invalid signature"):
        NativeDialect(CONFIG).parse(f"/{signature}/w:abc/cat", "")


def test_native_parse_keeps_nothing() -> None:
    dialect = NativeDialect(CONFIG)
    assert dialect.parse("/_/w:10/cat", "") == dialect.parse("/_/w:10/cat", "a=1")
    assert dialect.parse("/_/w:10/cat", "") is not dialect.parse("/_/w:10/cat", "")
    for _ in range(2):
        with pytest.raises(UrlError):
            dialect.parse("/_/w:abc/cat", "")


@dataclass
class EchoDialect:
    """A stand-in for a later dialect: records what the router hands it."""

    prefix: ClassVar[str] = "/echo"
    seen: list[tuple[str, str]]

    def parse(self, path: str, query: str) -> ParsedRequest:
        self.seen.append((path, query))
        return NativeDialect(CONFIG).parse("/_/w:1/echo", "")


def test_router_gives_a_prefix_its_paths_whole_segments_only() -> None:
    echo = EchoDialect([])
    router = DialectRouter([NativeDialect(CONFIG), echo])
    router.parse("/echo/a/b", "url=x")
    router.parse("/echo", "")
    assert echo.seen == [("/a/b", "url=x"), ("", "")]
    assert router.parse("/_/w:5/echoes", "").source == SourceRef.asset("echoes")
    assert router.parse("/echoes" + "A" * 37 + "/w:5/cat", "").credential.scheme == NATIVE  # not /echo's
    assert len(echo.seen) == 2


def test_router_needs_exactly_one_dialect_for_the_unprefixed_paths() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        DialectRouter([EchoDialect([])])
    with pytest.raises(ValueError, match="exactly one"):
        DialectRouter([NativeDialect(CONFIG), NativeDialect(CONFIG)])


def test_every_table_row_builds_and_prefixes_are_unique() -> None:
    dialects = [make(CONFIG) for make in DIALECTS.values()]
    prefixes = [d.prefix for d in dialects]
    assert len(set(prefixes)) == len(prefixes) and prefixes.count("") == 1
    assert all(p == "" or (p.startswith("/") and not p.endswith("/")) for p in prefixes)
    assert build_dialects(CONFIG).parse("/_/w:7/cat", "").spec.width == 7
