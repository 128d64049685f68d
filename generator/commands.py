"""The generator's subcommands of `imgedge`: `generate` and `ingest` work in-process on the same data dir
and store as the service; `worker` runs jobs from the Redis queue. Parsers only: the work is in
command_runs.py, imported when a subcommand runs (so the core install without extras can show --help)."""

from __future__ import annotations

from pathlib import Path

from imgedge.generator import settings as S
from imgedge.generator.keys import commands as keys_commands
from imgedge.generator.storage import commands as storage_commands
from imgedge.subcommands import Lazy, Subparsers

_RUNS = "imgedge.generator.command_runs"
# The aspect ratios of imgedge.generator.models.request, repeated so that registering imports nothing heavy.
ASPECT_CHOICES = ("1:1", "16:9", "9:16", "4:3", "3:4")


def register(subparsers: Subparsers) -> None:
    gen = subparsers.add_parser(
        "generate", help="generate an image from a prompt and print its asset id",
        description="Generate one image in this process (same data dir, store and model as the service) and"
        " print its asset id. Progress goes to stderr when it is a terminal.",
    )  # fmt: skip
    gen.add_argument("prompt", help="what to generate")
    gen.add_argument("--aspect", choices=ASPECT_CHOICES, default=None, help="aspect ratio (default: 1:1)")
    gen.add_argument("--width", type=int, default=None, help="width in px, a multiple of 8 (default: 512)")
    gen.add_argument("--height", type=int, default=None, help="height in px, a multiple of 8 (default: 512)")
    gen.add_argument(
        "--seed", type=int, default=None, help="the same seed gives the same image (default: random)"
    )
    gen.add_argument(
        "--steps", type=int, default=None, help=f"inference steps (default: {S.DEFAULT_STEPS.name})"
    )
    gen.add_argument(
        "--guidance", type=float, default=None, help=f"guidance scale (default: {S.DEFAULT_GUIDANCE.name})"
    )
    gen.add_argument("--negative-prompt", default=None, help="what to steer away from (default: none)")
    gen.set_defaults(func=Lazy(f"{_RUNS}:run_generate", extra="generator"))

    ingest = subparsers.add_parser(
        "ingest", help="store existing images and print one asset id per line",
        description="Store image files as approved originals and print one asset id per line. Progress goes"
        " to stderr when it is a terminal.",
    )  # fmt: skip
    ingest.add_argument("files", nargs="+", type=Path, metavar="FILE", help="image files to store")
    ingest.set_defaults(func=Lazy(f"{_RUNS}:run_ingest", extra="generator"))

    worker = subparsers.add_parser(
        "worker", help="run generation jobs from the Redis queue",
        description=f"Run generation jobs from the Redis queue at {S.QUEUE_REDIS_URL.name}, and serve this"
        f" worker's Prometheus metrics on {S.WORKER_METRICS_PORT.name}.",
    )  # fmt: skip
    worker.add_argument(
        "--name", default=None, help="how this worker names itself in logs (default: HOST-PID)"
    )
    worker.add_argument("--burst", action="store_true", help="exit once the queue is empty")
    worker.add_argument(
        "--metrics-port", type=int, default=None, metavar="PORT",
        help=f"port of this worker's /metrics, 0 for none (default: {S.WORKER_METRICS_PORT.name},"
        f" {S.WORKER_METRICS_PORT.default_text})",
    )  # fmt: skip
    worker.set_defaults(func=Lazy(f"{_RUNS}:run_worker", extra="generator"))

    keys_commands.register(subparsers)
    storage_commands.register(subparsers)
