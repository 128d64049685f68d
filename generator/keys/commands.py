"""`imgedge keys create | list | revoke`: API keys in the configured database. Parsers only; the work is in
command_runs.py, imported when a subcommand runs."""

from __future__ import annotations

import argparse

from imgedge.generator.keys.records import parse_rate
from imgedge.generator.settings import MAX_SIDE, MAX_STEPS, RATE_PER_MINUTE
from imgedge.subcommands import Lazy, Subparsers

_RUNS = "imgedge.generator.keys.command_runs"


def _rate(raw: str) -> int:
    try:
        return parse_rate(raw)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(subparsers: Subparsers) -> None:
    keys = subparsers.add_parser(
        "keys", help="create, list and revoke API keys",
        description="API keys for the generation, upload, image and job APIs, kept (as hashes only) in the"
        " database of IMGEDGE_DATABASE_URL.",
    )  # fmt: skip
    keys_sub = keys.add_subparsers(
        dest="keys_command", required=True, metavar="{create,list,revoke}", help="what to do with keys"
    )
    create = keys_sub.add_parser("create", help="make a key; it is printed once, on the last line")
    create.add_argument(
        "--name", required=True, help="how the key shows up in lists and metrics (required: no default)"
    )
    create.add_argument(
        "--rate", type=_rate, metavar="R/min",
        help=f"requests of work per minute, e.g. 60/min (default: {RATE_PER_MINUTE.name})",
    )  # fmt: skip
    create.add_argument(
        "--daily-quota", type=int, metavar="Q", help="requests of work per UTC day (default: no quota)"
    )
    create.add_argument(
        "--max-pixels", type=int, metavar="N",
        help=f"most pixels (width x height) one request may ask for (default: {MAX_SIDE.name} squared)",
    )  # fmt: skip
    create.add_argument(
        "--max-steps", type=int, metavar="N",
        help=f"most inference steps one request may ask for (default: {MAX_STEPS.name})",
    )  # fmt: skip
    create.set_defaults(func=Lazy(f"{_RUNS}:run_create", extra="generator"))
    listing = keys_sub.add_parser("list", help="every key with its limits and today's use")
    listing.set_defaults(func=Lazy(f"{_RUNS}:run_list", extra="generator"))
    revoke = keys_sub.add_parser("revoke", help="stop a key from working, at once")
    revoke.add_argument("key", metavar="ID_OR_NAME", help="the key's id (from `keys list`) or its name")
    revoke.set_defaults(func=Lazy(f"{_RUNS}:run_revoke", extra="generator"))
