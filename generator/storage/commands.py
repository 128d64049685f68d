"""`imgedge db upgrade` and `imgedge migrate --to-store URL --to-database URL`. Parsers only; the work is in
command_runs.py, imported when a subcommand runs."""

from __future__ import annotations

from imgedge import common_settings as C
from imgedge.subcommands import Lazy, Subparsers

_RUNS = "imgedge.generator.storage.command_runs"


def register(subparsers: Subparsers) -> None:
    db = subparsers.add_parser(
        "db", help="the metadata database's schema",
        description=f"Schema migrations of the database at {C.DATABASE_URL.name} (default: the SQLite file"
        " in the data dir). Every start applies missing ones too; this does it ahead of a rollout.",
    )  # fmt: skip
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="{upgrade}", help="what to do")
    upgrade = db_sub.add_parser("upgrade", help="apply the schema migrations this database lacks")
    upgrade.set_defaults(func=Lazy(f"{_RUNS}:run_db_upgrade", extra="generator"))

    migrate = subparsers.add_parser(
        "migrate", help="copy this installation's originals and metadata into other backends, and verify",
        description=f"Copy the originals and rows of the installation configured now ({C.DATA_DIR.name}, or"
        f" {C.STORE_URL.name} and {C.DATABASE_URL.name}) into the given backends, then check the asset"
        " count and every original's content hash. Safe to run again after an interruption.",
    )  # fmt: skip
    migrate.add_argument(
        "--to-store", required=True, metavar="URL",
        help="s3://BUCKET/PREFIX or file:///DIR (required: no default)",
    )  # fmt: skip
    migrate.add_argument(
        "--to-database", required=True, metavar="URL",
        help="postgresql://USER:PASSWORD@HOST/DB or sqlite:///FILE (required: no default)",
    )  # fmt: skip
    migrate.set_defaults(func=Lazy(f"{_RUNS}:run_migrate", extra="generator"))
