"""Request line + headers: at most IMGEDGE_MAX_HEADER_BYTES (431 and the connection closes, enforced in the
HTTP parser, so an oversized head is never held whole), and complete within IMGEDGE_HEADER_TIMEOUT (408 and
closed; a connection that says nothing is closed silently). Both services, real sockets."""

from __future__ import annotations

import time

import pytest

from benchmarks.raw_http import Connection, pipelined, request_bytes
from tests.security.conftest import HEADER_TIMEOUT_S, MIB, Edge, report, settled_rss

LIMIT = 16 * 1024


def one_request(port: int, head_padding: int) -> tuple[int, float]:
    started = time.monotonic()
    with Connection(port, timeout_s=30) as conn:
        conn.send(request_bytes("GET", "/healthz", [("X-Pad", "a" * head_padding)]))
        answer = conn.read_answer()
    return answer.status, time.monotonic() - started


@pytest.mark.parametrize("service", ["proxy", "generator"])
def test_headers_at_the_limit_pass_and_one_byte_more_is_431(edge: Edge, service: str) -> None:
    port = edge.port if service == "proxy" else edge.generator_port
    overhead = len(request_bytes("GET", "/healthz", [("X-Pad", "")]))
    assert one_request(port, LIMIT - overhead)[0] == 200
    assert one_request(port, LIMIT - overhead + 1)[0] == 431


@pytest.mark.parametrize("service", ["proxy", "generator"])
def test_a_multi_megabyte_header_is_refused_as_it_arrives(edge: Edge, service: str) -> None:
    port = edge.port if service == "proxy" else edge.generator_port
    before = settled_rss(edge, service)
    started = time.monotonic()
    with Connection(port, timeout_s=30) as conn:
        conn.send(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ")
        sent = 0
        while sent < 64 * MIB and conn.send(b"a" * MIB):
            sent += MIB
        answer = conn.read_answer()
        closed = conn.wait_closed(5) is not None
    seconds = time.monotonic() - started
    grew = settled_rss(edge, service) - before
    report(
        f"{service}: endless header",
        status=answer.status,
        mib_accepted=sent // MIB,
        seconds=round(seconds, 3),
    )
    assert answer.status == 431 and closed
    assert sent < 16 * MIB  # the server stopped reading long before the client stopped writing
    assert grew < 16 * MIB
    assert edge.answers()


@pytest.mark.parametrize("service", ["proxy", "generator"])
def test_headers_trickled_in_are_cut_off_at_the_header_timeout(edge: Edge, service: str) -> None:
    port = edge.port if service == "proxy" else edge.generator_port
    with Connection(port, timeout_s=10) as conn:
        started = time.monotonic()
        conn.send(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        while conn.send(b"X-Drip: a\r\n") and time.monotonic() - started < 10 * HEADER_TIMEOUT_S:
            if conn.wait_closed(0.2) is not None:
                break
        answer = conn.read_answer()
        seconds = time.monotonic() - started
    report(f"{service}: trickled headers", status=answer.status, closed_after_s=round(seconds, 2))
    assert answer.status == 408
    assert seconds < HEADER_TIMEOUT_S + 1.0


def test_a_silent_connection_is_closed(edge: Edge) -> None:
    with Connection(edge.port, timeout_s=10) as conn:
        closed_after = conn.wait_closed(10 * HEADER_TIMEOUT_S)
    assert closed_after is not None and closed_after < HEADER_TIMEOUT_S + 1.0


def test_keep_alive_and_pipelining_still_work_under_the_limits(edge: Edge) -> None:
    path = edge.url(edge.photo, width=64)
    statuses = pipelined(edge.port, [request_bytes("GET", path)] * 200, window=50)
    assert statuses == [200] * 200
    with Connection(edge.port, timeout_s=10) as conn:
        for _ in range(3):
            conn.send(request_bytes("GET", path))
            assert conn.read_answer().status == 200
            time.sleep(
                HEADER_TIMEOUT_S / 2
            )  # idle between requests is keep-alive's business, not the header's
