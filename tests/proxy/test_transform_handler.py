"""TransformHandler.respond on its own, without ASGI: the one path hits and misses take."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pyvips

from imgedge.cache.build import build_result_cache, build_single_flight, build_source_cache
from imgedge.cache.config import CacheConfig
from imgedge.cache.keys import source_key
from imgedge.errors import PublicError
from imgedge.imaging.inspect import Header
from imgedge.proxy import render as render_module
from imgedge.proxy.config import ProxyConfig
from imgedge.proxy.dialects import build_dialects
from imgedge.proxy.pipeline import decoded as decoded_module
from imgedge.proxy.pipeline.decoded import DecodedImage
from imgedge.proxy.render import Renderer
from imgedge.proxy.replies import Reply
from imgedge.proxy.security import SecurityPolicy
from imgedge.proxy.sources import DirectorySource
from imgedge.proxy.transform_handler import TransformHandler, TransformRequest
from imgedge.proxy.transform_pool import TransformPool
from imgedge.url.build import build_path

KEY = b"k"
AVIF_FIRST = "image/avif,image/webp,*/*"


@dataclass
class Handlers:
    config: ProxyConfig
    cache: CacheConfig

    def build(self) -> TransformHandler:
        """A fresh handler (an empty memory tier) over the same disk tier."""
        results = build_result_cache(self.cache)
        renderer = Renderer(
            self.config,
            DirectorySource(self.config),
            build_source_cache(self.cache),
            TransformPool(1, queue_size=4),
        )
        return TransformHandler(
            dialects=build_dialects(self.config), policy=SecurityPolicy.from_config(self.config),
            results=results, flights=build_single_flight(self.cache, results), renderer=renderer,
            encoder_version=self.config.encoder.version,
        )  # fmt: skip


@pytest.fixture()
async def handlers(tmp_path: Path, landscape_png: bytes) -> AsyncIterator[Handlers]:
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "coffee.png").write_bytes(landscape_png)
    config = ProxyConfig(data_dir=tmp_path, source="filesystem", originals_dir=tmp_path / "o", keys=(KEY,))
    yield Handlers(config, CacheConfig(disk_dir=tmp_path / "cache"))


def request(
    path: str, *, method: str = "GET", accept: str | None = AVIF_FIRST, etag: str | None = None
) -> TransformRequest:
    return TransformRequest(method, path, "", accept, etag)


def header(reply: Reply, name: str) -> str | None:
    values = [v.decode("latin-1") for k, v in reply.headers if k == name.encode()]
    assert len(values) <= 1, name
    return values[0] if values else None


async def test_miss_then_memory_hit_then_disk_hit_in_a_new_process(handlers: Handlers) -> None:
    handler = handlers.build()
    url = build_path("coffee", key=KEY, width=200)
    miss = await handler.respond(request(url))
    assert miss.status == 200 and header(miss, "cache-status") == "imgedge; fwd=miss; stored"
    assert pyvips.Image.new_from_buffer(miss.body, "").width == 200
    assert header(miss, "content-type") == "image/avif" and header(miss, "vary") == "Accept"
    hit = await handler.respond(request(url))
    assert header(hit, "cache-status") == "imgedge; hit; detail=memory"
    assert hit.body == miss.body and header(hit, "etag") == header(miss, "etag")

    fresh = handlers.build()
    from_disk = await fresh.respond(request(url))
    assert header(from_disk, "cache-status") == "imgedge; hit; detail=disk"
    promoted = await fresh.respond(request(url))
    assert header(promoted, "cache-status") == "imgedge; hit; detail=memory"
    same = {"cache-status", "server-timing"}
    assert [h for h in promoted.headers if h[0].decode() not in same] == [
        h for h in from_disk.headers if h[0].decode() not in same
    ]


@dataclass
class Counted:
    """A fresh handler over a directory origin; the origin counts fetches, `decodes` the decodes to pixels."""

    handler: TransformHandler
    source: DirectorySource
    decodes: list[int]


@pytest.fixture()
def counted(handlers: Handlers, monkeypatch: pytest.MonkeyPatch) -> Counted:
    handler = handlers.build()
    assert isinstance(handler.renderer.source, DirectorySource)
    decodes: list[int] = []
    real = render_module.decode

    def counting(data: bytes, **options: int) -> DecodedImage:
        decodes.append(len(data))
        return real(data, **options)

    monkeypatch.setattr(render_module, "decode", counting)
    return Counted(handler, handler.renderer.source, decodes)


async def test_a_first_view_is_served_from_the_encoded_original_and_the_second_makes_pixels(
    counted: Counted,
) -> None:
    handler, source, decodes = counted.handler, counted.source, counted.decodes
    cache = handler.renderer.source_cache
    first = await handler.respond(request(build_path("coffee", key=KEY, width=100)))
    assert first.status == 200 and source.fetches == 1 and decodes == []
    assert (await cache.get(source_key("coffee", "pixels")))[0] is None
    assert (await cache.get(source_key("coffee")))[0] is not None
    second = await handler.respond(request(build_path("coffee", key=KEY, width=150)))
    assert second.status == 200 and source.fetches == 1 and len(decodes) == 1
    assert (await cache.get(source_key("coffee", "pixels")))[0] is not None
    third = await handler.respond(request(build_path("coffee", key=KEY, width=200)))
    assert third.status == 200 and source.fetches == 1 and len(decodes) == 1
    with pyvips.Image.new_from_buffer(first.body, "") as image:
        assert image.width == 100


async def test_new_originals_are_fetched_once_and_decoded_once(counted: Counted) -> None:
    handler, source, decodes = counted.handler, counted.source, counted.decodes
    replies = await asyncio.gather(
        *(handler.respond(request(build_path("coffee", key=KEY, width=w))) for w in (100, 150, 200, 250))
    )
    assert all(r.status == 200 for r in replies)
    # Four variants of a new original: one fetch; the one that fetched is served from the encoded bytes,
    # the others share one decode.
    assert source.fetches == 1 and len(decodes) == 1
    pixels, _ = await handler.renderer.source_cache.get(source_key("coffee", "pixels"))
    assert pixels is not None
    # A request that keeps metadata needs the encoded original: kept since the first view.
    for _ in range(2):
        kept = await handler.respond(request(build_path("coffee", key=KEY, width=90, extra=["strip:0"])))
        assert kept.status == 200
    assert source.fetches == 1


async def test_a_first_view_reads_its_original_header_once(
    handlers: Handlers, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The memory estimate and the transform share one read (profile.md, "The thirteenth round").
    reads: list[int] = []
    real = decoded_module.inspect

    def counting(data: bytes, *, max_pixels: int) -> Header:
        reads.append(len(data))
        return real(data, max_pixels=max_pixels)

    monkeypatch.setattr(decoded_module, "inspect", counting)
    first = await handlers.build().respond(request(build_path("coffee", key=KEY, width=100)))
    assert first.status == 200 and len(reads) == 1


async def test_the_pyramid_is_made_when_a_variant_first_needs_it(handlers: Handlers) -> None:
    handler = handlers.build()
    cache = handler.renderer.source_cache

    async def levels() -> list[int]:
        entry, _ = await cache.get(source_key("coffee", "pixels"))
        assert entry is not None
        return [size[0] for size in json.loads(dict(entry.headers)["x-imgedge-pixels"])[3]]

    assert (await handler.respond(request(build_path("coffee", key=KEY, width=200)))).status == 200
    # A first view is served from the encoded bytes.
    assert (await cache.get(source_key("coffee", "pixels")))[0] is None
    assert (await handler.respond(request(build_path("coffee", key=KEY, width=500)))).status == 200
    assert await levels() == []  # the request that decodes does not wait for a pyramid
    assert (await handler.respond(request(build_path("coffee", key=KEY, width=600)))).status == 200
    assert await levels() == []  # 900 px wide: a 450 px level is smaller than 600 px
    assert (await handler.respond(request(build_path("coffee", key=KEY, width=300)))).status == 200
    assert await levels() == [450, 225]
    fresh = handlers.build()  # another worker: the disk tier has the pyramid too
    assert (await fresh.respond(request(build_path("coffee", key=KEY, width=100)))).status == 200
    assert await levels() == [450, 225]


async def test_conditional_and_head_requests(handlers: Handlers) -> None:
    handler = handlers.build()
    url = build_path("coffee", key=KEY, width=120, fmt="webp")
    full = await handler.respond(request(url))
    assert header(full, "vary") is None  # an explicit format does not depend on Accept
    etag = header(full, "etag")
    assert etag is not None
    not_modified = await handler.respond(request(url, etag=f'"x", W/{etag}'))
    assert not_modified.status == 304 and not_modified.body == b""
    assert header(not_modified, "content-length") is None and header(not_modified, "etag") == etag
    head = await handler.respond(request(url, method="HEAD"))
    assert head.status == 200 and head.body == b""
    assert header(head, "content-length") == str(len(full.body))


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/_/w:10/coffee", 403),  # unsigned, not allowed here
        (build_path("coffee", key=b"forged", width=10), 403),
        (build_path("missing", key=KEY, width=10), 404),
        ("/" + "A" * 43 + "/w:abc/coffee", 400),
        (build_path("coffee", key=KEY, width=9000), 400),
    ],
)
async def test_errors_are_raised_for_the_caller_to_answer(handlers: Handlers, path: str, status: int) -> None:
    with pytest.raises(PublicError) as raised:
        await handlers.build().respond(request(path))
    assert raised.value.status == status


def test_request_from_scope_takes_the_first_of_repeated_headers() -> None:
    scope = {
        "method": "HEAD", "path": "/_/w:1/a", "query_string": b"x=1",
        "headers": [(b"accept", b"image/webp"), (b"accept", b"image/avif"), (b"if-none-match", b'"e"')],
    }  # fmt: skip
    assert TransformRequest.from_scope(scope) == TransformRequest(
        "HEAD", "/_/w:1/a", "x=1", "image/webp", '"e"', raw_path="/_/w:1/a"
    )
    raw = TransformRequest.from_scope({**scope, "path": "/a b", "raw_path": b"/a%20b"})
    assert (raw.path, raw.raw_path) == ("/a b", "/a%20b")  # what thumbor and imgproxy sign
    assert TransformRequest.from_scope({**scope, "headers": [(b"accept", b"")]}).accept is None
