from __future__ import annotations

import os
import time
from typing import Any

import httpx

from imgedge.generator.assets.canonical import canonicalize
from imgedge.generator.assets.janitor import Janitor
from imgedge.generator.assets.records import Provenance
from imgedge.generator.config import GeneratorConfig
from imgedge.generator.outbound.proxy_client import ProxyClient
from imgedge.generator.outbound.purge_outbox import PurgeOutbox
from imgedge.generator.storage.blobs import FilesystemBlobStore
from tests.generator.conftest import Receiver, ServerThread, database_for, store_for, submit


def small_png(shade: int) -> bytes:
    import pyvips

    png: bytes = (pyvips.Image.black(8, 8, bands=3) + shade).cast("uchar").write_to_buffer(".png")
    return png


async def test_expired_temporary_assets_are_deleted_and_purged(
    config: GeneratorConfig, receiver: tuple[Receiver, str]
) -> None:
    recv, proxy_url = receiver
    store = store_for(config)
    keep = store.put(canonicalize(small_png(10), max_pixels=100), Provenance(), temporary=False)
    temp = store.put(
        canonicalize(small_png(20), max_pixels=100), Provenance(), temporary=True, expires_at=time.time() + 60
    )
    outbox = PurgeOutbox(database_for(config))
    async with httpx.AsyncClient() as http:
        janitor = Janitor(store, outbox, ProxyClient(http, proxy_url, "admin-token"), 3600)
        assert await janitor.run_once(now=time.time()) == []
        assert await janitor.run_once(now=time.time() + 61) == [temp.id]
    assert store.get(temp.id) is None
    assert not FilesystemBlobStore(config.originals_dir).path_for(temp.id).exists()
    assert store.get(keep.id) is not None
    assert [r.path for r in recv.requests] == [f"/admin/purge/{temp.id}"]
    assert outbox.pending() == []


async def test_the_first_pass_sweeps_what_a_crash_left_in_the_blob_store(
    config: GeneratorConfig, receiver: tuple[Receiver, str]
) -> None:
    store = store_for(config)
    kept = store.put(canonicalize(small_png(40), max_pixels=100), Provenance(), temporary=False)
    blob = FilesystemBlobStore(config.originals_dir).path_for(kept.id)
    crashed, writing = blob.parent / ".tmp-crashed.png", blob.parent / ".tmp-writing.png"
    for leftover in (crashed, writing):
        leftover.write_bytes(b"half an original")
    an_hour_ago = time.time() - 3700
    os.utime(crashed, (an_hour_ago, an_hour_ago))  # a put in progress elsewhere is seconds old
    async with httpx.AsyncClient() as http:
        janitor = Janitor(store, PurgeOutbox(database_for(config)), ProxyClient(http, receiver[1], "t"), 3600)
        await janitor.run_once()
        assert not crashed.exists() and writing.exists()
        os.utime(writing, (an_hour_ago, an_hour_ago))
        await janitor.run_once()
    assert writing.exists()  # once per start: the sweep lists every blob
    assert blob.exists() and store.get(kept.id) is not None


async def test_purges_wait_for_a_proxy_that_is_down(config: GeneratorConfig) -> None:
    outbox = PurgeOutbox(database_for(config))
    outbox.add("a" * 32)
    recv = Receiver()
    server = ServerThread(recv.app())
    down_url = server.url  # the port is bound but not yet listening: connections are refused
    async with httpx.AsyncClient() as http:
        proxy = ProxyClient(http, down_url, "admin-token")
        now = time.time()
        assert await outbox.flush(proxy.purge, now) == 1
        # Backing off: not retried immediately.
        assert await outbox.flush(proxy.purge, now + 1) == 1
        assert recv.requests == []
        with server:
            assert await outbox.flush(proxy.purge, now + 3600) == 0
    assert [r.path for r in recv.requests] == ["/admin/purge/" + "a" * 32]


def test_temporary_generation_gets_an_expiry(serve: Any, config: GeneratorConfig) -> None:
    served = serve(config, temporary_ttl_s=120)
    job = served.wait_job(submit(served, prompt="short lived", temporary=True)["job_id"])
    with served.client() as client:
        meta = client.get(f"/v1/images/{job['asset_id']}").json()
    assert meta["temporary"] is True
    assert meta["created_at"] + 100 < meta["expires_at"] <= meta["created_at"] + 121


def test_storing_a_temporary_asset_permanently_keeps_it(config: GeneratorConfig) -> None:
    store = store_for(config)
    canonical = canonicalize(small_png(30), max_pixels=100)
    store.put(canonical, Provenance(), temporary=True, expires_at=time.time())
    record = store.put(canonical, Provenance(), temporary=False)
    assert record.temporary is False and record.expires_at is None
    assert store.expired(time.time() + 10) == []
