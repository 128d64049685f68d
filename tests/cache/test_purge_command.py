from __future__ import annotations

import argparse
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from imgedge.cache.commands import default_proxy_url, register
from imgedge.secrets import load_or_create


class AdminEndpoint(ThreadingHTTPServer):
    """A real HTTP server standing in for the proxy's admin endpoint, recording what it was sent."""

    requests: list[tuple[str, str, str | None]]
    status: int


class Handler(BaseHTTPRequestHandler):
    server: AdminEndpoint

    def do_POST(self) -> None:
        self.server.requests.append(("POST", self.path, self.headers.get("Authorization")))
        body = b'{"purged": 3}'
        self.send_response(self.server.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def endpoint() -> Iterator[AdminEndpoint]:
    server = AdminEndpoint(("127.0.0.1", 0), Handler)
    server.requests, server.status = [], 200
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="imgedge")
    register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(list(argv))


def url_of(server: AdminEndpoint) -> str:
    host, port = server.server_address[:2]
    return f"http://{host!s}:{port}"


def test_posts_to_the_admin_endpoint_with_the_token_from_env(
    endpoint: AdminEndpoint, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("IMGEDGE_ADMIN_TOKEN", "s3cret")
    args = parse("purge", "0123abcd", "--proxy-url", url_of(endpoint))
    assert args.func(args) == 0
    assert endpoint.requests == [("POST", "/admin/purge/0123abcd", "Bearer s3cret")]
    assert '"purged": 3' in capsys.readouterr().out


def test_token_comes_from_the_data_dir_when_env_is_unset(
    endpoint: AdminEndpoint, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("IMGEDGE_ADMIN_TOKEN", raising=False)
    token = load_or_create(tmp_path, "admin.token")
    args = parse("purge", "a/b", "--proxy-url", url_of(endpoint), "--data-dir", str(tmp_path))
    assert args.func(args) == 0
    assert endpoint.requests == [("POST", "/admin/purge/a%2Fb", f"Bearer {token}")]


def test_refusal_is_a_failing_exit_status(
    endpoint: AdminEndpoint, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("IMGEDGE_ADMIN_TOKEN", "wrong")
    endpoint.status = 403
    args = parse("purge", "0123abcd", "--proxy-url", url_of(endpoint))
    assert args.func(args) == 1
    assert "HTTP 403" in capsys.readouterr().err


def test_default_proxy_url() -> None:
    assert default_proxy_url({}) == "http://127.0.0.1:8080"
    assert default_proxy_url({"IMGEDGE_HOST": "0.0.0.0", "IMGEDGE_PORT": "9000"}) == "http://0.0.0.0:9000"


def test_purge_by_source_url(
    endpoint: AdminEndpoint, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("IMGEDGE_ADMIN_TOKEN", "s3cret")
    args = parse("purge", "--source", "https://img.test/a.png?v=1", "--proxy-url", url_of(endpoint))
    assert args.func(args) == 0
    assert endpoint.requests == [
        ("POST", "/admin/purge-source?url=https%3A%2F%2Fimg.test%2Fa.png%3Fv%3D1", "Bearer s3cret")
    ]
    for argv in (("purge",), ("purge", "abc", "--source", "https://img.test/a.png")):
        args = parse(*argv, "--proxy-url", url_of(endpoint))
        assert args.func(args) == 2
    assert "one of them" in capsys.readouterr().err
