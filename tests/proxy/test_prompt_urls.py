"""Prompt URLs through the real proxy in front of the real generator (tiny model) over HTTP."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from imgedge.cache.config import CacheConfig
from imgedge.generator.app import create_app as create_generator
from imgedge.generator.config import GeneratorConfig
from imgedge.generator.models.diffusers_directory import DiffusersDirectoryBackend
from imgedge.generator.outbound.transform_urls import TransformUrls
from imgedge.proxy.app import create_app as create_proxy
from imgedge.proxy.config import ProxyConfig
from imgedge.url.build import build_path
from imgedge.url.prompt import Generation, build_prompt_path
from tests.conftest import running

KEY = b"prompt-url-key"
TOKEN, ADMIN = "origin-token", "admin-token"


@dataclass
class Stack:
    generator: str
    proxy: str
    client: httpx.Client
    db_path: Path
    tmp: Path

    def jobs(self) -> int:
        with sqlite3.connect(self.db_path) as db:
            return int(db.execute("SELECT COUNT(*) FROM jobs").fetchone()[0])

    def proxy_app(self, **overrides: Any) -> Any:
        config = ProxyConfig(
            data_dir=self.tmp, keys=(KEY,), origin_url=self.generator, origin_token=TOKEN, admin_token=ADMIN,
            **overrides,
        )  # fmt: skip
        return create_proxy(config, cache_config=CacheConfig(disk_dir=None))


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, tiny_model: DiffusersDirectoryBackend) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("prompt-urls")
    config = GeneratorConfig(
        data_dir=tmp / "data", proxy_token=TOKEN, admin_token=ADMIN, upload_secret="u", default_steps=2,
        proxy_url="http://127.0.0.1:9", eager_variants=False, janitor_interval_s=3600,
        moderation_blocklist=("forbidden",), moderation_review_patterns=("harbour",),
    )  # fmt: skip
    generator = create_generator(config, model=tiny_model, urls=TransformUrls(KEY, (64,), ""))
    with running(generator) as generator_url:
        placeholder = Stack(generator_url, "", httpx.Client(timeout=120), config.db_path, tmp)
        with running(placeholder.proxy_app()) as proxy_url:
            placeholder.proxy = proxy_url
            yield placeholder
        placeholder.client.close()


def prompt_path(prompt: str, *options: str, seed: int = 3, size: int = 64) -> str:
    return build_prompt_path(Generation.of(prompt, seed, size, size), key=KEY, options=options)


def test_first_request_generates_later_ones_hit_and_share_the_asset_variants(stack: Stack) -> None:
    path = prompt_path("a lighthouse at night", "w:48", "f:png")
    first = stack.client.get(stack.proxy + path)
    assert first.status_code == 200, first.text
    assert first.headers["content-type"] == "image/png" and "fwd=miss" in first.headers["cache-status"]
    assert first.headers["cache-control"] == "public, max-age=31536000, immutable"
    asset_id = first.headers["surrogate-key"]
    again = stack.client.get(stack.proxy + path)
    assert again.content == first.content and "hit" in again.headers["cache-status"]
    # The asset URL of the same variant is the same cache entry.
    by_id = stack.client.get(stack.proxy + build_path(asset_id, key=KEY, width=48, fmt="png"))
    assert by_id.content == first.content and "hit" in by_id.headers["cache-status"]
    assert stack.jobs() == 1


def test_only_signed_prompt_urls_reach_the_generator(stack: Stack) -> None:
    before = stack.jobs()
    path = prompt_path("a signed prompt")
    forged = path.replace(path.split("/")[2], "A" * 43)
    unsigned = path.replace(path.split("/")[2], "_")
    for bad in (forged, unsigned):
        assert stack.client.get(stack.proxy + bad).status_code == 403
    padded = path + "="
    assert stack.client.get(stack.proxy + padded).status_code == 400
    assert stack.jobs() == before


def test_blocked_prompts_are_451_without_a_generation(stack: Stack) -> None:
    before = stack.jobs()
    response = stack.client.get(stack.proxy + prompt_path("something forbidden"))
    assert response.status_code == 451 and response.headers["cache-control"] == "no-store"
    assert stack.jobs() == before


def test_prompts_held_for_review_are_served_as_pending(stack: Stack) -> None:
    # As for any pending asset: only through an expiring URL (the creator's preview), never immutable.
    assert stack.client.get(stack.proxy + prompt_path("a harbour", "w:32")).status_code == 403
    response = stack.client.get(
        stack.proxy + prompt_path("a harbour", "w:32", f"exp:{int(time.time()) + 600}")
    )
    assert response.status_code == 200
    assert "immutable" not in response.headers["cache-control"]


def test_a_wait_that_runs_out_is_503_never_cached_then_the_image(stack: Stack) -> None:
    with running(stack.proxy_app(prompt_url_wait_s=0.0)) as impatient:
        path = prompt_path("a slow orchard", "w:40", seed=99)
        response = stack.client.get(impatient + path)
        assert response.status_code == 503
        assert response.headers["retry-after"] == "5" and response.headers["cache-control"] == "no-store"
        job = stack.client.post(
            stack.generator + "/v1/images",
            json={"prompt": "a slow orchard", "seed": 99, "width": 64, "height": 64},
            headers={"Authorization": f"Bearer {TOKEN}"},
        ).json()  # the same request: the job the proxy started
        while job.get("status") not in ("done", "failed"):
            job = stack.client.get(f"{stack.generator}/v1/jobs/{job.get('job_id') or job['id']}").json()
        assert stack.client.get(impatient + path).status_code == 200


def test_a_purge_of_the_asset_reaches_its_prompt_urls(stack: Stack) -> None:
    path = prompt_path("a purged meadow", "w:40")
    first = stack.client.get(stack.proxy + path)
    jobs = stack.jobs()
    purge = stack.client.post(
        f"{stack.proxy}/admin/purge/{first.headers['surrogate-key']}",
        headers={"Authorization": f"Bearer {ADMIN}"},
    )
    assert purge.status_code in (200, 202)
    again = stack.client.get(stack.proxy + path)
    assert "fwd=miss" in again.headers["cache-status"] and again.content == first.content
    assert stack.jobs() == jobs  # resolved again by reuse, not generated again
