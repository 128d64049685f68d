"""Telling a client its job finished: a signed POST to the webhook URL it gave, off the request path."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from imgedge.generator.background import Background
from imgedge.generator.config import GeneratorConfig
from imgedge.generator.jobs.records import Job
from imgedge.generator.metrics import Metrics
from imgedge.generator.outbound.destinations import ForbiddenDestination, check_destination
from imgedge.generator.outbound.webhooks import deliver
from imgedge.web.redact import url_for_logs

log = logging.getLogger("imgedge.generator")

# The asset's public description for the payload, by asset id.
DescribeAsset = Callable[[str], dict[str, object]]


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


class JobWebhooks:
    def __init__(
        self,
        http: httpx.AsyncClient,
        settings: WebhookSettings,
        describe: DescribeAsset,
        metrics: Metrics,
        background: Background,
    ) -> None:
        self.http = http
        self.settings = settings
        self.describe = describe
        self.metrics = metrics
        self.background = background

    async def job_finished(self, job: Job) -> None:
        if job.request.webhook_url:
            self.background.spawn(self._send(job, job.request.webhook_url), name=f"webhook-{job.id}")

    async def _send(self, job: Job, url: str) -> None:
        try:
            # Again at delivery: the name may resolve differently than when the job was submitted.
            await check_destination(url, allow_private=self.settings.allow_private)
        except ForbiddenDestination as exc:
            self.metrics.webhook_failures += 1
            log.warning("webhook for job %s not sent: %s", job.id, exc)
            return
        payload = {"event": "job." + job.status, "job": job.to_json()}
        if job.asset_id is not None:
            payload["image"] = self.describe(job.asset_id)
        delivered = await deliver(
            self.http, url, payload, secret=self.settings.secret,
            attempts=self.settings.attempts, backoff_s=self.settings.backoff_s,
        )  # fmt: skip
        if not delivered:
            self.metrics.webhook_failures += 1
            log.warning("webhook for job %s to %s was not delivered", job.id, url_for_logs(url))
