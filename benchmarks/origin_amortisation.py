"""Workload 4: N distinct variants of one never-requested asset at once → how many origin fetches."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx

from benchmarks.imgedge_server import ImgedgeServer
from benchmarks.load_types import Request


@dataclass(frozen=True, slots=True)
class OriginResult:
    variants: int
    ok: int
    origin_fetches: int
    proxy_processes: int  # each process has its own source cache: the floor is one fetch per process


async def _burst(base_url: str, requests: list[Request]) -> int:
    async with httpx.AsyncClient(base_url=base_url, timeout=60.0) as client:
        responses = await asyncio.gather(*(client.get(r.path) for r in requests), return_exceptions=True)
    return sum(1 for r in responses if isinstance(r, httpx.Response) and r.status_code == 200)


def run(server: ImgedgeServer, requests: list[Request], processes: int) -> OriginResult:
    before = server.origin_fetches()
    ok = asyncio.run(_burst(server.base_url, requests))
    after = server.origin_fetches()
    return OriginResult(len(requests), ok, after - before, processes)
