from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable
from pathlib import Path

from imgedge.cache.disk import DiskTier
from imgedge.cache.entry import Entry

EntryFactory = Callable[..., Entry]
SpawnWorker = Callable[..., Awaitable[asyncio.subprocess.Process]]
SHARED_KEYS = [f"v1/var/shared/{i}" for i in range(6)]


async def test_two_processes_hammering_one_directory_never_see_a_torn_entry(
    tmp_path: Path, spawn_worker: SpawnWorker
) -> None:
    procs = [await spawn_worker("hammer", str(tmp_path), writer, "400") for writer in ("w1", "w2")]
    outputs = asyncio.gather(*(p.communicate() for p in procs))
    # This process reads the same keys while the two workers write, evict and purge them.
    reader = DiskTier(tmp_path, 24 * 1024)
    whole = torn = 0
    while not outputs.done():
        for key in SHARED_KEYS:
            got = await reader.get(key)
            if got is not None:
                ok = got.etag == '"' + hashlib.sha256(got.body).hexdigest() + '"'
                whole += ok
                torn += not ok
    reports = [json.loads(out) for out, _ in await outputs]
    assert [p.returncode for p in procs] == [0, 0]
    assert torn == 0
    assert whole > 0
    assert reader.stats()["corrupt"] == 0
    for report in reports:
        assert report["torn"] == 0
        assert report["corrupt"] == 0
        assert report["errors"] == 0
        assert report["whole"] > 0
    assert sum(r["evictions"] for r in reports) > 0
    assert list((tmp_path / "tmp").iterdir()) == []


async def test_entry_written_by_one_process_is_read_and_purged_by_another(
    tmp_path: Path, spawn_worker: SpawnWorker, make_entry: EntryFactory
) -> None:
    tier = DiskTier(tmp_path / "results", 1 << 20)
    proc = await spawn_worker("serve", str(tmp_path))
    try:
        assert proc.stdin is not None and proc.stdout is not None
        assert json.loads(await proc.stdout.readline())["ready"]

        async def ask(line: str) -> dict[str, object]:
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write(line.encode() + b"\n")
            await proc.stdin.drain()
            reply: dict[str, object] = json.loads(await proc.stdout.readline())
            return reply

        assert await ask("put k1 asset:a from-worker") == {"ok": True}
        got = await tier.get("k1")
        assert got is not None and got.body == b"from-worker"
        await tier.put("k2", make_entry(b"from-test", tags=("asset:a",)), ["asset:a"])
        assert await ask("get k2") == {"tier": "disk", "body": "from-test"}
        assert await tier.purge("asset:a") == 2
        assert await tier.get("k1") is None
    finally:
        if proc.stdin is not None:
            proc.stdin.write(b"quit\n")
        await proc.wait()
