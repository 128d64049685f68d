"""The one job lifecycle both queues use: claim → run → record done/failed with the reason → notify."""

from __future__ import annotations

import asyncio

import pytest

from imgedge.generator.config import GeneratorConfig
from imgedge.generator.jobs.lifecycle import JobLifecycle
from imgedge.generator.jobs.records import Job
from imgedge.generator.jobs.repository import JobRepository
from imgedge.generator.metrics import Metrics
from imgedge.generator.models.request import GenerationRequest
from tests.generator.conftest import database_for

REQUEST = GenerationRequest(prompt="p", width=64, height=64, seed=1, steps=1, guidance=1.0)


class Recorder:
    def __init__(self, outcome: str | BaseException) -> None:
        self.outcome = outcome
        self.ran: list[str] = []
        self.told: list[tuple[str, str]] = []

    async def run(self, job: Job) -> str:
        self.ran.append(job.id)
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome

    async def finished(self, job: Job) -> None:
        self.told.append((job.id, job.status))


def lifecycle_for(config: GeneratorConfig, recorder: Recorder) -> tuple[JobLifecycle, JobRepository, Metrics]:
    jobs, metrics = JobRepository(database_for(config)), Metrics()
    return JobLifecycle(jobs, recorder.run, metrics, recorder.finished), jobs, metrics


async def test_a_job_runs_once_and_its_listener_hears_how_it_ended(config: GeneratorConfig) -> None:
    recorder = Recorder("a" * 32)
    lifecycle, jobs, metrics = lifecycle_for(config, recorder)
    job = jobs.create(REQUEST)
    finished = await lifecycle.run(job.id)
    assert finished is not None and (finished.status, finished.asset_id) == ("done", "a" * 32)
    assert recorder.told == [(job.id, "done")] and metrics.value("jobs_done_total") == 1
    # Settled: a second hand-off of the same id (a lost acknowledgement) runs nothing.
    assert await lifecycle.run(job.id) is None
    assert lifecycle.claim(job.id, retry=True) is None
    assert recorder.ran == [job.id]


async def test_a_failure_is_recorded_with_its_reason(config: GeneratorConfig) -> None:
    recorder = Recorder(RuntimeError("out of memory"))
    lifecycle, jobs, metrics = lifecycle_for(config, recorder)
    job = jobs.create(REQUEST)
    finished = await lifecycle.run(job.id)
    assert finished is not None and (finished.status, finished.error) == ("failed", "out of memory")
    assert recorder.told == [(job.id, "failed")] and metrics.value("jobs_failed_total") == 1


async def test_a_job_left_running_is_claimed_again_only_on_retry(config: GeneratorConfig) -> None:
    lifecycle, jobs, _ = lifecycle_for(config, Recorder("b" * 32))
    job = jobs.create(REQUEST)
    assert lifecycle.claim(job.id) is not None
    # The in-process queue never takes a running job; a worker retrying after a lost one does.
    assert lifecycle.claim(job.id) is None
    claimed = lifecycle.claim(job.id, retry=True)
    assert claimed is not None and await lifecycle.execute(claimed) == "done"


async def test_a_cancelled_run_is_failed_with_the_given_reason(config: GeneratorConfig) -> None:
    lifecycle, jobs, _ = lifecycle_for(config, Recorder(asyncio.CancelledError()))
    timed_out, interrupted = jobs.create(REQUEST), jobs.create(REQUEST)
    for job, reason in ((timed_out, "timed out after 5 s"), (interrupted, None)):
        claimed = lifecycle.claim(job.id)
        assert claimed is not None
        with pytest.raises(asyncio.CancelledError):
            await lifecycle.execute(claimed, cancelled_reason=reason)
    recorded = jobs.get(timed_out.id)
    assert recorded is not None and (recorded.status, recorded.error) == ("failed", "timed out after 5 s")
    # Without a reason the row stays running, for the next start's recovery to settle.
    left = jobs.get(interrupted.id)
    assert left is not None and left.status == "running"
