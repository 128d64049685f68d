"""`imgedge worker`: arq runs generation jobs from the Redis queue through the same JobLifecycle as the
in-process queue; this module adds arq's settings, the retry limit for lost workers, and announcements."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from arq import func
from arq.worker import Function, Worker
from prometheus_client import start_http_server

from imgedge import common_settings as C
from imgedge.generator import settings as S
from imgedge.generator.background import Background
from imgedge.generator.config import GeneratorConfig
from imgedge.generator.jobs.lifecycle import JobLifecycle
from imgedge.generator.jobs.redis_queue import JOB_FUNCTION, QUEUE_NAME, redis_settings
from imgedge.generator.models.registry import load_and_warm
from imgedge.generator.wiring import Parts, default_transform_urls, wire

# Longer than any real job: a worker's claim on a job lasts this long plus arq's 10 s, and only then can
# another worker retry the job of a worker that died.
DEFAULT_JOB_TIMEOUT_S = S.WORKER_JOB_TIMEOUT.default
# Runs a job may take before it is marked failed; each extra run means a worker died during the last one.
DEFAULT_MAX_TRIES = S.WORKER_MAX_TRIES.default

log = logging.getLogger("imgedge.worker")


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    name: str
    job_timeout_s: int = DEFAULT_JOB_TIMEOUT_S
    max_tries: int = DEFAULT_MAX_TRIES
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 0  # 0: no metrics endpoint

    @classmethod
    def from_env(
        cls, name: str | None, environ: Mapping[str, str] | None = None, *, metrics_port: int | None = None
    ) -> WorkerConfig:
        return cls(
            name=name or f"{socket.gethostname()}-{os.getpid()}",
            job_timeout_s=S.WORKER_JOB_TIMEOUT.read(environ),
            max_tries=S.WORKER_MAX_TRIES.read(environ),
            metrics_host=C.HOST.read(environ),
            metrics_port=S.WORKER_METRICS_PORT.read(environ) if metrics_port is None else metrics_port,
        )


def job_function(cfg: WorkerConfig) -> Function:
    # One try more than ours, so that after the last lost worker our function still runs, to record why.
    return func(run_generation_job, name=JOB_FUNCTION, max_tries=cfg.max_tries + 1, timeout=cfg.job_timeout_s)


def build_worker(cfg: WorkerConfig, redis_url: str, *, burst: bool) -> Worker:
    return Worker(
        functions=[job_function(cfg)],
        queue_name=QUEUE_NAME,
        redis_settings=redis_settings(redis_url),
        on_startup=startup,
        on_shutdown=shutdown,
        ctx={"worker_config": cfg},
        # The model runs one job at a time; a second would only wait for the same cores or GPU.
        max_jobs=1,
        job_timeout=cfg.job_timeout_s,
        max_tries=cfg.max_tries + 1,
        burst=burst,
        # SIGTERM lets the job in progress finish rather than cancelling it for a retry.
        job_completion_wait=cfg.job_timeout_s,
        keep_result=3600,
    )


async def startup(ctx: dict[str, Any]) -> None:
    config = GeneratorConfig.from_env()
    # This process runs jobs from Redis, never the in-process queue: no queue and no janitor here.
    parts = wire(config, urls=default_transform_urls(config))
    parts.model.model = await asyncio.to_thread(load_and_warm, config)
    ctx["parts"] = parts
    ctx["lifecycle"] = parts.lifecycle
    ctx["background"] = parts.background
    ctx["metrics_server"] = serve_metrics(ctx["worker_config"], parts)
    announce(ctx, "ready")


def serve_metrics(cfg: WorkerConfig, parts: Parts) -> Any:
    """This worker's own /metrics: a worker on another host shares no directory with the API to aggregate
    through, so each one is a scrape target. A port that is taken costs the metrics, never the jobs."""
    if not cfg.metrics_port:
        return None
    try:
        server, _thread = start_http_server(
            cfg.metrics_port, cfg.metrics_host, registry=parts.metrics.registry
        )
    except OSError as exc:
        log.warning(
            "worker metrics not served on %s:%d: %s", cfg.metrics_host, cfg.metrics_port, exc,
            extra={"fields": {"worker": cfg.name, "setting": S.WORKER_METRICS_PORT.name}},
        )  # fmt: skip
        return None
    log.info(
        "worker metrics on http://%s:%d/metrics", cfg.metrics_host, cfg.metrics_port,
        extra={"fields": {"worker": cfg.name}},
    )  # fmt: skip
    return server


async def shutdown(ctx: dict[str, Any]) -> None:
    parts: Parts | None = ctx.get("parts")
    if parts is not None:
        await parts.background.drain()
        await parts.close()
    server = ctx.get("metrics_server")
    if server is not None:
        server.shutdown()
        server.server_close()


def announce(ctx: dict[str, Any], event: str) -> None:
    # One log line per event, for operators and for the tests that check which worker ran what.
    name = ctx["worker_config"].name
    log.info("worker %s: %s", name, event, extra={"fields": {"worker": name, "event": event}})


async def run_generation_job(ctx: dict[str, Any], job_id: str) -> str | None:
    """Returns the job's final state, which arq keeps as the job's result."""
    lifecycle: JobLifecycle = ctx["lifecycle"]
    background: Background = ctx["background"]
    cfg: WorkerConfig = ctx["worker_config"]
    tries: int = ctx["job_try"]
    # A job left running was held by a worker that died; settled ones were finished by a worker whose
    # acknowledgement to Redis was lost.
    job = lifecycle.claim(job_id, retry=True)
    if job is None:
        return None
    if tries > cfg.max_tries:
        reason = f"worker lost {tries - 1} times while running this job"
        lifecycle.fail(job_id, reason)
        announce(ctx, f"job {job_id} failed: {reason}")
    else:
        announce(ctx, f"job {job_id} started try {tries}")
        try:
            status = await lifecycle.execute(job, cancelled_reason=f"timed out after {cfg.job_timeout_s} s")
        except asyncio.CancelledError:
            # arq cancels a job only when it runs past its timeout (SIGTERM waits for the job to finish).
            announce(ctx, f"job {job_id} timed out")
            raise
        announce(ctx, f"job {job_id} {status}")
    finished = await lifecycle.notify(job_id)
    # Webhooks and variant warm-up go out before the job counts as finished in Redis.
    await background.drain()
    return finished.status if finished is not None else None
