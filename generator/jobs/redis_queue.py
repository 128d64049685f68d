"""Generation jobs on a Redis queue (arq), for `imgedge worker` processes to run; see docs/deploy.md.

The job row in the database stays the source of truth: the API writes it, then hands only its id to arq,
and the worker that runs it updates the row. arq keeps a job in its queue until a worker finishes it and
lets a worker's claim expire, so a worker that dies mid-job leaves the job to be run again by another one.
"""

from __future__ import annotations

import asyncio
import logging
import math
from typing import Any

from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from redis.exceptions import RedisError

from imgedge.generator import settings as S
from imgedge.generator.jobs.queue import QueueFull
from imgedge.generator.jobs.repository import JobRepository
from imgedge.generator.metrics import Metrics

log = logging.getLogger("imgedge.generator")

QUEUE_NAME = "imgedge:generate"
JOB_FUNCTION = "generate"


def queue_redis_url() -> str | None:
    return S.QUEUE_REDIS_URL.read() or None


def redis_settings(url: str) -> RedisSettings:
    try:
        return RedisSettings.from_dsn(url)
    except (ValueError, AssertionError) as exc:
        raise ValueError(f"{S.QUEUE_REDIS_URL.name} is not a redis:// URL: {url!r} ({exc})") from None


class RedisJobQueue:
    """A JobQueue whose jobs run in `imgedge worker` processes, not here."""

    def __init__(self, url: str, jobs: JobRepository, metrics: Metrics, capacity: int) -> None:
        self.jobs = jobs
        self.metrics = metrics
        self.capacity = capacity
        self._settings = redis_settings(url)
        self._pool: ArqRedis | None = None
        self._connected = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stopping = False
        # Jobs waiting or running in Redis as last counted, plus the ones on their way there.
        self._in_redis = 0
        self._in_transit = 0
        self._typical_seconds = 2.0

    @property
    def depth(self) -> int:
        return self._in_redis + self._in_transit

    def retry_after(self) -> int:
        return max(1, math.ceil((self.depth + 1) * self._typical_seconds))

    def has_room(self) -> bool:
        return not self._stopping and self.depth < self.capacity

    def submit(self, job_id: str) -> None:
        if not self.has_room():
            self.metrics.jobs_refused_queue_full.inc()
            raise QueueFull(self.retry_after())
        self._in_transit += 1
        self.metrics.queue_depth.set(self.depth)
        self._spawn(self._handed_over(job_id))

    def start(self) -> None:
        self._spawn(self._connect())

    async def stop(self) -> None:
        """Lets hand-offs in flight reach Redis; queued jobs stay in Redis for the workers."""
        self._stopping = True
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=10)
        for task in list(self._tasks):
            task.cancel()
        if self._pool is not None:
            await self._pool.aclose()

    async def _connect(self) -> None:
        while self._pool is None and not self._stopping:
            try:
                self._pool = await create_pool(self._settings, default_queue_name=QUEUE_NAME, retry=1)
            except (RedisError, OSError) as exc:
                log.warning("job queue Redis unreachable (%s); retrying", exc)
                await asyncio.sleep(1.0)
        self._connected.set()
        # Rows written while the queue was unreachable (or before a restart) and never handed over.
        # arq refuses a second job with the same id, so ids already in Redis are not doubled.
        for job_id in self.jobs.queued_ids():
            await self._enqueue(job_id)

    async def _handed_over(self, job_id: str) -> None:
        try:
            await self._enqueue(job_id)
        finally:
            self._in_transit -= 1
            self.metrics.queue_depth.set(self.depth)

    async def _enqueue(self, job_id: str) -> None:
        await self._connected.wait()
        if self._pool is None:
            return  # stopped before Redis answered; the row stays queued for the next start
        try:
            await self._pool.enqueue_job(JOB_FUNCTION, job_id, _job_id=job_id)
            self._in_redis = await self._pool.zcard(QUEUE_NAME)
        except (RedisError, OSError) as exc:
            log.warning("job %s could not be queued: %s", job_id, exc)
            self.jobs.set_status(job_id, "failed", error=f"job queue unavailable: {exc}")

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
