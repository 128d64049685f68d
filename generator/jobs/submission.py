"""Accepting a generation request: moderation's first look, room in the queue, a job row, the hand-off."""

from __future__ import annotations

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

    def submit(
        self,
        request: GenerationRequest,
        *,
        owner: str = "",
        max_jobs: int | None = None,
        job_id: str | None = None,
    ) -> Job:
        """`owner`'s queued + running jobs stay below `max_jobs` (429); nothing awaits between the count and
        the new row, so one process cannot let two requests past one free slot."""
        if self.policy.check_prompt(request.prompt).state == "rejected":
            # Refused before spending model time on it; still a rejection for the counters.
            self.metrics.moderation_rejections.inc()
            raise prompt_refused()
        if max_jobs is not None and self.owners is not None and self.owners.active(owner) >= max_jobs:
            self.metrics.jobs_refused_rate_limited.inc()
            raise too_many_jobs(max_jobs)
        if not self.queue.has_room():
            self.metrics.jobs_refused_queue_full.inc()
            raise queue_full(self.queue.retry_after())
        job = self.jobs.create(request, job_id)
        if self.owners is not None and owner:
            self.owners.record(job.id, owner)
        try:
            self.queue.submit(job.id)
        except QueueFull as full:
            self.jobs.set_status(job.id, "failed", error="queue full")
            raise queue_full(full.retry_after) from None
        self.metrics.jobs_submitted.inc()
        return job
