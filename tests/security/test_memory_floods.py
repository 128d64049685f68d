"""Memory does not grow with attacker input: 10,000 distinct rejected requests of the largest size the server
still parses leave the proxy within 32 MiB of where it was, and it keeps answering."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from benchmarks.raw_http import pipelined, request_bytes
from tests.security.conftest import MIB, Edge, report, settled_rss

FLOOD = 10_000
LARGEST = 16 * 1024 - 512  # request line + headers just under IMGEDGE_MAX_HEADER_BYTES
BOUND = 32 * MIB


def flood(edge: Edge, requests: Iterator[bytes]) -> tuple[Counter[int], int]:
    before = settled_rss(edge, "proxy")
    statuses = Counter(pipelined(edge.port, requests, window=32))
    return statuses, settled_rss(edge, "proxy") - before


def test_distinct_long_signatures_leave_nothing_behind(edge: Edge) -> None:
    def requests() -> Iterator[bytes]:
        for i in range(FLOOD):
            signature = f"{i:08d}".ljust(LARGEST - 200, "A")
            yield request_bytes("GET", f"/{signature}/w:100/{edge.photo}")

    statuses, grew = flood(edge, requests())
    report("10k long bad signatures", statuses=dict(statuses), rss_growth_mib=round(grew / MIB, 1))
    assert statuses == {403: FLOOD}
    assert grew < BOUND
    assert edge.answers()


def test_distinct_wrong_signatures_of_the_right_shape_are_not_memoised(edge: Edge) -> None:
    wrong = "A" * 43

    def requests() -> Iterator[bytes]:
        for i in range(FLOOD):
            yield request_bytes("GET", f"/{wrong}/w:{i % 8000 + 1}/bg:{i:06x}/q:{i % 100 + 1}/{edge.photo}")

    statuses, grew = flood(edge, requests())
    report(
        "10k wrong signatures, distinct options", statuses=dict(statuses), rss_growth_mib=round(grew / MIB, 1)
    )
    assert statuses == {403: FLOOD}
    assert grew < BOUND
    assert edge.answers()


def test_distinct_accept_headers_share_one_negotiation(edge: Edge) -> None:
    path = edge.url(edge.photo, width=80, fmt="auto")
    padding = LARGEST - len(path) - 200

    def requests() -> Iterator[bytes]:
        for i in range(FLOOD):
            accept = f"image/webp,image/x-{i:08d}-{'a' * padding},*/*;q=0.8"
            yield request_bytes("GET", path, [("Accept", accept)])

    statuses, grew = flood(edge, requests())
    report("10k distinct Accept headers", statuses=dict(statuses), rss_growth_mib=round(grew / MIB, 1))
    assert statuses == {200: FLOOD}
    assert grew < BOUND
    assert edge.answers()
