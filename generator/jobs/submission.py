"""Accepting a generation request: moderation's first look, room in the queue, a job row, the hand-off."""

from __future__ import annotations

import asyncio

from imgedge.generator.assets.moderation import ModerationPolicy
from imgedge.generator.errors import ApiError
from imgedge.generator.jobs.owners import JobOwners
from imgedge.generator.jobs.queue import JobQueue, QueueFull
from imgedge.generator.jobs.records import Job
from imgedge.generator.jobs.repository import JobRepository
from imgedge.generator.metrics import Metrics
from imgedge.generator.models.request import GenerationRequest
from imgedge.generator.security.clients import too_many_jobs
from imgedge.origin_protocol import MODERATION_HEADER


def prompt_refused() -> ApiError:
    # The moderation header tells machines (the proxy's prompt URLs answer 451) what the message tells people.
    return ApiError(422, "prompt refused by the moderation policy", {MODERATION_HEADER: "rejected"})


def queue_full(retry_after: int) -> ApiError:
    return ApiError(429, "generation queue is full", {"Retry-After": str(retry_after)})


class JobSubmitter:
    def __init__(
        self,
        policy: ModerationPolicy,
        jobs: JobRepository,
        queue: JobQueue,
        metrics: Metrics,
        owners: JobOwners | None = None,
    ) -> None:
        self.policy = policy
        self.jobs = jobs
        self.queue = queue
        self.metrics = metrics
        self.owners = owners
        self._counting = asyncio.Lock()

    async def submit(
        self,
        request: GenerationRequest,
        *,
        owner: str = "",
        max_jobs: int | None = None,
        job_id: str | None = None,
    ) -> Job:
        """`owner`'s queued + running jobs stay below `max_jobs` (429); `job_id` when the caller reserved one
        (an identical request's single-flight, jobs/reuse.py)."""
        if self.policy.check_prompt(request.prompt).state == "rejected":
            # Refused before spending model time on it; still a rejection for the counters.
            self.metrics.moderation_rejections.inc()
            raise prompt_refused()
        if max_jobs is None or self.owners is None:
            return await self._enqueue(request, owner, job_id)
        # Held from the count to the new row, so this process cannot let two requests past one free slot.
        async with self._counting:
            if await asyncio.to_thread(self.owners.active, owner) >= max_jobs:
                self.metrics.jobs_refused_rate_limited.inc()
                raise too_many_jobs(max_jobs)
            return await self._enqueue(request, owner, job_id)

    async def _enqueue(self, request: GenerationRequest, owner: str, job_id: str | None) -> Job:
        if not self.queue.has_room():
            self.metrics.jobs_refused_queue_full.inc()
            raise queue_full(self.queue.retry_after())
        # The rows are written off the event loop (a database server is a round trip away); the hand-off to
        # the queue stays on it, where the queue lives.
        job = await asyncio.to_thread(self._create, request, owner, job_id)
        try:
            self.queue.submit(job.id)
        except QueueFull as full:
            await asyncio.to_thread(self.jobs.set_status, job.id, "failed", error="queue full")
            raise queue_full(full.retry_after) from None
        self.metrics.jobs_submitted.inc()
        return job

    def _create(self, request: GenerationRequest, owner: str, job_id: str | None) -> Job:
        job = self.jobs.create(request, job_id)
        if self.owners is not None and owner:
            self.owners.record(job.id, owner)
        return job
