from __future__ import annotations

import time

import httpx

from imgedge.generator.outbound.webhooks import deliver, sign, verify
from tests.generator.conftest import Receiver, ServerThread


def test_signature_binds_body_secret_and_time() -> None:
    now = int(time.time())
    header = sign("s", now, b"{}")
    assert verify("s", header, b"{}", now=now)
    assert not verify("s", header, b"{ }", now=now)
    assert not verify("t", header, b"{}", now=now)
    assert not verify("s", header, b"{}", now=now + 3600)
    assert not verify("s", "garbage", b"{}", now=now)


async def no_sleep(_: float) -> None:
    return None


async def test_retries_until_the_receiver_accepts(receiver: tuple[Receiver, str]) -> None:
    recv, url = receiver
    recv.statuses = [500, 503]
    delays: list[float] = []

    async def record_sleep(seconds: float) -> None:
        delays.append(seconds)

    async with httpx.AsyncClient() as client:
        ok = await deliver(
            client, url + "/h", {"a": 1}, secret="s", attempts=5, backoff_s=0.5, sleep=record_sleep
        )
    assert ok
    assert [r.headers["x-imgedge-delivery-attempt"] for r in recv.requests] == ["1", "2", "3"]
    assert delays == [0.5, 1.0]  # exponential backoff
    assert all(verify("s", r.headers["x-imgedge-signature"], r.body, now=time.time()) for r in recv.requests)


async def test_gives_up_after_the_attempt_budget(receiver: tuple[Receiver, str]) -> None:
    recv, url = receiver
    recv.statuses = [500] * 10
    async with httpx.AsyncClient() as client:
        assert not await deliver(client, url, {}, secret="s", attempts=3, backoff_s=0, sleep=no_sleep)
    assert len(recv.requests) == 3


async def test_client_errors_are_not_retried(receiver: tuple[Receiver, str]) -> None:
    recv, url = receiver
    recv.statuses = [410]
    async with httpx.AsyncClient() as client:
        assert not await deliver(client, url, {}, secret="s", attempts=3, backoff_s=0, sleep=no_sleep)
    assert len(recv.requests) == 1


async def test_unreachable_receiver_is_retried_then_given_up() -> None:
    unused = ServerThread(Receiver().app())  # bound, never started: connections are refused
    async with httpx.AsyncClient() as client:
        assert not await deliver(client, unused.url, {}, secret="s", attempts=2, backoff_s=0, sleep=no_sleep)
    unused.sock.close()
