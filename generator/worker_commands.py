"""`imgedge worker`: run generation jobs from the Redis queue (IMGEDGE_QUEUE_REDIS_URL)."""

from __future__ import annotations

import argparse
import logging
import sys

from arq.worker import Worker

from imgedge.env import ConfigError
from imgedge.generator.redis_queue import QUEUE_NAME, queue_redis_url, redis_settings
from imgedge.generator.worker import WorkerConfig, job_function, shutdown, startup


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    worker = subparsers.add_parser("worker", help="run generation jobs from the Redis queue")
    worker.add_argument("--name", default=None, help="how this worker names itself in logs (host-pid)")
    worker.add_argument("--burst", action="store_true", help="exit once the queue is empty")
    worker.set_defaults(func=run_worker)


def run_worker(args: argparse.Namespace) -> int:
    url = queue_redis_url()
    if url is None:
        print("imgedge worker: set IMGEDGE_QUEUE_REDIS_URL to the job queue's Redis", file=sys.stderr)
        return 1
    try:
        cfg = WorkerConfig.from_env(args.name)
        settings = redis_settings(url)
    except (ConfigError, ValueError) as exc:
        print(f"imgedge worker: {exc}", file=sys.stderr)
        return 1
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    worker = Worker(
        functions=[job_function(cfg)],
        queue_name=QUEUE_NAME,
        redis_settings=settings,
        on_startup=startup,
        on_shutdown=shutdown,
        ctx={"worker_config": cfg},
        # The model runs one job at a time; a second would only wait for the same cores or GPU.
        max_jobs=1,
        job_timeout=cfg.job_timeout_s,
        max_tries=cfg.max_tries + 1,
        burst=args.burst,
        # SIGTERM lets the job in progress finish rather than cancelling it for a retry.
        job_completion_wait=cfg.job_timeout_s,
        keep_result=3600,
    )
    worker.run()
    return 0
