"""The job function `imgedge worker` processes run from the Redis queue, and their arq settings."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from arq import func
from arq.worker import Function

from imgedge.env import ConfigError
from imgedge.generator.app import load_and_warm
from imgedge.generator.config import GeneratorConfig
from imgedge.generator.redis_queue import JOB_FUNCTION
from imgedge.generator.service import GeneratorService
from imgedge.generator.store import OriginalStore
from imgedge.generator.transform_urls import TransformUrls

log = logging.getLogger("imgedge.worker")


# Longer than any real job: a worker's claim on a job lasts this long plus arq's 10 s, and only then can
# another worker retry the job of a worker that died.
DEFAULT_JOB_TIMEOUT_S = 600
# Runs a job may take before it is marked failed; each extra run means a worker died during the last one.
DEFAULT_MAX_TRIES = 3


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    name: str
    job_timeout_s: int = DEFAULT_JOB_TIMEOUT_S
    max_tries: int = DEFAULT_MAX_TRIES

    @classmethod
    def from_env(cls, name: str | None, environ: Mapping[str, str] | None = None) -> WorkerConfig:
        env = os.environ if environ is None else environ
        try:
            cfg = cls(
                name=name or f"{socket.gethostname()}-{os.getpid()}",
                job_timeout_s=int(env.get("IMGEDGE_WORKER_JOB_TIMEOUT", "") or DEFAULT_JOB_TIMEOUT_S),
                max_tries=int(env.get("IMGEDGE_WORKER_MAX_TRIES", "") or DEFAULT_MAX_TRIES),
            )
        except ValueError as exc:
            raise ConfigError(f"IMGEDGE_WORKER_JOB_TIMEOUT / IMGEDGE_WORKER_MAX_TRIES: {exc}") from None
        if cfg.job_timeout_s < 1 or cfg.max_tries < 1:
            raise ConfigError("IMGEDGE_WORKER_JOB_TIMEOUT and IMGEDGE_WORKER_MAX_TRIES must be at least 1")
        return cfg


def job_function(cfg: WorkerConfig) -> Function:
    # One try more than ours, so that after the last lost worker our function still runs, to record why.
    return func(run_generation_job, name=JOB_FUNCTION, max_tries=cfg.max_tries + 1, timeout=cfg.job_timeout_s)


async def startup(ctx: dict[str, Any]) -> None:
    config = GeneratorConfig.from_env()
    store = OriginalStore(config.data_dir)
    urls = TransformUrls.for_data_dir(config.data_dir, config.playground_widths, config.public_proxy_url)
    service = GeneratorService(config, store, urls)
    # The model is set, not started: this process runs jobs from Redis, never the in-process queue.
    service.model = await asyncio.to_thread(load_and_warm, config)
    ctx["service"] = service
    announce(ctx, "ready")


async def shutdown(ctx: dict[str, Any]) -> None:
    service: GeneratorService | None = ctx.get("service")
    if service is not None:
        await service.background.drain()
        await service.stop()


def announce(ctx: dict[str, Any], event: str) -> None:
    # One line per event on stdout, for operators and for the tests that check which worker ran what.
    print(f"imgedge worker {ctx['worker_config'].name}: {event}", flush=True)


async def run_generation_job(ctx: dict[str, Any], job_id: str) -> str | None:
    service: GeneratorService = ctx["service"]
    cfg: WorkerConfig = ctx["worker_config"]
    tries: int = ctx["job_try"]
    job = service.jobs.get(job_id)
    if job is None or job.status in ("done", "failed"):
        return None  # settled already, e.g. by a worker whose acknowledgement was lost
    if tries > cfg.max_tries:
        reason = f"worker lost {tries - 1} times while running this job"
        service.jobs.set_status(job_id, "failed", error=reason)
        service.metrics.jobs_failed += 1
        announce(ctx, f"job {job_id} failed: {reason}")
        return await _finished(service, job_id)
    service.jobs.set_status(job_id, "running")
    announce(ctx, f"job {job_id} started try {tries}")
    try:
        asset_id = await service.run_job(job)
    except asyncio.CancelledError:
        # arq cancels a job only when it runs past its timeout (SIGTERM waits for the job to finish).
        service.jobs.set_status(job_id, "failed", error=f"timed out after {cfg.job_timeout_s} s")
        announce(ctx, f"job {job_id} timed out")
        raise
    except Exception as exc:
        log.warning("job %s failed: %s", job_id, exc)
        service.jobs.set_status(job_id, "failed", error=str(exc) or type(exc).__name__)
        service.metrics.jobs_failed += 1
        announce(ctx, f"job {job_id} failed")
    else:
        service.jobs.set_status(job_id, "done", asset_id=asset_id)
        service.metrics.jobs_done += 1
        announce(ctx, f"job {job_id} done")
    return await _finished(service, job_id)


async def _finished(service: GeneratorService, job_id: str) -> str | None:
    """Sends the job's webhook; returns its final state, which arq keeps as the job's result."""
    finished = service.jobs.get(job_id)
    if finished is not None:
        await service.job_finished(finished)
    # Webhooks and variant warm-up go out before the job counts as finished in Redis.
    await service.background.drain()
    return finished.status if finished is not None else None
