"""Many concurrent clients for a bounded time against the running system: no 5xx, every image decodes."""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path

import httpx
import pyvips

from imgedge.secrets import load_signing_keys
from imgedge.url.build import build_path
from tests.conftest import photo
from tests.e2e.serving import imgedge, serve_env, serving

CLIENTS = 24
SECONDS = 8.0
MAX_REQUESTS = 3000
ACCEPTS = ["image/avif,image/webp,*/*", "image/webp,*/*", "*/*"]


async def _client(base: str, paths: list[str], stop_at: float, out: list[httpx.Response], seed: int) -> None:
    rnd = random.Random(seed)
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        while time.monotonic() < stop_at and len(out) < MAX_REQUESTS:
            response = await client.get(rnd.choice(paths), headers={"Accept": rnd.choice(ACCEPTS)})
            out.append(response)


def test_sustained_mixed_load(tmp_path: Path) -> None:
    env = serve_env(tmp_path / "data", IMGEDGE_WORKERS="2")
    files = []
    for name in ("astronaut", "coffee", "chelsea"):
        file = tmp_path / f"{name}.png"
        file.write_bytes(photo(name).write_to_buffer(".png"))
        files.append(str(file))
    asset_ids = imgedge(env, "ingest", *files).splitlines()
    key = load_signing_keys(Path(env["IMGEDGE_DATA_DIR"]))[0]
    paths = [
        build_path(a, key=key, width=w, height=h, fit=fit)
        for a in asset_ids
        for w, h, fit in ((320, None, None), (640, None, None), (200, 200, "cover"), (300, 150, "pad"))
    ] + [build_path(asset_ids[0], key=key, width=150, gravity="sm", height=100, fit="cover", fmt="png")]

    responses: list[httpx.Response] = []
    with serving(env, "--no-sample"):
        base = f"http://127.0.0.1:{env['IMGEDGE_PORT']}"
        stop_at = time.monotonic() + SECONDS

        async def run() -> None:
            await asyncio.gather(*(_client(base, paths, stop_at, responses, i) for i in range(CLIENTS)))

        asyncio.run(run())
    statuses = [r.status_code for r in responses]
    print(f"\nload: {len(responses)} requests, {CLIENTS} clients, {SECONDS:.0f} s, statuses {set(statuses)}")
    assert len(responses) > CLIENTS
    assert all(s == 200 for s in statuses), {s: statuses.count(s) for s in set(statuses)}
    # Each distinct body once: ~3,000 responses share a few dozen variants, and decoding every copy took most
    # of the test's time.
    for body in {response.content for response in responses}:
        image = pyvips.Image.new_from_buffer(body, "")
        assert image.width > 0 and image.avg() >= 0  # decodes all the way, not just the header
