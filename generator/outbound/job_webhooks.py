"""Telling a client its job finished: a Standard Webhooks delivery to the URL it gave, off the request path,
recorded in the outbox first so that retries survive a restart."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx

from imgedge.generator.background import Background
from imgedge.generator.config import GeneratorConfig
from imgedge.generator.jobs.records import Job
from imgedge.generator.metrics import Metrics
from imgedge.generator.outbound.signing import signing_key
from imgedge.generator.outbound.webhook_outbox import Delivery, WebhookOutbox
from imgedge.generator.outbound.webhooks import attempt

log = logging.getLogger("imgedge.generator")

# The asset's public description for the payload, by asset id.
DescribeAsset = Callable[[str], dict[str, object]]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class WebhookSettings:
    secret: str
    attempts: int
    backoff_s: float
    allow_private: bool

    @classmethod
    def from_config(cls, config: GeneratorConfig) -> WebhookSettings:
        return cls(
            config.webhook_secret, config.webhook_attempts, config.webhook_backoff_s,
            config.webhook_allow_private,
        )  # fmt: skip


def payload(job: Job, image: dict[str, object] | None) -> bytes:
    """The Standard Webhooks payload shape: `type`, `timestamp` (ISO 8601) and `data`."""
    data: dict[str, object] = {"job": job.to_json()}
    if image is not None:
        data["image"] = image
    event = {
        "type": f"job.{job.status}",
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "data": data,
    }
    return json.dumps(event, separators=(",", ":"), sort_keys=True).encode()


class JobWebhooks:
    def __init__(
        self, http: httpx.AsyncClient, settings: WebhookSettings, describe: DescribeAsset, metrics: Metrics,
        background: Background, outbox: WebhookOutbox, sleep: Sleep = asyncio.sleep,
    ) -> None:  # fmt: skip
        self.http = http
        self.settings = settings
        self.key = signing_key(settings.secret) if settings.secret else None
        self.describe = describe
        self.metrics = metrics
        self.background = background
        self.outbox = outbox
        self.sleep = sleep

    async def job_finished(self, job: Job) -> None:
        url = job.request.webhook_url
        if not url:
            return
        if self.key is None:
            self.metrics.webhook_failures.inc()
            log.warning("webhook for job %s not sent: no IMGEDGE_WEBHOOK_SECRET", job.id)
            return
        image = self.describe(job.asset_id) if job.asset_id is not None else None
        delivery = self.outbox.add(url, payload(job, image))
        self.background.spawn(self.deliver(delivery), name=f"webhook-{delivery.id}")

    async def resume(self, now: float | None = None) -> int:
        """Takes over deliveries whose process stopped before finishing them; returns how many."""
        if self.key is None:
            return 0
        claimed = self.outbox.claim_due(now)
        for delivery in claimed:
            self.background.spawn(self.deliver(delivery), name=f"webhook-{delivery.id}")
        if claimed:
            log.info("resuming %d webhook deliveries", len(claimed))
        return len(claimed)

    async def deliver(self, delivery: Delivery) -> bool:
        """Tries until delivered, refused for good, or out of attempts, with exponential backoff."""
        assert self.key is not None
        attempts = delivery.attempts
        try:
            while True:
                outcome, detail = await attempt(
                    self.http, delivery, self.key, allow_private=self.settings.allow_private
                )
                attempts += 1
                if outcome == "delivered":
                    self.outbox.finish(delivery.id)
                    self.metrics.webhooks_delivered.inc()
                    return True
                if outcome == "permanent" or attempts >= self.settings.attempts:
                    self.outbox.finish(delivery.id)
                    self.metrics.webhook_failures.inc()
                    host = urlsplit(delivery.url).hostname
                    log.warning(
                        "webhook %s to %s given up after %d attempts: %s", delivery.id, host, attempts, detail
                    )
                    return False
                delay = self.settings.backoff_s * 2 ** (attempts - 1)
                log.info(
                    "webhook %s attempt %d failed (%s); next in %.1f s", delivery.id, attempts, detail, delay
                )
                self.outbox.retry_later(delivery.id, attempts, delay)
                await self.sleep(delay)
        except asyncio.CancelledError:
            # Shutting down: due again now, so the next start (of any API process) resumes it at once.
            self.outbox.release(delivery.id, attempts)
            raise
