"""Webhooks as receivers see them: Standard Webhooks headers verified by the `standardwebhooks` library,
retries with one id, deliveries that outlive their process, and connections to the checked address."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from imgedge.generator.background import Background
from imgedge.generator.metrics import Metrics
from imgedge.generator.outbound import destinations
from imgedge.generator.outbound.job_webhooks import JobWebhooks, WebhookSettings
from imgedge.generator.outbound.signing import new_webhook_secret, signing_key, verify
from imgedge.generator.outbound.webhook_outbox import LEASE_S, WebhookOutbox
from imgedge.generator.storage.database import SqliteDatabase
from tests.generator.conftest import WEBHOOK_SECRET, Receiver, ServerThread

BODY = json.dumps({"type": "job.done", "timestamp": "2026-01-01T00:00:00.000Z", "data": {}}).encode()


async def no_sleep(_: float) -> None:
    return None


class Sender:
    """One generator process's webhook sender on a shared database (a second Sender is another process)."""

    def __init__(
        self, db_path: Path, attempts: int = 3, allow_private: bool = True, sleep: Any = no_sleep
    ) -> None:
        self.outbox = WebhookOutbox(SqliteDatabase(db_path))
        self.background = Background()
        self.metrics = Metrics()
        self.http = httpx.AsyncClient()
        settings = WebhookSettings(WEBHOOK_SECRET, attempts, 0.5, allow_private)
        self.webhooks = JobWebhooks(
            self.http, settings, lambda _: {}, self.metrics, self.background, self.outbox, sleep
        )

    async def close(self) -> None:
        await self.background.cancel()
        await self.http.aclose()


@pytest.fixture
async def sender(tmp_path: Path) -> AsyncIterator[Sender]:
    made = Sender(tmp_path / "db.sqlite3")
    yield made
    await made.close()


async def test_receivers_verify_deliveries_with_a_standard_webhooks_library(
    sender: Sender, receiver: tuple[Receiver, str]
) -> None:
    recv, url = receiver
    assert await sender.webhooks.deliver(sender.outbox.add(url + "/hook", BODY))
    delivered = recv.requests[0]
    assert delivered.headers["webhook-signature"].startswith("v1,")
    Webhook(WEBHOOK_SECRET).verify(delivered.body, delivered.headers)
    assert verify(WEBHOOK_SECRET, delivered.headers, delivered.body, now=time.time())
    with pytest.raises(WebhookVerificationError):
        Webhook(new_webhook_secret()).verify(delivered.body, delivered.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(WEBHOOK_SECRET).verify(delivered.body + b" ", delivered.headers)
    assert sender.outbox.pending() == 0 and sender.metrics.value("webhooks_delivered_total") == 1


async def test_retries_keep_one_id_and_back_off(tmp_path: Path, receiver: tuple[Receiver, str]) -> None:
    recv, url = receiver
    recv.statuses = [500, 503]
    delays: list[float] = []

    async def record(seconds: float) -> None:
        delays.append(seconds)

    made = Sender(tmp_path / "db.sqlite3", attempts=5, sleep=record)
    try:
        assert await made.webhooks.deliver(made.outbox.add(url, BODY))
    finally:
        await made.close()
    assert len({r.headers["webhook-id"] for r in recv.requests}) == 1 and len(recv.requests) == 3
    assert delays == [0.5, 1.0]
    assert all(Webhook(WEBHOOK_SECRET).verify(r.body, r.headers) is not None for r in recv.requests)


async def test_gives_up_after_the_budget_and_on_client_errors(
    sender: Sender, receiver: tuple[Receiver, str]
) -> None:
    recv, url = receiver
    recv.statuses = [500] * 3 + [410]
    assert not await sender.webhooks.deliver(sender.outbox.add(url, BODY))
    assert len(recv.requests) == 3
    assert not await sender.webhooks.deliver(sender.outbox.add(url, BODY))
    assert len(recv.requests) == 4  # 410 is not retried
    assert sender.outbox.pending() == 0 and sender.metrics.value("webhook_failures_total") == 2


async def test_a_delivery_outlives_the_process_that_owed_it(
    tmp_path: Path, receiver: tuple[Receiver, str]
) -> None:
    recv, url = receiver
    db = tmp_path / "db.sqlite3"
    dead = Sender(db)
    owed = dead.outbox.add(url + "/owed", BODY)  # recorded, then the process died before sending it
    await dead.close()

    stopping = Sender(db, sleep=asyncio.sleep)
    recv.statuses = [503]
    stopping.background.spawn(
        stopping.webhooks.deliver(stopping.outbox.add(url + "/stopped", BODY)), name="webhook"
    )
    await asyncio.to_thread(recv.wait_for, 1, "/stopped")
    await asyncio.sleep(0.05)  # the attempt has recorded its failure and waits out the backoff
    await stopping.close()  # shut down during the backoff: the delivery is released, not lost

    restarted = Sender(db)
    try:
        assert await restarted.webhooks.resume() == 1  # the released one is due at once
        await restarted.background.drain()
        # The dead process's lease runs out, then its delivery is taken over too.
        assert await restarted.webhooks.resume(now=time.time() + LEASE_S + 1) == 1
        await restarted.background.drain()
    finally:
        await restarted.close()
    assert {r.path for r in recv.requests} == {"/owed", "/stopped"}
    assert [r.headers["webhook-id"] for r in recv.requests if r.path == "/owed"] == [owed.id]
    assert restarted.outbox.pending() == 0


async def test_the_connection_goes_to_the_checked_address(
    sender: Sender, receiver: tuple[Receiver, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    recv, url = receiver
    port = int(url.rsplit(":", 1)[1])
    lookups: list[str] = []

    async def resolver(host: str, port: int, **_: object) -> list[tuple[Any, ...]]:
        lookups.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    monkeypatch.setattr(destinations.anyio, "getaddrinfo", resolver)
    # No resolver outside this test knows the name: only a connection to the checked address arrives.
    assert await sender.webhooks.deliver(sender.outbox.add(f"http://hooks.invalid:{port}/pinned", BODY))
    assert recv.requests[0].headers["host"] == f"hooks.invalid:{port}"
    assert lookups == ["hooks.invalid"]


async def test_non_public_addresses_are_refused_for_good(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def rebinding(host: str, port: int, **_: object) -> list[tuple[Any, ...]]:
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", port)),
        ]

    monkeypatch.setattr(destinations.anyio, "getaddrinfo", rebinding)
    made = Sender(tmp_path / "db.sqlite3", allow_private=False)
    try:
        assert not await made.webhooks.deliver(made.outbox.add("https://hooks.example/x", BODY))
    finally:
        await made.close()
    assert made.metrics.value("webhook_failures_total") == 1


def test_secrets_follow_the_standard_format() -> None:
    assert len(signing_key(new_webhook_secret())) == 32
    for bad in ("webhook-secret", "whsec_not base64!", "whsec_" + "QUJD"):
        with pytest.raises(ValueError):
            signing_key(bad)


def test_an_unreachable_receiver_is_retried_then_given_up(tmp_path: Path) -> None:
    unused = ServerThread(Receiver().app())  # bound, never started: connections are refused

    async def run() -> bool:
        made = Sender(tmp_path / "db.sqlite3", attempts=2)
        try:
            return await made.webhooks.deliver(made.outbox.add(unused.url, BODY))
        finally:
            await made.close()

    assert not asyncio.run(run())
    unused.sock.close()
