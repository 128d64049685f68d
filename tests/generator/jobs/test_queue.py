from __future__ import annotations

from typing import Any

import pytest

from imgedge.generator.config import GeneratorConfig
from imgedge.generator.errors import ApiError
from imgedge.generator.jobs.lifecycle import JobLifecycle
from imgedge.generator.jobs.local_queue import InProcessJobQueue
from imgedge.generator.jobs.queue import QueueFull
from imgedge.generator.jobs.records import Job
from imgedge.generator.jobs.repository import JobRepository
from imgedge.generator.jobs.submission import JobSubmitter
from imgedge.generator.metrics import Metrics
from imgedge.generator.models.request import GenerationRequest
from imgedge.generator.wiring import wire
from tests.generator.conftest import database_for, fixed_urls

REQUEST = GenerationRequest(prompt="queued", width=64, height=64, seed=3, steps=2, guidance=2.0)


async def never_runs(job: Job) -> str:
    raise AssertionError("no worker is started in this test")


async def ignore(job: Job) -> None:
    return None


async def test_full_queue_answers_429_with_retry_after(config: GeneratorConfig) -> None:
    # No worker is started, so nothing drains the queue while the test fills it.
    parts = wire(config, urls=fixed_urls())
    lifecycle = JobLifecycle(parts.jobs, never_runs, parts.metrics, ignore)
    queue = InProcessJobQueue(parts.jobs, lifecycle, parts.metrics, capacity=2)
    submitter = JobSubmitter(parts.policy, parts.jobs, queue, parts.metrics)
    await submitter.submit(REQUEST)
    await submitter.submit(REQUEST)
    with pytest.raises(ApiError) as refused:
        await submitter.submit(REQUEST)
    assert refused.value.status == 429
    assert int(refused.value.headers["Retry-After"]) >= 1
    assert parts.metrics.value("jobs_refused_queue_full_total") == 1
    assert queue.depth == 2
    await parts.close()


def test_recover_fails_interrupted_jobs_and_requeues_waiting_ones(config: GeneratorConfig) -> None:
    jobs = JobRepository(database_for(config))
    running = jobs.create(REQUEST)
    jobs.set_status(running.id, "running")
    waiting = [jobs.create(REQUEST) for _ in range(3)]
    assert jobs.recover(capacity=2) == [waiting[0].id, waiting[1].id]
    interrupted = jobs.get(running.id)
    assert interrupted is not None and interrupted.status == "failed" and interrupted.error
    overflow = jobs.get(waiting[2].id)
    assert overflow is not None and overflow.status == "failed"


def test_jobs_queued_before_a_restart_run_after_it(serve: Any, config: GeneratorConfig) -> None:
    jobs = JobRepository(database_for(config))
    left_over = jobs.create(REQUEST)
    served = serve(config)
    finished = served.wait_job(left_over.id)
    assert finished["status"] == "done" and finished["asset_id"]


async def test_stopping_leaves_queued_jobs_for_the_next_start(config: GeneratorConfig) -> None:
    jobs = JobRepository(database_for(config))
    metrics = Metrics()
    lifecycle = JobLifecycle(jobs, never_runs, metrics, ignore)
    queue = InProcessJobQueue(jobs, lifecycle, metrics, capacity=4)
    queue.start()
    await queue.stop()
    job = jobs.create(REQUEST)
    with pytest.raises(QueueFull):
        queue.submit(job.id)
    assert jobs.recover(capacity=4) == [job.id]
