"""What `imgedge keys create | list | revoke` do (their parsers are in commands.py)."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime

from imgedge.env import ConfigError
from imgedge.generator.config import storage_urls_from_env
from imgedge.generator.keys.records import ApiKey
from imgedge.generator.keys.repository import ApiKeyRepository
from imgedge.generator.keys.usage import utc_day
from imgedge.generator.storage.database import open_database


def _repository() -> ApiKeyRepository:
    _, database_url = storage_urls_from_env()
    return ApiKeyRepository(open_database(database_url))


def _fail(message: str) -> int:
    print(f"imgedge keys: {message}", file=sys.stderr)
    return 1


def _limits(key: ApiKey) -> str:
    rate = f"{key.rate_per_minute}/min" if key.rate_per_minute else "default rate"
    quota = f"daily quota {key.daily_quota}" if key.daily_quota else "no daily quota"
    caps = [f"{n} {name}" for n, name in ((key.max_pixels, "pixels"), (key.max_steps, "steps")) if n]
    return ", ".join([rate, quota, *(f"at most {cap}" for cap in caps)])


def run_create(args: argparse.Namespace) -> int:
    try:
        record, key = _repository().create(
            args.name, rate_per_minute=args.rate, daily_quota=args.daily_quota, max_pixels=args.max_pixels,
            max_steps=args.max_steps,
        )  # fmt: skip
    except ValueError as exc:  # a ConfigError too: settings, connections, schema
        return _fail(str(exc))
    print(f"created key {record.id} {record.name!r} ({_limits(record)})", file=sys.stderr)
    print("it is shown only now; send it as `Authorization: Bearer <key>`:", file=sys.stderr, flush=True)
    print(key)
    return 0


def run_list(_: argparse.Namespace) -> int:
    try:
        repository = _repository()
        keys = repository.all()
        used = repository.used_on(utc_day(time.time()))
    except ConfigError as exc:
        return _fail(str(exc))
    print(
        f"{'ID':<12}  {'NAME':<24}  {'RATE':>8}  {'DAILY QUOTA':>11}  {'MAX PIXELS':>10}  {'MAX STEPS':>9}  "
        f"{'TODAY':>7}  {'CREATED':<16}  STATUS"
    )
    for key in keys:
        status = "active" if not key.revoked_at else f"revoked {_when(key.revoked_at)}"
        rate = f"{key.rate_per_minute}/min" if key.rate_per_minute else "-"
        caps = f"{key.max_pixels or '-':>10}  {key.max_steps or '-':>9}"
        print(
            f"{key.id:<12}  {key.name:<24}  {rate:>8}  {key.daily_quota or '-':>11}  {caps}  "
            f"{used.get(key.id, 0):>7}  {_when(key.created_at):<16}  {status}"
        )
    return 0


def run_revoke(args: argparse.Namespace) -> int:
    try:
        revoked = _repository().revoke(args.key)
    except ConfigError as exc:
        return _fail(str(exc))
    if revoked is None:
        return _fail(f"no key with id or name {args.key!r}")
    print(f"revoked key {revoked.id} {revoked.name!r}")
    return 0


def _when(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M")
