"""Counting which variants are requested (without the asset), bounded, and `GET /admin/popular`."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from imgedge.cache.config import CacheConfig
from imgedge.proxy.app import create_app
from imgedge.proxy.config import ProxyConfig
from imgedge.proxy.popularity import MAX_OPTIONS_LENGTH, SharedPopularity, VariantPopularity
from imgedge.url import ParseSettings, parse_options
from imgedge.url.build import build_path

KEY = b"k"
ADMIN = {"Authorization": "Bearer admin"}


def spec(options: str):  # type: ignore[no-untyped-def]
    return parse_options(options.split("/"), ParseSettings())


def test_counts_are_by_canonical_options_and_format_without_expiry() -> None:
    counts = VariantPopularity(16)
    counts.record(spec("w:640"), "avif")
    counts.record(spec("w:640/exp:4102444800"), "avif")  # one signed URL per visitor: still one variant
    counts.record(spec("w:640"), "webp")
    counts.record(spec("fit:cover/h:100/w:100"), "avif")
    assert counts.counts() == {
        ("w:640", "avif"): 2,
        ("w:640", "webp"): 1,
        ("w:100/h:100/fit:cover", "avif"): 1,
    }


def test_a_full_table_halves_so_the_tail_churns_and_the_head_stays() -> None:
    counts = VariantPopularity(4)
    for _ in range(10):
        counts.record(spec("w:320"), "avif")
    for width in range(100, 200):  # a client walking options: a long tail of one-off variants
        counts.record(spec(f"w:{width}"), "avif")
        assert len(counts.counts()) <= 4
    assert ("w:320", "avif") in counts.counts()


def test_counts_halve_every_half_life() -> None:
    now = [0.0]
    counts = VariantPopularity(8, half_life_s=60, clock=lambda: now[0])
    for _ in range(8):
        counts.record(spec("w:320"), "webp")
    now[0] = 61.0
    counts.record(spec("w:640"), "webp")
    assert counts.counts() == {("w:320", "webp"): 4}  # the fresh one-off fell below one


def test_overlong_options_are_not_reported() -> None:
    counts = VariantPopularity(8)
    long_spec = spec("/".join(["w:10", "bl:1.5", "sh:2", "bg:102030", "q:70", "rot:90"]))
    counts.record(long_spec, "webp")
    assert len(long_spec.canonical()) < MAX_OPTIONS_LENGTH and counts.counts()
    assert VariantPopularity(0).counts() == {}


def test_workers_on_one_host_merge_their_counts(tmp_path: Path) -> None:
    mine = SharedPopularity(VariantPopularity(8), tmp_path)
    for _ in range(3):
        mine.popularity.record(spec("w:640"), "avif")
    rows = mine.snapshot()
    assert rows is not None and mine.snapshot() is None  # nothing new since
    mine.write(rows)
    assert json.loads((tmp_path / f"{os.getpid()}.json").read_text()) == [["w:640", "avif", 3]]

    with subprocess.Popen(["sleep", "60"]) as other, subprocess.Popen(["sleep", "60"]) as quiet:
        try:  # two live processes standing in for other workers, one of which stopped publishing long ago
            rows_of_other = [["w:640", "avif", 2], ["w:320", "webp", 4]]
            (tmp_path / f"{other.pid}.json").write_text(json.dumps(rows_of_other))
            (tmp_path / f"{quiet.pid}.json").write_text(json.dumps([["w:960", "avif", 50]]))
            stale = time.time() - 3600
            os.utime(tmp_path / f"{quiet.pid}.json", (stale, stale))
            (tmp_path / "1.json").write_text("not json")  # pid 1 is alive, but this is unreadable
            gone = _dead_pid()
            (tmp_path / f"{gone}.json").write_text(json.dumps([["w:960", "avif", 50]]))
            ranking = mine.top(10, mine.others())
        finally:
            other.kill()
            quiet.kill()
    assert [(v.options, v.format, v.count) for v in ranking.variants] == [
        ("w:640", "avif", 5), ("w:320", "webp", 4),
    ]  # fmt: skip
    assert ranking.requests == 9 and ranking.processes == 2
    assert not (tmp_path / f"{gone}.json").exists()  # a dead worker's counts are dropped
    mine.withdraw()
    assert not (tmp_path / f"{os.getpid()}.json").exists()


def _dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


@pytest.fixture()
def client(tmp_path: Path, landscape_png: bytes) -> Iterator[TestClient]:
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "coffee.png").write_bytes(landscape_png)
    config = ProxyConfig(
        data_dir=tmp_path, source="filesystem", originals_dir=tmp_path / "o", keys=(KEY,), admin_token="admin"
    )
    app = create_app(config, cache_config=CacheConfig(disk_dir=None))
    with TestClient(app) as test_client:
        yield test_client


def test_only_checked_requests_from_visitors_are_counted(client: TestClient) -> None:
    avif, webp = {"Accept": "image/avif,image/webp,*/*"}, {"Accept": "image/webp,*/*"}
    for headers in (avif, avif, webp):
        assert client.get(build_path("coffee", key=KEY, width=64), headers=headers).status_code == 200
    assert client.get(build_path("coffee", key=KEY, width=32, fmt="png")).status_code == 200
    # Not counted: a bad signature, an image that does not exist, a warm-up (prefetch).
    assert client.get(build_path("coffee", key=b"wrong", width=48)).status_code == 403
    assert client.get(build_path("missing", key=KEY, width=48)).status_code == 404
    prefetch = {**webp, "Sec-Purpose": "prefetch"}
    assert client.get(build_path("coffee", key=KEY, width=96), headers=prefetch).status_code == 200

    assert client.get("/admin/popular").status_code == 401
    body = client.get("/admin/popular", headers=ADMIN).json()
    assert body["requests"] == 4 and body["processes"] == 1
    # As rendered: f:auto URLs without a quality get q:auto (IMGEDGE_AUTO_QUALITY_DEFAULT), so a warm-up of
    # these options lands on the visitors' cache key.
    assert body["variants"] == [
        {"options": "w:64/q:auto", "format": "avif", "count": 2, "share": 0.5},
        {"options": "w:32/f:png", "format": "png", "count": 1, "share": 0.25},
        {"options": "w:64/q:auto", "format": "webp", "count": 1, "share": 0.25},
    ]
    assert len(client.get("/admin/popular?limit=1", headers=ADMIN).json()["variants"]) == 1
    for bad in ("0", "x", "257", "-1", "\u0661\u0662", "1" * 5000):
        assert client.get(f"/admin/popular?limit={bad}", headers=ADMIN).status_code == 400
