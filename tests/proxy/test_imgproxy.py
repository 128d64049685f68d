"""The imgproxy dialect: the published signature vector, URLs built by imgproxy client libraries from PyPI
(`imgproxy`, `pyimgproxy`), key rotation and truncated signatures, options into the one spec, /info."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import pyvips
from imgproxy import ImgProxy
from pyimgproxy import ImgProxy as PyImgProxy
from starlette.testclient import TestClient

from imgedge.cache.config import CacheConfig
from imgedge.imaging.placeholders import placeholders_from_bytes
from imgedge.proxy.app import create_app
from imgedge.proxy.config import ProxyConfig
from imgedge.proxy.dialects.base import IMGPROXY_INFO, UNSIGNED
from imgedge.proxy.dialects.imgproxy import IMGPROXY, parse_imgproxy_path
from imgedge.proxy.sources.base import SourceRef
from imgedge.url import ParseSettings
from imgedge.url.errors import UrlError
from imgedge.url.signing import imgproxy_signature
from tests.conftest import photo

# imgproxy's documented example (docs: "Signing a URL").
KEY, SALT = "736563726574", "68656C6C6F"
VECTOR_PATH = "/fill/300/400/sm/0/aHR0cDovL2V4YW1w/bGUuY29tL2ltYWdl/cy9jdXJpb3NpdHku/anBn.png"
VECTOR_SIGNATURE = "AfrOrF3gWeDA6VOlDG4TzxMv39O7MXnF4CXpKUwGqRM"
OTHER_KEY, OTHER_SALT = "6f746865722d6b6579", "6f746865722d73616c74"
SETTINGS = ParseSettings(presets={"thumb": "w:64/h:64/fit:cover"}, watermark="logo")


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def test_the_published_vector_verifies() -> None:
    assert imgproxy_signature(bytes.fromhex(KEY), bytes.fromhex(SALT), VECTOR_PATH) == VECTOR_SIGNATURE
    parsed = parse_imgproxy_path(f"/{VECTOR_SIGNATURE}{VECTOR_PATH}", SETTINGS, signed=True)
    assert (parsed.credential.scheme, parsed.credential.message) == (IMGPROXY, VECTOR_PATH.encode())
    assert parsed.source == SourceRef.parse("http://example.com/images/curiosity.jpg")
    assert parsed.spec.canonical() == "w:300/h:400/fit:clamp/g:sm/f:png"  # the older positional form


def canonical(options: str, source: str = "plain/cat") -> str:
    return parse_imgproxy_path(f"/_/{options}/{source}", SETTINGS, signed=False).spec.canonical()


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ("rs:fill:300:200", "w:300/h:200/fit:clamp"),
        ("rs:fill:300:200:1", "w:300/h:200/fit:cover/el:1"),
        ("resize:fill-down:300:200", "w:300/h:200/fit:cover"),
        ("rs:fit:300:200:0:1", "w:300/h:200/fit:pad"),
        ("rs:force:300:200", "w:300/h:200/fit:force"),
        ("rs:auto:300:200/ex:1:so", "w:300/h:200/fit:auto/ex:1/g:so"),
        ("s:300:200/rt:fill-down/g:fp:0.25:0.75", "w:300/h:200/fit:cover/g:fp:0.25:0.75"),
        ("w:300/h:200/rt:fill/g:noea", "w:300/h:200/fit:clamp/g:noea"),
        ("width:150/dpr:2", "w:300"),
        ("c:100:50:nowe/w:80", "c:100:50:nowe/w:80"),
        ("crop:0.5:0.5:fp:0.1:0.9", "c:0.5:0.5:fp:0.1:0.9"),
        ("q:70/f:webp", "q:70/f:webp"),
        ("quality:0", ""),
        ("bl:2/sh:1.5/rot:90/bg:255:0:0", "rot:90/bl:2/sh:1.5/bg:ff0000/fl:1"),
        ("sm:0/mb:20000/cb:v2/fn:photo/ar:1", "mb:20000/strip:0"),
        ("pr:thumb", "w:64/h:64/fit:cover"),
        ("exp:4102444800", "exp:4102444800"),
        ("t:10", "t:10"),
        ("trim:5:ffffff:0:0", "t:5:ffffff"),
        ("wm:0.5:soea:10:10:0.2", "wm:0.5:soea:10:10:0.2:0.2:logo"),
        (f"wm:1/wmu:{b64('https://cdn.test/m.png')}", "wm:1:ce:0:0:0:0:url.aHR0cHM6Ly9jZG4udGVzdC9tLnBuZw"),
        ("wm:0", ""),
    ],
)
def test_imgproxy_options_become_the_one_spec(options: str, expected: str) -> None:
    assert canonical(options) == expected


@pytest.mark.parametrize(
    ("source", "ref", "fmt"),
    [
        ("plain/cat@webp", SourceRef.asset("cat"), "webp"),
        ("plain/https://img.test/a%20b.png%3Fx=1@jpg", SourceRef.parse("https://img.test/a%20b.png?x=1"),
         "jpeg"),
        ("plain/s3://bucket/k/a.png", SourceRef.parse("s3://bucket/k/a.png"), "auto"),
        (f"{b64('https://img.test/a.png')[:10]}/{b64('https://img.test/a.png')[10:]}.avif",
         SourceRef.parse("https://img.test/a.png"), "avif"),
        (b64("cat"), SourceRef.asset("cat"), "auto"),
    ],
)  # fmt: skip
def test_plain_and_base64_sources(source: str, ref: SourceRef, fmt: str) -> None:
    parsed = parse_imgproxy_path(f"/_/w:10/{source}", SETTINGS, signed=False)
    assert (parsed.source, parsed.spec.format) == (ref, fmt)


@pytest.mark.parametrize(
    ("path", "part"),
    [
        ("zoom:2/plain/cat", "zoom"),
        ("g:ce:10:0/plain/cat", "g"),
        ("rs:squash:1:1/plain/cat", "rs"),
        ("rs:fit:1:1:1:1:1:1/plain/cat", "rs"),
        ("w:x/plain/cat", "w"),
        ("w:10/plain/cat@bmp", "extension"),
        ("w:10/!!notbase64", "source"),
        ("w:10/plain/ftp://x/y", "source"),
        ("t:10:fff:1", "t"),
        ("w:10", "source"),
    ],
)
def test_unknown_or_malformed_parts_are_400_naming_the_part(path: str, part: str) -> None:
    with pytest.raises(UrlError) as raised:
        parse_imgproxy_path(f"/_/{path}", SETTINGS, signed=False)
    assert raised.value.message.startswith(f"{part}:"), raised.value.message


def test_unsigned_only_without_keys_and_info_paths() -> None:
    assert (
        parse_imgproxy_path("/anything/w:10/plain/cat", SETTINGS, signed=False).credential.scheme == UNSIGNED
    )
    info = parse_imgproxy_path("/info/sig/plain/cat", SETTINGS, signed=True)
    assert (info.reply, info.credential.message) == (IMGPROXY_INFO, b"/plain/cat")
    assert info.info_fields == ("size", "format", "dimensions")
    asked = parse_imgproxy_path("/info/sig/s:0/avg:1:1/bh:4:3/plain/cat", SETTINGS, signed=True)
    assert asked.info_fields == ("format", "dimensions", "average", "blurhash")
    assert asked.credential.message == b"/s:0/avg:1:1/bh:4:3/plain/cat"
    for refused, problem in [
        ("rs:fit:1:1", "unknown or unsupported imgproxy info option"),
        ("exif:1", "unknown or unsupported imgproxy info option"),
        ("bh:9:9", "only 4:3 components"),
        ("avg:maybe", "not a boolean"),
    ]:
        with pytest.raises(UrlError, match=problem):
            parse_imgproxy_path(f"/info/sig/{refused}/plain/cat", SETTINGS, signed=True)


@pytest.fixture(scope="module")
def originals(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("imgproxy-originals")
    photo("coffee").write_to_file(str(root / "coffee.png"))
    photo("astronaut", 128).write_to_file(str(root / "logo.png"))
    return root


def client_for(originals: Path, **overrides: object) -> TestClient:
    pairs = ((bytes.fromhex(KEY), bytes.fromhex(SALT)), (bytes.fromhex(OTHER_KEY), bytes.fromhex(OTHER_SALT)))
    config = ProxyConfig(
        data_dir=originals, source="filesystem", originals_dir=originals, keys=(b"native",),
        imgproxy_keys=pairs, watermark="logo",
    )  # fmt: skip
    config = replace(config, **overrides)  # type: ignore[arg-type]
    return TestClient(
        create_app(config, cache_config=CacheConfig(disk_dir=None)), raise_server_exceptions=False
    )


@pytest.fixture(scope="module")
def client(originals: Path) -> Iterator[TestClient]:
    with client_for(originals) as test_client:
        yield test_client


def size_of(body: bytes) -> tuple[int, int]:
    image = pyvips.Image.new_from_buffer(body, "")
    return image.width, image.height


def test_urls_from_imgproxy_client_libraries_are_served(client: TestClient) -> None:
    fill = ImgProxy("coffee", proxy_host="/imgproxy", key=KEY, salt=SALT, width=300, height=200,
                    resizing_type="fill", extension="webp")  # fmt: skip
    response = client.get(fill())
    assert response.status_code == 200, response.text
    assert (size_of(response.content), response.headers["content-type"]) == ((300, 200), "image/webp")
    fit = ImgProxy("coffee", proxy_host="/imgproxy", key=OTHER_KEY, salt=OTHER_SALT, width=300, height=300,
                   resizing_type="fit")  # fmt: skip
    assert size_of(client.get(fit("bl:1", "q:60")).content) == (300, 200)  # the second key/salt pair
    plain = (
        PyImgProxy(url="/imgproxy", key=KEY, salt=SALT).image("coffee").resize("fill", 120, 120).format("png")
    )
    assert "/plain/coffee" in plain.url
    response = client.get(plain.url)
    assert (response.status_code, size_of(response.content)) == (200, (120, 120))
    wrong = ImgProxy("coffee", proxy_host="/imgproxy", key=KEY, salt=OTHER_SALT, width=10)
    assert client.get(wrong()).text.strip() == "invalid signature"


def test_the_vector_url_passes_its_signature_and_stops_at_the_allow_list(client: TestClient) -> None:
    response = client.get(f"/imgproxy/{VECTOR_SIGNATURE}{VECTOR_PATH}")
    assert (response.status_code, response.text.strip()) == (
        403,
        "source is not allowed (IMGEDGE_REMOTE_SOURCES)",
    )
    forged = client.get(f"/imgproxy/{VECTOR_SIGNATURE[:-1]}A{VECTOR_PATH}")
    assert forged.text.strip() == "invalid signature"


def test_truncated_signatures_have_one_spelling(originals: Path) -> None:
    path = "/rs:fit:50:50/plain/coffee"
    key, salt = bytes.fromhex(KEY), bytes.fromhex(SALT)
    short, full = imgproxy_signature(key, salt, path, 8), imgproxy_signature(key, salt, path)
    with client_for(originals, imgproxy_signature_size=8) as client:
        assert len(short) == 11 and client.get(f"/imgproxy/{short}{path}").status_code == 200
        for spelling in (full, short + "=", short[:-1]):
            assert client.get(f"/imgproxy/{spelling}{path}").status_code == 403


def test_info_answers_the_source_facts(client: TestClient) -> None:
    path = "/plain/coffee"
    signature = imgproxy_signature(bytes.fromhex(KEY), bytes.fromhex(SALT), path)
    info = client.get(f"/imgproxy/info/{signature}{path}")
    assert info.status_code == 200 and info.headers["content-type"] == "application/json"
    assert info.json() == {"width": 600, "height": 400, "size": info.json()["size"], "format": "png"}
    assert client.get(f"/imgproxy/info/{signature}/plain/coffee2").status_code == 403


def test_info_average_and_blurhash_are_the_native_placeholders(client: TestClient, originals: Path) -> None:
    path = "/d:0/s:0/f:0/avg:1/bh:4:3/plain/coffee"
    signature = imgproxy_signature(bytes.fromhex(KEY), bytes.fromhex(SALT), path)
    info = client.get(f"/imgproxy/info/{signature}{path}")
    assert info.status_code == 200, info.text
    placeholders = placeholders_from_bytes((originals / "coffee.png").read_bytes(), max_pixels=10**8)
    red, green, blue = (int(placeholders.average_color[i : i + 2], 16) for i in (1, 3, 5))
    average = {"R": red, "G": green, "B": blue, "A": 255}
    assert info.json() == {"average": average, "blurhash": placeholders.blurhash}


def test_watermark_from_the_configured_default(client: TestClient) -> None:
    key, salt = bytes.fromhex(KEY), bytes.fromhex(SALT)
    plain_path, marked_path = (
        "/rs:fill:200:200/f:png/plain/coffee",
        "/rs:fill:200:200/wm:1:nowe:0:0:0.5/f:png/plain/coffee",
    )
    plain, marked = (
        client.get(f"/imgproxy/{imgproxy_signature(key, salt, p)}{p}") for p in (plain_path, marked_path)
    )
    assert marked.status_code == 200, marked.text
    a, b = (pyvips.Image.new_from_buffer(r.content, "") for r in (plain, marked))
    assert (a.crop(0, 0, 100, 100) - b.crop(0, 0, 100, 100)).abs().avg() > 10  # the mark, top-left, half size
    assert (a.crop(100, 100, 100, 100) - b.crop(100, 100, 100, 100)).abs().max() == 0
