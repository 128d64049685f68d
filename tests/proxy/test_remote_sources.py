"""Remote and S3 originals: a real HTTP origin on 127.0.0.1 (allowed explicitly), a real S3 server (rclone),
the allow-list, the address checks (refused without a connection), redirects, limits, revalidation, purge."""

from __future__ import annotations

import hashlib
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
import pyvips
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from imgedge.cache.config import CacheConfig
from imgedge.netcheck import parse_networks
from imgedge.proxy.app import create_app
from imgedge.proxy.config import ProxyConfig
from imgedge.proxy.sources.allowlist import parse_prefixes
from imgedge.proxy.sources.base import SourceRef
from tests.conftest import running
from tests.engines.s3 import rclone_s3

ADMIN = "admin-token"


@dataclass
class Origin:
    """An image origin with validators; counts what it is asked."""

    images: dict[str, bytes]
    requests: list[str] = field(default_factory=list)
    conditional: int = 0
    redirect_to: str = ""

    def app(self) -> Starlette:
        async def image(request: Request) -> Response:
            name = request.path_params["name"]
            self.requests.append(name)
            body = self.images.get(name)
            if body is None:
                return Response(status_code=404)
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            headers = {"ETag": etag, "Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT"}
            if request.headers.get("if-none-match"):
                self.conditional += 1
                if request.headers["if-none-match"] == etag:
                    return Response(status_code=304, headers=headers)
            return Response(body, media_type="image/png", headers=headers)

        async def redirect(request: Request) -> Response:
            self.requests.append("redirect")
            return RedirectResponse(self.redirect_to, status_code=302)

        return Starlette(routes=[Route("/img/{name}", image), Route("/redirect", redirect)])


class ConnectionCounter:
    """A listening socket that only counts connections: a refused SSRF target must see none."""

    def __init__(self, host: str) -> None:
        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        self.sock.bind((host, 0))
        self.sock.listen(8)
        self.sock.settimeout(0.1)
        self.port: int = self.sock.getsockname()[1]
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


@pytest.fixture(scope="module")
def png() -> bytes:
    return bytes(
        pyvips.Image.black(64, 48).new_from_image([200, 30, 30]).copy(interpretation="srgb").pngsave_buffer()
    )


@pytest.fixture()
def origin(png: bytes) -> Iterator[tuple[Origin, str]]:
    served = Origin({"a.png": png, "b.png": png[:-20] + b"x" * 20})
    with running(served.app()) as base:
        yield served, base


@pytest.fixture()
def counter() -> Iterator[ConnectionCounter]:
    listener = ConnectionCounter("127.0.0.1")
    yield listener
    listener.close()


def proxy(tmp: Path, *, sources: str, networks: str = "", **overrides: object) -> TestClient:
    (tmp / "o").mkdir(exist_ok=True)
    config = ProxyConfig(
        data_dir=tmp, source="filesystem", originals_dir=tmp / "o", keys=(b"k",), allow_unsigned=True,
        admin_token=ADMIN, remote_sources=parse_prefixes(tuple(sources.split(","))),
        remote_networks=parse_networks(n for n in networks.split(",") if n),
    )  # fmt: skip
    config = replace(config, **overrides)  # type: ignore[arg-type]
    return TestClient(
        create_app(config, cache_config=CacheConfig(disk_dir=None)), raise_server_exceptions=False
    )


def thumbor(url: str, size: str = "40x30") -> str:
    return f"/thumbor/unsafe/{size}/filters:format(png)/{url}"


def test_an_allowed_origin_serves_and_a_second_variant_reuses_the_original(
    tmp_path: Path, origin: tuple[Origin, str]
) -> None:
    served, base = origin
    with proxy(tmp_path, sources=f"{base}/img/", networks="127.0.0.1") as client:
        first = client.get(thumbor(f"{base}/img/a.png"))
        assert first.status_code == 200, first.text
        assert pyvips.Image.new_from_buffer(first.content, "").width == 40
        assert client.get(thumbor(f"{base}/img/a.png", "20x15")).status_code == 200
        assert served.requests == ["a.png"]  # one origin fetch for both variants
        # Variants of a source that may change are not immutable.
        assert first.headers["cache-control"] == "public, max-age=3600"
        assert first.headers["surrogate-key"] == SourceRef.parse(f"{base}/img/a.png").cache_id
        assert client.get(thumbor(f"{base}/img/missing.png")).status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "http://images.example.com.evil.test/img/a.png",
        "http://images.example.com@evil.test/img/a.png",
        "https://images.example.com/img/a.png",  # another scheme
        "http://images.example.com/private/a.png",  # outside the path prefix
        "http://images.example.com/img/../private/a.png",
        "http://images.example.com/img/%2e%2e/private/a.png",
    ],
)
def test_urls_outside_the_allowed_prefixes_are_refused_before_any_traffic(tmp_path: Path, url: str) -> None:
    with proxy(tmp_path, sources="http://images.example.com/img/") as client:
        response = client.get(thumbor(url.replace("%", "%25")))
        assert response.status_code in (400, 403), response.text
        assert response.status_code == 400 or "not allowed" in response.text


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "localhost", "2130706433", "0x7f000001", "[::ffff:127.0.0.1]", "127.1"],
)
def test_loopback_in_any_spelling_is_refused_without_a_connection(
    tmp_path: Path, counter: ConnectionCounter, host: str
) -> None:
    # Every http URL passes the allow-list here: only the address check stands in the way.
    with proxy(tmp_path, sources="http://") as client:
        response = client.get(thumbor(f"http://{host}:{counter.port}/a.png"))
    assert response.status_code == 403, response.text
    assert "not a public address" in response.text
    assert counter.accepted == 0


def test_the_metadata_address_is_refused(tmp_path: Path) -> None:
    with proxy(tmp_path, sources="http://") as client:
        response = client.get(thumbor("http://169.254.169.254/latest/meta-data/iam"))
    assert response.status_code == 403 and "not a public address" in response.text


def test_a_redirect_to_a_private_address_is_refused_without_a_connection(
    tmp_path: Path, origin: tuple[Origin, str]
) -> None:
    served, base = origin
    hidden = ConnectionCounter("127.0.0.2")  # loopback too, but not in the allowed networks
    try:
        served.redirect_to = f"http://127.0.0.2:{hidden.port}/secret.png"
        with proxy(tmp_path, sources="http://", networks="127.0.0.1/32") as client:
            response = client.get(thumbor(f"{base}/redirect"))
            assert response.status_code == 403 and "not a public address" in response.text
            # Outside the allowed prefixes, the redirect is refused by the allow-list first.
        with proxy(tmp_path, sources=f"{base}/", networks="127.0.0.1/32") as client:
            response = client.get(thumbor(f"{base}/redirect"))
            assert response.status_code == 403 and "not allowed" in response.text
        assert hidden.accepted == 0
        assert served.requests == ["redirect", "redirect"]
    finally:
        hidden.close()


def test_redirects_within_the_allowed_origin_are_followed_and_bounded(
    tmp_path: Path, origin: tuple[Origin, str]
) -> None:
    served, base = origin
    with proxy(tmp_path, sources=f"{base}/", networks="127.0.0.1") as client:
        served.redirect_to = f"{base}/img/a.png"
        assert client.get(thumbor(f"{base}/redirect")).status_code == 200
        served.redirect_to = f"{base}/redirect?again"  # a loop
        response = client.get(thumbor(f"{base}/redirect%3Fagain"))
        assert response.status_code == 502 and "redirected more than" in response.text


def test_sources_over_the_size_limit_are_413(tmp_path: Path, origin: tuple[Origin, str]) -> None:
    _, base = origin
    with proxy(tmp_path, sources=f"{base}/", networks="127.0.0.1", max_src_bytes=100) as client:
        assert client.get(thumbor(f"{base}/img/a.png")).status_code == 413


def test_stale_originals_are_revalidated_and_a_304_keeps_the_cached_bytes(
    tmp_path: Path, origin: tuple[Origin, str], png: bytes
) -> None:
    served, base = origin
    url = f"{base}/img/a.png"
    with proxy(tmp_path, sources=f"{base}/", networks="127.0.0.1", remote_ttl_s=0.0) as client:
        first = client.get(thumbor(url))
        again = client.get(
            thumbor(url)
        )  # the variant outlived its lifetime: made again, original revalidated
        assert again.headers["cache-status"].startswith("imgedge; fwd=miss")
        assert again.content == first.content
        assert (len(served.requests), served.conditional) == (2, 1)
        served.images["a.png"] = bytes(
            pyvips.Image.black(64, 48)
            .new_from_image([20, 200, 30])
            .copy(interpretation="srgb")
            .pngsave_buffer()
        )
        changed = client.get(thumbor(url))
        assert changed.status_code == 200 and changed.content != first.content
        assert (len(served.requests), served.conditional) == (3, 2)


def test_purge_by_source_url_drops_its_variants(tmp_path: Path, origin: tuple[Origin, str]) -> None:
    served, base = origin
    url = f"{base}/img/a.png"
    with proxy(tmp_path, sources=f"{base}/", networks="127.0.0.1") as client:
        assert client.get(thumbor(url)).status_code == 200
        assert client.get(thumbor(url)).headers["cache-status"].startswith("imgedge; hit")
        auth = {"Authorization": f"Bearer {ADMIN}"}
        purged = client.post("/admin/purge-source", params={"url": url}, headers=auth)
        assert purged.status_code == 200 and purged.json()["purged"] >= 2  # the variant and the original
        assert client.post("/admin/purge-source", params={"url": "ftp://x"}, headers=auth).status_code == 400
        assert client.get(thumbor(url)).headers["cache-status"].startswith("imgedge; fwd=miss")
        assert served.requests == ["a.png", "a.png"]


def test_s3_sources_come_through_boto3_from_allowed_prefixes_only(
    tmp_path: Path, png: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    with rclone_s3(tmp_path / "s3") as server:
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)
        (server.root / "photos" / "prefix").mkdir(parents=True)
        (server.root / "photos" / "prefix" / "a.png").write_bytes(png)
        (server.root / "photos" / "private.png").write_bytes(png)
        with proxy(tmp_path, sources="s3://photos/prefix/") as client:
            ok = client.get(thumbor("s3://photos/prefix/a.png"))
            assert ok.status_code == 200, ok.text
            assert pyvips.Image.new_from_buffer(ok.content, "").width == 40
            assert client.get(thumbor("s3://photos/private.png")).status_code == 403
            assert client.get(thumbor("s3://photos/prefix/missing.png")).status_code == 404
