"""A bounded in-process queue with one worker per device: the model runs one job at a time."""

from __future__ import annotations

import asyncio
import math

from imgedge.generator.jobs.lifecycle import JobLifecycle
from imgedge.generator.jobs.queue import QueueFull
from imgedge.generator.jobs.repository import JobRepository
from imgedge.generator.metrics import Metrics


class InProcessJobQueue:
    def __init__(self, jobs: JobRepository, lifecycle: JobLifecycle, metrics: Metrics, capacity: int) -> None:
        self.jobs = jobs
        self.lifecycle = lifecycle
        self.metrics = metrics
        self.capacity = capacity
        self._queue: asyncio.Queue[str] = asyncio.Queue(maxsize=capacity)
        self._worker: asyncio.Task[None] | None = None
        self._stopping = False
        self._typical_seconds = 2.0

    @property
    def depth(self) -> int:
        return self._queue.qsize()

    def retry_after(self) -> int:
        return max(1, math.ceil((self.depth + 1) * self._typical_seconds))

    def has_room(self) -> bool:
        return not self._stopping and not self._queue.full()

    def submit(self, job_id: str) -> None:
        if not self.has_room():
            self.metrics.jobs_refused_queue_full.inc()
            raise QueueFull(self.retry_after())
        self._queue.put_nowait(job_id)
        self.metrics.queue_depth.set(self.depth)

    def start(self) -> None:
        for job_id in self.jobs.recover(self.capacity):
            self._queue.put_nowait(job_id)
        self.metrics.queue_depth.set(self.depth)
        self._worker = asyncio.create_task(self._work(), name="imgedge-generator-worker")

    async def stop(self) -> None:
        """Finishes the job in progress; queued jobs stay queued in the database for the next start."""
        self._stopping = True
        if self._worker is None:
            return
        await self._queue.put("")  # wake the worker; blocks only while the queue is full
        await self._worker

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            job_id = await self._queue.get()
            self.metrics.queue_depth.set(self.depth)
            if self._stopping:
                return
            started = loop.time()
            if await self.lifecycle.run(job_id) is not None:
                # A moving average keeps Retry-After honest about how fast this device actually is.
                self._typical_seconds = 0.8 * self._typical_seconds + 0.2 * (loop.time() - started)
