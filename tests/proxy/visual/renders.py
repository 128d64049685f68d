"""Renders through the real proxy: the ASGI app with a filesystem source, signed URLs, one request each."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from starlette.testclient import TestClient

from imgedge.cache.config import CacheConfig
from imgedge.imaging.encode import EncoderSettings
from imgedge.proxy.app import create_app
from imgedge.proxy.config import ProxyConfig
from imgedge.url.build import build_path
from imgedge.web.limits import WebLimits
from tests.proxy.visual.cases import Render

KEY = b"visual-regression"
METRICS_TOKEN = "visual-regression-metrics"
REFERENCES = Path(__file__).resolve().parent / "references"
MANIFEST = REFERENCES / "manifest.json"
_LEARN_TIMEOUT_S = 120.0


@dataclass(frozen=True, slots=True)
class Delivered:
    body: bytes
    content_type: str
    quality: str  # X-Imgedge-Quality, for q:auto


@contextlib.contextmanager
def proxy(originals: Path, *, learn: bool, encoder: EncoderSettings | None = None) -> Iterator[TestClient]:
    """The proxy app in this process; with `learn`, q:auto searches run in the background as in production
    (without, every q:auto render uses the estimate, whatever ran before it)."""
    config = ProxyConfig(
        data_dir=originals.parent, source="filesystem", originals_dir=originals, keys=(KEY,),
        auto_quality_learn=learn, encoder=encoder or EncoderSettings(),
        web=WebLimits(metrics_token=METRICS_TOKEN),  # the test client is not on loopback
    )  # fmt: skip
    app = create_app(config, cache_config=CacheConfig(disk_dir=None))
    with TestClient(app) as client:
        yield client


def url(render: Render, width: int | None = None) -> str:
    segments = render.segments if width is None else [f"w:{width}", *render.segments[1:]]
    return build_path(render.case.asset, key=KEY, extra=segments)


def deliver(client: TestClient, render: Render, path: str | None = None) -> Delivered:
    """`path`: another URL to render in place of the render's own (to show what a broken step would make)."""
    if render.case.learn_from_width:
        _learn_first(client, render)
    response = client.get(path or url(render), headers={"accept": render.case.accept})
    assert response.status_code == 200, (render.id, response.status_code, response.text[:200])
    return Delivered(
        response.content, response.headers["content-type"], response.headers.get("x-imgedge-quality", "")
    )


def _learn_first(client: TestClient, render: Render) -> None:
    """Renders another width of the same size class and waits until the background search has learned."""
    before = _learned_count(client)
    warm = client.get(url(render, render.case.learn_from_width), headers={"accept": render.case.accept})
    assert warm.status_code == 200 and warm.headers["x-imgedge-quality"].endswith("estimated")
    deadline = time.monotonic() + _LEARN_TIMEOUT_S
    while _learned_count(client) <= before:
        assert time.monotonic() < deadline, "q:auto did not learn in time"
        time.sleep(0.1)


def _learned_count(client: TestClient) -> float:
    scrape = client.get("/metrics", headers={"authorization": f"Bearer {METRICS_TOKEN}"})
    assert scrape.status_code == 200, scrape.text
    lines = scrape.text.splitlines()
    counts = [line.rsplit(" ", 1)[1] for line in lines if line.startswith("imgedge_quality_learned_total{")]
    return sum(float(count) for count in counts)


def manifest_entry(
    render: Render, delivered: Delivered, width: int, height: int, tile_at: tuple[int, int]
) -> dict[str, object]:
    """What a reference records besides its images: exact facts the test checks, and (for reviewers of a
    regeneration) the bytes and q:auto quality, which the test does not check."""
    return {
        "url": url(render).split("/", 2)[2],  # without the signature
        "accept": render.case.accept,
        "content_type": delivered.content_type,
        "width": width,
        "height": height,
        "tile_at": list(tile_at),
        "bytes": len(delivered.body),
        "quality": delivered.quality,
    }
