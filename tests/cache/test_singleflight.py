from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable

import pytest

from imgedge.cache.singleflight import SingleFlight

CALLERS = 50


async def until(condition_met: Callable[[], bool]) -> None:
    # Lets the other tasks run until they have all reached their await; bounded so a bug fails, not hangs.
    for _ in range(1000):
        if condition_met():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never became true")


async def test_concurrent_callers_share_one_execution() -> None:
    flight = SingleFlight()
    gate = asyncio.Event()
    calls = 0

    async def transform() -> bytes:
        nonlocal calls
        calls += 1
        await gate.wait()
        return b"variant-bytes"

    tasks = [asyncio.create_task(flight.run("k", transform)) for _ in range(CALLERS)]
    await until(lambda: flight.collapsed == CALLERS - 1)
    gate.set()
    results = await asyncio.gather(*tasks)
    assert calls == 1
    assert {body for body, _ in results} == {b"variant-bytes"}
    assert sum(collapsed for _, collapsed in results) == CALLERS - 1
    assert flight.in_flight() == 0
    assert flight.stats() == {"leaders": 1, "collapsed": CALLERS - 1, "failures": 0, "in_flight": 0}


async def test_an_exception_reaches_every_caller_and_releases_the_key() -> None:
    flight = SingleFlight()
    gate = asyncio.Event()
    calls = 0

    async def failing() -> bytes:
        nonlocal calls
        calls += 1
        await gate.wait()
        raise OSError("origin down")

    tasks = [asyncio.create_task(flight.run("k", failing)) for _ in range(CALLERS)]
    await until(lambda: flight.collapsed == CALLERS - 1)
    gate.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert calls == 1
    assert all(isinstance(r, OSError) and str(r) == "origin down" for r in results)
    assert flight.failures == 1
    gate.clear()

    async def working() -> bytes:
        return b"ok"

    assert await flight.run("k", working) == (b"ok", False)


async def test_different_keys_run_separately() -> None:
    flight = SingleFlight()

    async def value(v: int) -> int:
        await asyncio.sleep(0)
        return v

    results = await asyncio.gather(*(flight.run(f"k{i}", functools.partial(value, i)) for i in range(5)))
    assert results == [(i, False) for i in range(5)]


async def test_a_caller_going_away_does_not_cancel_the_others() -> None:
    flight = SingleFlight()
    gate = asyncio.Event()

    async def transform() -> str:
        await gate.wait()
        return "done"

    leader = asyncio.create_task(flight.run("k", transform))
    follower = asyncio.create_task(flight.run("k", transform))
    await until(lambda: flight.collapsed == 1)
    leader.cancel()
    with pytest.raises(asyncio.CancelledError):
        await leader
    gate.set()
    assert await follower == ("done", True)
