"""Accepting a generation request: moderation's first look, room in the queue, a job row, the hand-off."""

from __future__ import annotations

import asyncio

from imgedge.generator.assets.moderation import ModerationPolicy
from imgedge.generator.errors import ApiError
from imgedge.generator.jobs.queue import JobQueue, QueueFull
from imgedge.generator.jobs.records import Job
from imgedge.generator.jobs.repository import JobRepository
from imgedge.generator.metrics import Metrics
from imgedge.generator.models.request import GenerationRequest


def queue_full(retry_after: int) -> ApiError:
    return ApiError(429, "generation queue is full", {"Retry-After": str(retry_after)})


class JobSubmitter:
    def __init__(
        self, policy: ModerationPolicy, jobs: JobRepository, queue: JobQueue, metrics: Metrics
    ) -> None:
        self.policy = policy
        self.jobs = jobs
        self.queue = queue
        self.metrics = metrics

    async def submit(self, request: GenerationRequest) -> Job:
        if self.policy.check_prompt(request.prompt).state == "rejected":
            # Refused before spending model time on it; still a rejection for the counters.
            self.metrics.moderation_rejections.inc()
            raise ApiError(422, "prompt refused by the moderation policy")
        if not self.queue.has_room():
            self.metrics.jobs_refused_queue_full.inc()
            raise queue_full(self.queue.retry_after())
        # The row is written off the event loop (a database server is a round trip away); the hand-off to
        # the queue stays on it, where the queue lives.
        job = await asyncio.to_thread(self.jobs.create, request)
        try:
            self.queue.submit(job.id)
        except QueueFull as full:
            await asyncio.to_thread(self.jobs.set_status, job.id, "failed", error="queue full")
            raise queue_full(full.retry_after) from None
        self.metrics.jobs_submitted.inc()
        return job
