"""`imgedge generate` and `imgedge ingest`: in-process, against the same data dir and store as the service."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from imgedge.env import ConfigError
from imgedge.generator.canonical import InvalidImage, canonicalize
from imgedge.generator.config import GeneratorConfig
from imgedge.generator.errors import ApiError
from imgedge.generator.generation import generate
from imgedge.generator.generation_request import ASPECTS, parse_generation_request
from imgedge.generator.model_loader import ModelLoadError, load_model
from imgedge.generator.moderation import ModerationPolicy
from imgedge.generator.store import OriginalStore, Provenance


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    gen = subparsers.add_parser("generate", help="generate an image from a prompt and print its asset id")
    gen.add_argument("prompt")
    gen.add_argument("--aspect", choices=list(ASPECTS), default=None)
    gen.add_argument("--width", type=int, default=None)
    gen.add_argument("--height", type=int, default=None)
    gen.add_argument("--seed", type=int, default=None)
    gen.add_argument("--steps", type=int, default=None)
    gen.add_argument("--guidance", type=float, default=None)
    gen.add_argument("--negative-prompt", default=None)
    gen.set_defaults(func=run_generate)

    ingest = subparsers.add_parser("ingest", help="store existing images and print one asset id per line")
    ingest.add_argument("files", nargs="+", type=Path, metavar="FILE")
    ingest.set_defaults(func=run_ingest)


def _fail(message: str) -> int:
    print(f"imgedge: {message}", file=sys.stderr)
    return 1


def run_generate(args: argparse.Namespace) -> int:
    try:
        config = GeneratorConfig.from_env()
        body = {
            key: value
            for key, value in {
                "prompt": args.prompt, "aspect": args.aspect, "width": args.width, "height": args.height,
                "seed": args.seed, "steps": args.steps, "guidance": args.guidance,
                "negative_prompt": args.negative_prompt,
            }.items()
            if value is not None
        }  # fmt: skip
        request = parse_generation_request(body, config)
        policy = ModerationPolicy.from_config(config)
        if policy.check_prompt(request.prompt).state == "rejected":
            return _fail("prompt refused by the moderation policy")
        started = time.perf_counter()
        model = load_model(config)
        loaded = time.perf_counter()
        generated = generate(model, request)
        verdict = policy.check_generated(request.prompt, generated.flagged)
        record = OriginalStore(config.data_dir).put(
            generated.canonical,
            generated.provenance,
            moderation=verdict.state,
            moderation_reason=verdict.reason,
        )
    except (ConfigError, ModelLoadError) as exc:
        return _fail(str(exc))
    except ApiError as exc:
        return _fail(exc.message)
    print(
        f"generated {record.width}x{record.height} seed {request.seed}"
        f" in {time.perf_counter() - loaded:.2f} s"
        f" (model load {loaded - started:.2f} s), moderation {record.moderation}",
        file=sys.stderr,
    )
    print(record.id)
    return 0


def run_ingest(args: argparse.Namespace) -> int:
    try:
        config = GeneratorConfig.from_env()
    except ConfigError as exc:
        return _fail(str(exc))
    store = OriginalStore(config.data_dir)
    failed = 0
    for path in args.files:
        try:
            canonical = canonicalize(path.read_bytes(), max_pixels=config.max_pixels)
        except OSError as exc:
            failed += 1
            print(f"imgedge: {path}: {exc.strerror or exc}", file=sys.stderr)
            continue
        except InvalidImage as exc:
            failed += 1
            print(f"imgedge: {path}: {exc.message}", file=sys.stderr)
            continue
        # An operator's own images: approved, no review queue.
        record = store.put(canonical, Provenance(origin="ingest"), moderation="approved")
        print(record.id, flush=True)
    return 1 if failed else 0
