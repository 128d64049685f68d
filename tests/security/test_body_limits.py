"""Bodies: every endpoint refuses an over-limit Content-Length before reading it and a chunked body as soon
as it passes the limit (413, connection closed), memory flat; a body that stalls gets 408."""

from __future__ import annotations

import socket
import time

import pytest

from benchmarks.raw_http import Connection
from tests.security.conftest import MIB, Edge, report, settled_rss

BODY = 300 * MIB


def send_huge(port: int, method: str, path: str, *, chunked: bool) -> tuple[int, int, float, bool]:
    """Streams up to 300 MiB; returns (status, MiB the server let in before answering, seconds, closed)."""
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {BODY}"
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{framing}\r\n\r\n"
    )
    piece = b"x" * MIB
    started = time.monotonic()
    with Connection(port, timeout_s=30) as conn:
        conn.send(head.encode())
        conn.sock.settimeout(0.5)
        sent = 0
        while sent < BODY:
            try:
                conn.sock.sendall(f"{MIB:x}\r\n".encode() + piece + b"\r\n" if chunked else piece)
            except (TimeoutError, OSError):
                break  # the server stopped reading, or closed
            sent += MIB
            try:
                if conn.sock.recv(1, socket.MSG_PEEK):
                    break  # it has answered
            except (TimeoutError, BlockingIOError):
                pass
        conn.sock.settimeout(30)
        answer = conn.read_answer()
        closed = conn.wait_closed(5) is not None
    return answer.status, sent // MIB, time.monotonic() - started, closed


@pytest.mark.parametrize(
    ("service", "method", "path", "chunked_status"),
    [
        ("generator", "POST", "/v1/images", 413),  # a JSON endpoint: refused as the body passes 64 KiB
        ("generator", "PUT", "/v1/uploads/not-a-token", 403),  # uploads: the token is checked before reading
        ("generator", "POST", "/v1/jobs/x", 405),  # a route that reads no body at all
        ("proxy", "POST", "/admin/purge/x", 401),  # no proxy route takes a body
        ("proxy", "GET", "/x/y/z", 403),
    ],
)
@pytest.mark.parametrize("chunked", [False, True], ids=["declared", "chunked"])
def test_a_300_mib_body_is_refused_without_being_read(
    edge: Edge, service: str, method: str, path: str, chunked_status: int, chunked: bool
) -> None:
    port = edge.port if service == "proxy" else edge.generator_port
    before = settled_rss(edge, service)
    status, let_in, seconds, closed = send_huge(port, method, path, chunked=chunked)
    grew = settled_rss(edge, service) - before
    name = f"{service} {method} {path} {'chunked' if chunked else 'declared'} 300 MiB"
    report(name, status=status, mib_in=let_in, seconds=round(seconds, 2), closed=closed, rss_mib=grew // MIB)
    # A declared length over the route's limit is refused before any route runs; a chunked body either
    # passes the limit (413) or gets the route's own refusal first — and the connection closes either way.
    assert status == (chunked_status if chunked else 413)
    assert closed
    assert let_in <= 32  # what the socket buffers hold while the answer is on its way, not the body
    assert grew < 16 * MIB
    assert edge.answers()


def test_a_body_that_stalls_is_408(edge: Edge) -> None:
    with Connection(edge.generator_port, timeout_s=10) as conn:
        started = time.monotonic()
        conn.send(
            b"POST /v1/uploads HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100\r\n\r\n{"
        )
        answer = conn.read_answer()
    assert answer.status == 408
    assert time.monotonic() - started < 3


def test_a_body_within_its_limit_is_read(edge: Edge) -> None:
    with edge.client(behind="198.51.100.40") as client:
        response = client.post("/v1/uploads", json={"temporary": True})
    assert response.status_code == 201
