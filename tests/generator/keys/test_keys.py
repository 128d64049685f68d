"""API keys and their usage counts on both engines."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from imgedge.generator.keys.records import ApiKey, key_hash, parse_rate
from imgedge.generator.keys.repository import ApiKeyRepository, DuplicateKeyName
from imgedge.generator.keys.usage import UsageMeter, rate_retry_after, utc_day
from imgedge.generator.storage.database import Database

NOON = 1_767_268_800.0  # 2026-01-01T12:00:00Z, a minute boundary


def test_create_find_list_and_revoke(database: Database) -> None:
    keys = ApiKeyRepository(database)
    assert not keys.any_exist()
    record, key = keys.create("site", rate_per_minute=60, daily_quota=1000)
    assert key.startswith("ie_") and len(key) > 40
    with database.transaction() as db:
        stored = [tuple(r) for r in db.execute("SELECT * FROM api_keys").fetchall()]
    assert key not in repr(stored) and key_hash(key) in repr(stored)  # only the hash is kept
    assert keys.by_key(key) == record and keys.by_key(key + "x") is None and keys.by_key("") is None
    with pytest.raises(DuplicateKeyName):
        keys.create("site", rate_per_minute=None, daily_quota=None)
    other, _ = keys.create("batch", rate_per_minute=None, daily_quota=None)
    assert [k.name for k in keys.all()] == ["site", "batch"] and keys.any_exist()
    revoked = keys.revoke("site")
    assert revoked is not None and revoked.revoked and keys.by_key(key) == revoked
    assert keys.revoke(other.id) is not None and keys.revoke("nobody") is None
    assert keys.any_exist()  # revoked keys still mean "keys are in use"


def test_caps_are_kept_with_the_key(database: Database) -> None:
    keys = ApiKeyRepository(database)
    record, key = keys.create(
        "capped", rate_per_minute=None, daily_quota=None, max_pixels=262_144, max_steps=8
    )
    assert (record.max_pixels, record.max_steps) == (262_144, 8)
    assert keys.by_key(key) == record and keys.all() == [record]
    uncapped, _ = keys.create("free", rate_per_minute=None, daily_quota=None)
    assert (uncapped.max_pixels, uncapped.max_steps) == (None, None) and keys.all()[1] == uncapped
    for caps, message in (({"max_pixels": 4095}, "at least 4096"), ({"max_steps": 0}, "at least 1")):
        with pytest.raises(ValueError, match=message):
            keys.create("bad", rate_per_minute=None, daily_quota=None, **caps)


def test_names_and_rates_are_checked() -> None:
    assert parse_rate("60/min") == 60 and parse_rate("2/s") == 120
    for bad in ("0/min", "60", "1/h", "x/min"):
        with pytest.raises(ValueError):
            parse_rate(bad)


def test_bad_names_are_refused(database: Database) -> None:
    for bad in ("", "-x", "a b", "x" * 65, "ünï"):
        with pytest.raises(ValueError):
            ApiKeyRepository(database).create(bad, rate_per_minute=None, daily_quota=None)


def key_with(database: Database, rate: int | None, quota: int | None) -> ApiKey:
    record, _ = ApiKeyRepository(database).create("k", rate_per_minute=rate, daily_quota=quota)
    return record


def test_the_rate_limit_slides_over_two_minutes(database: Database) -> None:
    now = [NOON]
    meter = UsageMeter(database, default_rate_per_minute=30, clock=lambda: now[0])
    key = key_with(database, rate=4, quota=None)
    assert [meter.charge(key) for _ in range(4)] == [None] * 4
    refused = meter.charge(key)
    # Sliding, not fixed: a quarter into the next minute, 4 * 0.75 + 1 <= 4.
    assert refused is not None and refused.reason == "rate" and refused.retry_after == 75
    # Half-way through the next minute, half of the previous one still counts: 4 * 0.5 + 1 <= 4 twice.
    now[0] = NOON + 90
    assert meter.charge(key) is None and meter.charge(key) is None
    refused = meter.charge(key)
    assert refused is not None and refused.retry_after == 15
    now[0] += refused.retry_after
    assert meter.charge(key) is None


def test_the_daily_quota_and_refusals_do_not_count(database: Database) -> None:
    now = [NOON]
    meter = UsageMeter(database, default_rate_per_minute=1000, clock=lambda: now[0])
    key = key_with(database, rate=None, quota=3)
    assert [meter.charge(key) for _ in range(3)] == [None] * 3
    for _ in range(3):
        refused = meter.charge(key)
        assert refused is not None and refused.reason == "quota" and refused.retry_after == 12 * 3600
    assert ApiKeyRepository(database).used_on(utc_day(NOON)) == {key.id: 3}
    now[0] = NOON + 12 * 3600  # a new UTC day
    assert meter.charge(key) is None


def test_a_quota_holds_under_concurrent_callers(database: Database) -> None:
    meter = UsageMeter(database, default_rate_per_minute=10_000)
    key = replace(key_with(database, rate=None, quota=10), rate_per_minute=10_000)
    allowed: list[bool] = []
    barrier = threading.Barrier(8)

    def call() -> None:
        barrier.wait()
        for _ in range(4):
            allowed.append(meter.charge(key) is None)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert allowed.count(True) == 10 and len(allowed) == 32


def test_retry_after_is_when_one_more_request_fits() -> None:
    # 10 last minute, 5 so far, a quarter in, rate 10: 10 * (1 - 0.25 - t/60) + 6 <= 10 → t = 21 s.
    assert rate_retry_after(10, previous=10, before=5, elapsed=0.25) == 21
    # Nothing last minute, this one full: into the next, until 10 * (1 - f) + 1 <= 10 → f = 0.1 (6 s).
    assert rate_retry_after(10, previous=0, before=10, elapsed=0.5) == 36
