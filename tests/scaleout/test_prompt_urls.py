"""Two proxy instances sharing Redis serve one prompt URL while its one generation runs; later requests are
ordinary hits on either instance and through Varnish."""

from __future__ import annotations

import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.scaleout.conftest import Stack
from tests.scaleout.processes import imgedge


def jobs_for(db_path: Path, prompt: str) -> int:
    with sqlite3.connect(db_path) as db:
        rows = db.execute("SELECT request FROM jobs").fetchall()
    return sum(1 for (request,) in rows if f'"prompt": "{prompt}"' in request)


def test_two_proxies_serve_one_prompt_url_from_one_generation(stack: Stack) -> None:
    prompt = "two proxies, one lighthouse"
    path = imgedge(stack.env, "url", "--prompt", prompt, "--seed", "21", "--gen-width", "128",
                   "--gen-height", "128", "--width", "96", "--format", "webp")  # fmt: skip
    start = threading.Barrier(6)

    def fetch(base: str) -> httpx.Response:
        start.wait()
        return httpx.get(base + path, timeout=120)

    with ThreadPoolExecutor(6) as pool:
        responses = list(pool.map(fetch, [stack.proxy_a, stack.proxy_b] * 3))
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    assert len({r.content for r in responses}) == 1 and len({r.headers["etag"] for r in responses}) == 1
    assert jobs_for(Path(stack.env["IMGEDGE_DATA_DIR"]) / "imgedge.sqlite3", prompt) == 1
    asset_id = responses[0].headers["surrogate-key"]
    # Later requests are ordinary hits on both instances; the asset's own URL names the same entry.
    for base in (stack.proxy_a, stack.proxy_b):
        later = httpx.get(base + path, timeout=60)
        assert later.status_code == 200 and "; hit" in later.headers["cache-status"], later.headers
    by_id = httpx.get(
        stack.proxy_b + imgedge(stack.env, "url", asset_id, "--width", "96", "--format", "webp")
    )
    assert by_id.content == responses[0].content and "; hit" in by_id.headers["cache-status"]
    # Through the CDN: cached there like any variant.
    first, second = (httpx.get(stack.varnish + path, timeout=60) for _ in range(2))
    assert first.content == second.content == responses[0].content
    assert (first.headers["x-cache"], second.headers["x-cache"]) == ("MISS", "HIT")
