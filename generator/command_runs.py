"""What the generator's subcommands do (their parsers are in commands.py): `generate` and `ingest` work
in-process on the same data dir and store as the service; `worker` runs jobs from the Redis queue."""

from __future__ import annotations

import argparse
import sys
import time

from imgedge.env import ConfigError
from imgedge.generator.assets.canonical import InvalidImage, canonicalize
from imgedge.generator.assets.moderation import ModerationPolicy
from imgedge.generator.assets.records import Provenance
from imgedge.generator.config import GeneratorConfig
from imgedge.generator.errors import ApiError
from imgedge.generator.generation import make_asset
from imgedge.generator.jobs.redis_queue import queue_redis_url
from imgedge.generator.jobs.worker import WorkerConfig, build_worker
from imgedge.generator.models.backend import ModelLoadError
from imgedge.generator.models.registry import load_model
from imgedge.generator.models.request import GenerationRequest, parse_generation_request
from imgedge.generator.storage.database import open_database
from imgedge.generator.wiring import open_asset_store
from imgedge.imaging.errors import LibvipsFailure
from imgedge.imaging.requirements import require_libvips
from imgedge.observability import configure_logging
from imgedge.progress import Progress


def _fail(message: str) -> int:
    print(f"imgedge: {message}", file=sys.stderr)
    return 1


def _generation_request(args: argparse.Namespace, config: GeneratorConfig) -> GenerationRequest:
    body = {
        key: value
        for key, value in {
            "prompt": args.prompt, "aspect": args.aspect, "width": args.width, "height": args.height,
            "seed": args.seed, "steps": args.steps, "guidance": args.guidance,
            "negative_prompt": args.negative_prompt,
        }.items()
        if value is not None
    }  # fmt: skip
    return parse_generation_request(body, config)


def run_generate(args: argparse.Namespace) -> int:
    require_libvips()
    try:
        config = GeneratorConfig.from_env()
        request = _generation_request(args, config)
        policy = ModerationPolicy.from_config(config)
        if policy.check_prompt(request.prompt).state == "rejected":
            return _fail("prompt refused by the moderation policy")
        store = open_asset_store(config, open_database(config.database_url))
        started = time.perf_counter()
        with Progress("loading the model") as loading:
            loading.update()
            model = load_model(config)
        loaded = time.perf_counter()
        with Progress(f"generating {request.width}x{request.height}, step", request.steps) as steps:
            steps.update(0)
            made = make_asset(
                model, request, policy, store, temporary_ttl_s=config.temporary_ttl_s,
                on_step=lambda done, _total: steps.update(done),
            )  # fmt: skip
    except (ConfigError, ModelLoadError) as exc:
        return _fail(str(exc))
    except ApiError as exc:
        return _fail(exc.message)
    record = made.record
    print(
        f"generated {record.width}x{record.height} seed {request.seed}"
        f" in {time.perf_counter() - loaded:.2f} s"
        f" (model load {loaded - started:.2f} s), moderation {record.moderation}",
        file=sys.stderr,
    )
    print(record.id)
    return 0


def run_ingest(args: argparse.Namespace) -> int:
    require_libvips()
    try:
        config = GeneratorConfig.from_env()
    except ConfigError as exc:
        return _fail(str(exc))
    store = open_asset_store(config, open_database(config.database_url))
    failed = 0
    with Progress("ingesting", len(args.files)) as progress:
        for done, path in enumerate(args.files):
            progress.update(done, path.name)
            try:
                canonical = canonicalize(path.read_bytes(), max_pixels=config.max_pixels)
            except (OSError, InvalidImage, LibvipsFailure) as exc:
                failed += 1
                reason = _why_not(exc)
                progress.close()  # the message gets a line of its own; the next update redraws below it
                print(f"imgedge: {path}: {reason}", file=sys.stderr)
                continue
            # An operator's own images: approved, no review queue.
            record = store.put(canonical, Provenance(origin="ingest"), moderation="approved")
            print(record.id, flush=True)
    return 1 if failed else 0


def _why_not(exc: OSError | InvalidImage | LibvipsFailure) -> str:
    if isinstance(exc, LibvipsFailure):  # the file is fine: the operator gets the library's own words
        return f"libvips failed ({exc.stage}): {exc.detail}"
    return exc.message if isinstance(exc, InvalidImage) else exc.strerror or str(exc)


def run_worker(args: argparse.Namespace) -> int:
    require_libvips()
    url = queue_redis_url()
    if url is None:
        print("imgedge worker: set IMGEDGE_QUEUE_REDIS_URL to the job queue's Redis", file=sys.stderr)
        return 1
    try:
        worker = build_worker(
            WorkerConfig.from_env(args.name, metrics_port=args.metrics_port), url, burst=args.burst
        )
    except (ConfigError, ValueError) as exc:
        print(f"imgedge worker: {exc}", file=sys.stderr)
        return 1
    configure_logging()  # JSON lines off a terminal, like the services
    worker.run()
    return 0
