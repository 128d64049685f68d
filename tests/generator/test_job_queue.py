from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from imgedge.generator.config import GeneratorConfig
from imgedge.generator.errors import ApiError
from imgedge.generator.generation_request import GenerationRequest
from imgedge.generator.jobs import JobStore
from imgedge.generator.service import GeneratorService
from imgedge.generator.store import OriginalStore
from tests.generator.conftest import fixed_urls

REQUEST = GenerationRequest(prompt="queued", width=64, height=64, seed=3, steps=2, guidance=2.0)


async def test_full_queue_answers_429_with_retry_after(config: GeneratorConfig) -> None:
    # No worker is started, so nothing drains the queue while the test fills it.
    service = GeneratorService(replace(config, queue_size=2), OriginalStore(config.data_dir), fixed_urls())
    service.submit(REQUEST)
    service.submit(REQUEST)
    with pytest.raises(ApiError) as refused:
        service.submit(REQUEST)
    assert refused.value.status == 429
    assert int(refused.value.headers["Retry-After"]) >= 1
    assert service.metrics.jobs_refused_queue_full == 1
    assert service.queue.depth == 2
    await service.http.aclose()


def test_recover_fails_interrupted_jobs_and_requeues_waiting_ones(config: GeneratorConfig) -> None:
    jobs = JobStore(config.db_path)
    running = jobs.create(REQUEST)
    jobs.set_status(running.id, "running")
    waiting = [jobs.create(REQUEST) for _ in range(3)]
    assert jobs.recover(capacity=2) == [waiting[0].id, waiting[1].id]
    interrupted = jobs.get(running.id)
    assert interrupted is not None and interrupted.status == "failed" and interrupted.error
    overflow = jobs.get(waiting[2].id)
    assert overflow is not None and overflow.status == "failed"


def test_jobs_queued_before_a_restart_run_after_it(serve: Any, config: GeneratorConfig) -> None:
    jobs = JobStore(config.db_path)
    left_over = jobs.create(REQUEST)
    served = serve(config)
    finished = served.wait_job(left_over.id)
    assert finished["status"] == "done" and finished["asset_id"]
