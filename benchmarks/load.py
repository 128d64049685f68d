"""Pick the load client: wrk where installed, else the asyncio httpx client."""

from __future__ import annotations

from pathlib import Path

from benchmarks import httpx_load, wrk_load
from benchmarks.load_types import LoadResult, LoadSpec


def run(spec: LoadSpec, scratch: Path, *, prefer_wrk: bool = True) -> LoadResult:
    if not spec.base_url.startswith("http://127.0.0.1:"):
        raise ValueError(f"load only goes to 127.0.0.1, not {spec.base_url}")
    if prefer_wrk and wrk_load.available():
        return wrk_load.run(spec, scratch)
    return httpx_load.run(spec)
