"""The thumbor dialect: its grammar into the one spec, its signature (built by libthumbor's CryptoURL), its
errors naming the part, meta/ JSON and negotiation."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import pyvips
from libthumbor import CryptoURL
from starlette.testclient import TestClient

from imgedge.cache.config import CacheConfig
from imgedge.proxy.app import create_app
from imgedge.proxy.config import ProxyConfig
from imgedge.proxy.dialects.base import THUMBOR_META, UNSIGNED
from imgedge.proxy.dialects.thumbor import THUMBOR, parse_thumbor_path
from imgedge.url import ParseSettings
from imgedge.url.build import build_path
from imgedge.url.errors import UrlError
from imgedge.url.signing import thumbor_signature
from tests.conftest import photo

KEY = "MY_SECURE_KEY"
SETTINGS = ParseSettings()


def canonical(path: str) -> str:
    return parse_thumbor_path(f"/unsafe/{path}", SETTINGS).spec.canonical()


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("300x200/cat", "w:300/h:200/fit:cover/el:1"),
        ("300x0/cat", "w:300/el:1"),
        ("x200/cat", "h:200/el:1"),
        ("cat", ""),  # no size: nothing to crop or scale, the same as the native /_/cat
        ("fit-in/300x200/cat", "w:300/h:200"),
        ("fit-in/300x200/filters:upscale()/cat", "w:300/h:200/el:1"),
        ("full-fit-in/300x200/cat", "w:300/h:200/fit:outside/el:1"),
        ("adaptive-fit-in/300x200/cat", "w:300/h:200/ad:1"),
        ("300x200/filters:no_upscale()/cat", "w:300/h:200/fit:clamp"),
        ("300x200/filters:stretch()/cat", "w:300/h:200/fit:force/el:1"),
        ("origx300/cat", "w:orig/h:300/fit:cover/el:1"),
        ("300x200/left/top/cat", "w:300/h:200/fit:cover/g:nowe/el:1"),
        ("300x200/smart/cat", "w:300/h:200/fit:cover/g:sm/el:1"),
        ("trim/cat", "t:0"),
        ("trim:bottom-right:12/cat", "t:12:br"),
        ("10x20:110x220/cat", "c:10:20:100:200"),
        ("fit-in/300x200/filters:fill(red)/cat", "w:300/h:200/fit:pad/bg:ff0000"),
        ("fit-in/300x200/filters:fill(transparent):format(png)/cat", "w:300/h:200/fit:pad/bg:ffffff00/f:png"),
        ("300x200/filters:background_color(abc)/cat", "w:300/h:200/fit:cover/el:1/bg:aabbcc/fl:1"),
        ("300x200/filters:focal(10x20:30x40)/cat", "w:300/h:200/fit:cover/g:fr:10:20:30:40/el:1"),
        (
            "300x200/filters:format(webp):quality(70):blur(2):sharpen(1.5,0.5,true):grayscale()"
            ":brightness(10):contrast(-5):max_bytes(9000):strip_icc():strip_exif()/cat",
            "w:300/h:200/fit:cover/el:1/bl:2/sh:1.5/br:10/co:-5/gs:1/q:70/mb:9000/f:webp",
        ),
        ("300x200/filters:round_corner(20|10,255,0,0,1)/cat", "w:300/h:200/fit:cover/el:1/rc:20:10:ff000000"),
        (
            "300x200/filters:watermark(logo,-10,20p,30,25,none)/cat",
            "w:300/h:200/fit:cover/el:1/wm:0.7:noea:10:20p:0.25:0:logo",
        ),
        (
            "300x200/filters:watermark(https://cdn.test/m.png,repeat,repeat,0)/cat",
            "w:300/h:200/fit:cover/el:1/wm:1:re:0:0:0:0:url.aHR0cHM6Ly9jZG4udGVzdC9tLnBuZw",
        ),
    ],
)
def test_thumbor_urls_become_the_one_spec(path: str, expected: str) -> None:
    assert canonical(path) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        # thumbor mirrors and turns after cropping; imgedge before: the anchor and the box turn with them.
        ("-300x200/left/cat", "w:300/h:200/fit:cover/g:ea/el:1/flop:1"),
        ("300x-200/top/cat", "w:300/h:200/fit:cover/g:so/el:1/flip:1"),
        ("300x200/filters:rotate(90)/cat", "w:200/h:300/fit:cover/el:1/rot:270"),
        ("300x200/left/filters:rotate(90)/cat", "w:200/h:300/fit:cover/g:so/el:1/rot:270"),
        ("300x200/left/filters:rotate(180)/cat", "w:300/h:200/fit:cover/g:ea/el:1/rot:180"),
        ("-300x200/filters:rotate(270)/cat", "w:200/h:300/fit:cover/el:1/rot:90/flip:1"),
    ],
)
def test_mirrors_and_turns_move_in_front_with_their_anchor(path: str, expected: str) -> None:
    assert canonical(path) == expected


@pytest.mark.parametrize(
    ("path", "part"),
    [
        ("300y200/cat", "300y200"),
        ("fit-in/300x200/wat/cat", "wat"),
        ("300x200/filters:nope(1)/cat", "nope"),
        ("300x200/filters:blur(x)/cat", "blur"),
        ("300x200/filters:blur(1/cat", "filters"),
        ("300x200/filters:rotate(45)/cat", "rotate"),
        ("300x200/filters:format(heic)/cat", "format"),
        ("300x200/filters:fill(blur)/cat", "fill"),
        ("300x200/filters:brightness(500)/cat", "brightness"),
        ("300x200/filters:quality(1):quality(2)/cat", "quality"),
        ("300x200/ftp:x", "image"),
        ("10x10:20x20/-300x200/cat", "crop"),
        ("trim/300x200/filters:rotate(90)/cat", "trim"),
        ("300x200/filters:watermark(logo,left,0,0)/cat", "watermark"),
    ],
)
def test_unknown_or_malformed_parts_are_400_naming_the_part(path: str, part: str) -> None:
    with pytest.raises(UrlError) as raised:
        parse_thumbor_path(f"/unsafe/{path}", SETTINGS)
    assert raised.value.status == 400
    assert raised.value.message.startswith(f"{part}:"), raised.value.message


def test_the_signature_covers_the_path_as_sent_after_the_hash() -> None:
    signed = CryptoURL(key=KEY).generate(width=300, height=200, smart=True, image_url="cat")
    signature, _, rest = signed.removeprefix("/").partition("/")
    parsed = parse_thumbor_path(signed, SETTINGS)
    assert (parsed.credential.scheme, parsed.credential.signature) == (THUMBOR, signature)
    assert parsed.credential.message == rest.encode()
    assert signature == thumbor_signature(KEY.encode(), rest) and signature.endswith("=")
    assert parse_thumbor_path("/unsafe/300x200/cat", SETTINGS).credential.scheme == UNSIGNED
    assert parse_thumbor_path("/unsafe/meta/300x200/cat", SETTINGS).reply == THUMBOR_META


@pytest.fixture(scope="module")
def originals(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("thumbor-originals")
    photo("coffee").write_to_file(str(root / "coffee.png"))
    photo("astronaut", 256).write_to_file(str(root / "logo.png"))
    return root


def client_for(originals: Path, **overrides: object) -> TestClient:
    config = ProxyConfig(
        data_dir=originals, source="filesystem", originals_dir=originals, keys=(b"native",),
        thumbor_key=KEY.encode(),
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


def test_libthumbor_urls_are_served_and_tampering_is_refused(client: TestClient) -> None:
    crypto = CryptoURL(key=KEY)
    cases = [
        ({"width": 300, "height": 200}, (300, 200)),
        ({"width": 300, "height": 200, "fit_in": True}, (300, 200)),
        ({"width": 200, "height": 200, "fit_in": True, "filters": ["fill(blue)"]}, (200, 200)),
        ({"width": 300, "height": 200, "filters": ["rotate(90)"]}, (200, 300)),
        ({"width": 900, "height": 0}, (900, 600)),  # thumbor scales up outside fit-in
        ({"width": 900, "height": 0, "filters": ["no_upscale()"]}, (600, 400)),
        ({"width": 100, "height": 100, "crop": ((0, 0), (450, 300)), "halign": "right"}, (100, 100)),
    ]
    for options, size in cases:
        url = "/thumbor" + crypto.generate(image_url="coffee", **options)
        response = client.get(url)
        assert response.status_code == 200, (url, response.text)
        assert size_of(response.content) == size, url
        assert client.get(url.replace("coffee", "cofee")).status_code == 403
    forged = CryptoURL(key="another key").generate(width=300, height=200, image_url="coffee")
    assert client.get("/thumbor" + forged).text.strip() == "invalid signature"
    too_wide = client.get("/thumbor" + crypto.generate(image_url="coffee", width=9000))
    assert too_wide.status_code == 400 and too_wide.text.startswith("width:")


def test_unsafe_only_when_unsigned_urls_are_allowed(originals: Path, client: TestClient) -> None:
    assert client.get("/thumbor/unsafe/300x200/coffee").status_code == 403
    with client_for(originals, allow_unsigned=True, thumbor_prefix="/t") as unsafe:
        assert unsafe.get("/t/unsafe/300x200/coffee").status_code == 200
        # /thumbor is native here, and "thumbor" has no signature's shape
        assert unsafe.get("/thumbor/unsafe/300x200/coffee").status_code == 403


def test_without_a_format_filter_the_format_is_negotiated(client: TestClient) -> None:
    crypto = CryptoURL(key=KEY)
    url = "/thumbor" + crypto.generate(image_url="coffee", width=100, height=100)
    webp = client.get(url, headers={"Accept": "image/webp,*/*"})
    assert webp.headers["content-type"] == "image/webp" and webp.headers["vary"] == "Accept"
    assert client.get(url, headers={"Accept": "*/*"}).headers["content-type"] == "image/jpeg"
    fixed = client.get("/thumbor" + crypto.generate(image_url="coffee", width=100, filters=["format(png)"]))
    assert fixed.headers["content-type"] == "image/png" and "vary" not in fixed.headers


def test_a_thumbor_url_and_the_native_url_for_the_same_spec_share_one_cache_entry(client: TestClient) -> None:
    url = "/thumbor" + CryptoURL(key=KEY).generate(image_url="coffee", width=123, height=77, fit_in=True)
    assert client.get(url).headers["cache-status"].startswith("imgedge; fwd=miss")
    same = client.get(build_path("coffee", key=b"native", width=123, height=77))
    assert same.headers["cache-status"].startswith("imgedge; hit")


def test_meta_answers_thumbor_json(client: TestClient) -> None:
    crypto = CryptoURL(key=KEY)
    url = "/thumbor" + crypto.generate(image_url="coffee", width=300, height=200, meta=True)
    meta = client.get(url)
    assert meta.status_code == 200 and meta.headers["content-type"] == "application/json"
    document = meta.json()["thumbor"]
    assert document["source"] == {"url": "coffee", "width": 600, "height": 400, "frameCount": 1}
    assert document["target"] == {"width": 300, "height": 200}
    assert document["operations"] == [{"type": "resize", "width": 300, "height": 200}]
    cropped = client.get("/thumbor" + crypto.generate(image_url="coffee", width=100, height=100, meta=True))
    assert cropped.json()["thumbor"]["operations"][0] == {
        "type": "crop", "left": 100, "top": 0, "right": 500, "bottom": 400,
    }  # fmt: skip
    jsonp = client.get(url, params={"callback": "show"})
    assert jsonp.headers["content-type"] == "application/javascript"
    assert jsonp.text.startswith("show({") and jsonp.text.endswith("});")
    assert client.get(url, params={"callback": "alert(1)"}).status_code == 400


def test_watermarks_come_from_asset_ids(client: TestClient) -> None:
    crypto = CryptoURL(key=KEY)
    plain = client.get(
        "/thumbor" + crypto.generate(image_url="coffee", width=300, height=200, filters=["format(png)"])
    )
    marked = client.get(
        "/thumbor"
        + crypto.generate(
            image_url="coffee", width=300, height=200, filters=["watermark(logo,-0,-0,0,20)", "format(png)"]
        )
    )
    assert marked.status_code == 200, marked.text
    a, b = (pyvips.Image.new_from_buffer(r.content, "") for r in (plain, marked))
    # The mark (60 px wide: 20% of 300) sits in the bottom-right corner, opaque; the rest is untouched.
    assert (a.crop(240, 140, 60, 60) - b.crop(240, 140, 60, 60)).abs().avg() > 10
    assert (a.crop(0, 0, 200, 100) - b.crop(0, 0, 200, 100)).abs().max() == 0
    missing = crypto.generate(image_url="coffee", width=300, filters=["watermark(nope,0,0,0)"])
    assert client.get("/thumbor" + missing).status_code == 404
    remote = crypto.generate(image_url="coffee", width=300, filters=["watermark(https://x.test/m.png,0,0,0)"])
    assert client.get("/thumbor" + remote).status_code == 403  # not an allowed source


def test_overlong_paths_are_refused_before_parsing(client: TestClient) -> None:
    response = client.get("/thumbor/unsafe/300x200/" + "a" * 5000)
    assert response.status_code == 400 and "longer than" in response.text
    assert client.get("/imgproxy/sig/w:1/plain/" + "a" * 5000).status_code == 400
