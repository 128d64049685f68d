"""One life of a generation job, the same whether this process or an `imgedge worker` runs it:
claim → run → record done, or failed with the reason → notify."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from imgedge.generator.jobs.records import SETTLED_STATES, Job
from imgedge.generator.jobs.repository import JobRepository
from imgedge.generator.metrics import Metrics
from imgedge.imaging.errors import LibvipsFailure

log = logging.getLogger("imgedge.generator")

# Runs one job to completion and returns the asset id; raising marks the job failed with the message.
JobRunner = Callable[[Job], Awaitable[str]]
# Told about every finished job (done or failed), e.g. to send its webhook.
JobListener = Callable[[Job], Awaitable[None]]


class JobLifecycle:
    def __init__(
        self, jobs: JobRepository, runner: JobRunner, metrics: Metrics, on_finished: JobListener
    ) -> None:
        self.jobs = jobs
        self.runner = runner
        self.metrics = metrics
        self.on_finished = on_finished

    def claim(self, job_id: str, *, retry: bool = False) -> Job | None:
        """Marks the job running; None when it is unknown or not to be run. A queued job can always be
        claimed; with `retry`, so can one left running by a worker that was lost (never a settled one)."""
        job = self.jobs.get(job_id)
        if job is None or job.status in SETTLED_STATES or (job.status == "running" and not retry):
            return None
        self.jobs.set_status(job_id, "running")
        return job

    async def execute(self, job: Job, *, cancelled_reason: str | None = None) -> str:
        """Runs a claimed job and records how it ended; returns "done" or "failed".

        A cancelled run is recorded as failed with `cancelled_reason` when one is given (a time limit);
        without one it stays running, for the next start's recovery to settle."""
        try:
            asset_id = await self.runner(job)
        except asyncio.CancelledError:
            if cancelled_reason is not None:
                self.fail(job.id, cancelled_reason)
            raise
        except Exception as exc:
            log.warning("job %s failed: %s", job.id, exc)
            if isinstance(exc, LibvipsFailure):
                self.metrics.libvips_failures.inc()
            self.fail(job.id, str(exc) or type(exc).__name__)
            return "failed"
        self.jobs.set_status(job.id, "done", asset_id=asset_id)
        self.metrics.jobs_done.inc()
        return "done"

    def fail(self, job_id: str, reason: str) -> None:
        self.jobs.set_status(job_id, "failed", error=reason)
        self.metrics.jobs_failed.inc()

    async def notify(self, job_id: str) -> Job | None:
        """Tells the listener how the job ended; returns the job as recorded."""
        finished = self.jobs.get(job_id)
        if finished is not None:
            try:
                await self.on_finished(finished)
            except Exception:
                log.exception("after-job hook failed for %s", job_id)
        return finished

    async def run(self, job_id: str) -> Job | None:
        job = self.claim(job_id)
        if job is None:
            return None
        await self.execute(job)
        return await self.notify(job_id)
