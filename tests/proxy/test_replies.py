"""Response headers for variants and errors (the HTTP conventions in docs/architecture.md)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from imgedge.cache.entry import Entry
from imgedge.errors import PublicError
from imgedge.origin_protocol import IMMUTABLE, MODERATION_HEADER
from imgedge.proxy.errors import Overloaded
from imgedge.proxy.replies import Reply, error_reply, starlette_response, variant_reply
from imgedge.url import ParseSettings, parse_options
from imgedge.url.errors import UrlError

ENTRY = Entry(body=b"webp bytes", media_type="image/webp", etag='"abc"', tags=("asset:cat",), created_at=0.0)
SPEC = parse_options(["w:10"], ParseSettings())


def reply(
    method: str = "GET", if_none_match: str | None = None, varies: bool = True, entry: Entry = ENTRY
) -> Reply:
    return variant_reply(
        method=method, if_none_match=if_none_match, entry=entry, spec=SPEC, surrogate_key="cat",
        varies=varies, cache_status="imgedge; hit; detail=memory", timings={"cache": 0.25, "total": 0.5},
    )  # fmt: skip


def headers(r: Reply) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in r.headers}


def test_a_variant_names_its_asset_type_and_timings() -> None:
    got = headers(reply())
    assert got["cache-control"] == IMMUTABLE and got["etag"] == '"abc"'
    assert got["surrogate-key"] == got["cache-tag"] == "cat"
    assert got["server-timing"] == 'cache;dur=0.2, total;dur=0.5, type;desc="image/webp"'
    assert got["x-content-type-options"] == "nosniff" and got["vary"] == "Accept"
    assert got["content-type"] == "image/webp" and got["content-length"] == "10"
    assert "vary" not in headers(reply(varies=False))


def test_pending_variants_are_private_and_short_lived() -> None:
    pending = replace(ENTRY, headers=((MODERATION_HEADER, "pending"),))
    assert headers(reply(entry=pending))["cache-control"].startswith("private, max-age=60")


def test_304_and_head() -> None:
    not_modified = reply(if_none_match='W/"abc"')
    assert not_modified.status == 304 and not_modified.body == b""
    assert "content-length" not in headers(not_modified) and "content-type" not in headers(not_modified)
    head = reply(method="HEAD")
    assert head.status == 200 and head.body == b"" and headers(head)["content-length"] == "10"


@pytest.mark.parametrize(
    ("error", "cache_control"),
    [
        (UrlError("bad option"), "public, max-age=10"),
        (Overloaded("busy", headers={"Retry-After": "1"}), "no-store"),
    ],
)
def test_errors_are_short_plain_text_and_briefly_cached_at_most(
    error: PublicError, cache_control: str
) -> None:
    got = error_reply(error, "GET")
    assert got.status == error.status and got.body == (error.message + "\n").encode()
    assert headers(got)["cache-control"] == cache_control
    assert headers(got)["content-type"] == "text/plain; charset=utf-8"
    assert all(headers(got)[name.lower()] == value for name, value in error.headers.items())
    assert error_reply(error, "HEAD").body == b""


def test_the_starlette_form_keeps_the_headers_exactly() -> None:
    original = error_reply(Overloaded(headers={"Retry-After": "5"}), "GET")
    response = starlette_response(original)
    assert response.status_code == 503 and response.body == original.body
    assert response.raw_headers == original.headers
