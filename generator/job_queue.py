"""A bounded in-process queue with one worker per device: the model runs one job at a time."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable

from imgedge.generator.jobs import Job, JobStore
from imgedge.generator.metrics import Metrics

log = logging.getLogger("imgedge.generator")

# Runs one job to completion and returns the asset id; raising marks the job failed with the message.
JobRunner = Callable[[Job], Awaitable[str]]
# Told about every finished job (done or failed), e.g. to send its webhook.
JobListener = Callable[[Job], Awaitable[None]]


class QueueFull(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__("queue full")
        self.retry_after = retry_after


class JobQueue:
    def __init__(
        self, jobs: JobStore, runner: JobRunner, metrics: Metrics, capacity: int, on_finished: JobListener
    ) -> None:
        self.jobs = jobs
        self.runner = runner
        self.metrics = metrics
        self.capacity = capacity
        self.on_finished = on_finished
        self._queue: asyncio.Queue[str] = asyncio.Queue(maxsize=capacity)
        self._worker: asyncio.Task[None] | None = None
        self._stopping = False
        self._typical_seconds = 2.0

    @property
    def depth(self) -> int:
        return self._queue.qsize()

    def retry_after(self) -> int:
        return max(1, math.ceil((self.depth + 1) * self._typical_seconds))

    def submit(self, job_id: str) -> None:
        if self._stopping or self._queue.full():
            self.metrics.jobs_refused_queue_full += 1
            raise QueueFull(self.retry_after())
        self._queue.put_nowait(job_id)
        self.metrics.queue_depth = self.depth

    def has_room(self) -> bool:
        return not self._stopping and not self._queue.full()

    def start(self) -> None:
        for job_id in self.jobs.recover(self.capacity):
            self._queue.put_nowait(job_id)
        self.metrics.queue_depth = self.depth
        self._worker = asyncio.create_task(self._work(), name="imgedge-generator-worker")

    async def stop(self) -> None:
        """Finishes the job in progress; queued jobs stay queued in the database for the next start."""
        self._stopping = True
        if self._worker is None:
            return
        await self._queue.put("")  # wake the worker; blocks only while the queue is full
        await self._worker

    async def _work(self) -> None:
        while True:
            job_id = await self._queue.get()
            self.metrics.queue_depth = self.depth
            if self._stopping:
                return
            await self._run_one(job_id)

    async def _run_one(self, job_id: str) -> None:
        job = self.jobs.get(job_id)
        if job is None or job.status != "queued":
            return
        self.jobs.set_status(job_id, "running")
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            asset_id = await self.runner(job)
        except Exception as exc:
            log.warning("job %s failed: %s", job_id, exc)
            self.jobs.set_status(job_id, "failed", error=str(exc) or type(exc).__name__)
            self.metrics.jobs_failed += 1
        else:
            self.jobs.set_status(job_id, "done", asset_id=asset_id)
            self.metrics.jobs_done += 1
        # A moving average keeps Retry-After honest about how fast this device actually is.
        self._typical_seconds = 0.8 * self._typical_seconds + 0.2 * (loop.time() - started)
        finished = self.jobs.get(job_id)
        if finished is not None:
            try:
                await self.on_finished(finished)
            except Exception:
                log.exception("after-job hook failed for %s", job_id)
