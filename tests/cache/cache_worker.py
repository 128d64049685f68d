"""A second proxy-like process for the multi-process tests, driven over stdin/stdout (one JSON line each).

serve DISK_DIR [REDIS_URL]     memory + disk (+ redis) cache with a purge broadcaster; commands:
                               put KEY TAG BODY | get KEY | purge TAG | quit
hammer DISK_DIR WRITER N       N rounds of writes and verified reads on a few shared keys
fsize DISK_DIR                 writes under a 4 KiB file-size limit, as a full disk would refuse
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import resource
import signal
import sys
import time
from pathlib import Path

from imgedge.cache.broadcast import PurgeBroadcaster
from imgedge.cache.disk import DiskTier
from imgedge.cache.entry import Entry
from imgedge.cache.memory import MemoryTier
from imgedge.cache.redis_tier import RedisTier
from imgedge.cache.tier import CacheTier
from imgedge.cache.tiered import TieredCache

SHARED_KEYS = [f"v1/var/shared/{i}" for i in range(6)]


def entry_for(body: bytes, tag: str) -> Entry:
    # The ETag is the body's hash, so a reader can tell a torn or mixed-up body from a whole one.
    etag = '"' + hashlib.sha256(body).hexdigest() + '"'
    return Entry(body=body, media_type="image/webp", etag=etag, tags=(tag,), created_at=time.time())


def body_is_whole(entry: Entry) -> bool:
    return entry.etag == '"' + hashlib.sha256(entry.body).hexdigest() + '"'


def say(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


async def serve(disk_dir: Path, redis_url: str | None) -> None:
    tiers: list[CacheTier] = [MemoryTier(1 << 20), DiskTier(disk_dir / "results", 1 << 24)]
    if redis_url:
        tiers.append(RedisTier(redis_url, 1 << 20, 60))
    cache = TieredCache(tiers)
    broadcaster = PurgeBroadcaster([cache], redis_url=redis_url, log_path=disk_dir / "purge.log")
    await broadcaster.start()
    say(ready=True, mode=broadcaster.mode)
    try:
        while True:
            line = await asyncio.to_thread(sys.stdin.readline)
            words = line.split()
            if not words or words[0] == "quit":
                break
            if words[0] == "put":
                await cache.put(words[1], entry_for(words[3].encode(), words[2]), [words[2]])
                say(ok=True)
            elif words[0] == "get":
                entry, tier = await cache.get(words[1])
                say(tier=tier, body=None if entry is None else entry.body.decode())
            elif words[0] == "purge":
                say(removed=await broadcaster.purge(words[1]))
    finally:
        await broadcaster.stop()
        await cache.aclose()


async def hammer(disk_dir: Path, writer: str, rounds: int) -> None:
    # A small bound so that eviction scans run while the other process writes and reads.
    tier = DiskTier(disk_dir, 24 * 1024, touch_interval_s=0)
    rng = random.Random(writer)
    whole = torn = 0
    for i in range(rounds):
        key = rng.choice(SHARED_KEYS)
        body = f"{writer}:{i}:".encode() * rng.randint(1, 2000)
        await tier.put(key, entry_for(body, "asset:shared"), ["asset:shared"])
        got = await tier.get(rng.choice(SHARED_KEYS))
        if got is not None:
            whole += body_is_whole(got)
            torn += not body_is_whole(got)
        if i % 50 == 0:
            await tier.purge("asset:shared")
    say(whole=whole, torn=torn, **tier.stats())


async def write_past_file_size_limit(disk_dir: Path) -> None:
    # Without SIGXFSZ ignored, the kernel would kill us; ignored, write() fails with EFBIG instead.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, hard))
    tier = DiskTier(disk_dir, 1 << 20)
    raised = None
    try:
        await tier.put("big", entry_for(b"b" * 65536, "asset:a"), ["asset:a"])
        big = await tier.get("big")
        await tier.put("small", entry_for(b"s" * 100, "asset:a"), ["asset:a"])
        small = await tier.get("small")
    except Exception as exc:
        raised = repr(exc)
        big = small = None
    leftovers = sorted(p.name for p in (disk_dir / "tmp").iterdir())
    say(raised=raised, big=big is not None, small=small is not None, tmp_files=leftovers, **tier.stats())


def main() -> None:
    mode, disk_dir = sys.argv[1], Path(sys.argv[2])
    if mode == "serve":
        asyncio.run(serve(disk_dir, sys.argv[3] if len(sys.argv) > 3 else None))
    elif mode == "hammer":
        asyncio.run(hammer(disk_dir, sys.argv[3], int(sys.argv[4])))
    elif mode == "fsize":
        asyncio.run(write_past_file_size_limit(disk_dir))
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
