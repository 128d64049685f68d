"""Per-key rate limits and daily quotas, counted in the database so that every API host sees one count.

The rate limit is a sliding window over two one-minute counters (the previous minute weighted by how much
of it still lies within the last 60 s, plus the current minute), as Cloudflare and nginx-style limiters
estimate it: close to exact, two rows per key. The quota counts per UTC day. A request is counted and judged
in one transaction, and a refused one is rolled back, so refusals never use up the quota.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from imgedge.generator.keys.records import ApiKey
from imgedge.generator.storage.database import Connection, Database

_BUMP = (
    "INSERT INTO api_key_usage (key_id, period, count) VALUES (?, ?, 1)"
    " ON CONFLICT (key_id, period) DO UPDATE SET count = api_key_usage.count + 1 RETURNING count"
)
DAY_S = 86_400


@dataclass(frozen=True, slots=True)
class Refusal:
    reason: str  # rate | quota
    message: str
    retry_after: int


class _Refused(Exception):
    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.message)
        self.refusal = refusal


def utc_day(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d")


def _minute(index: int) -> str:
    # Fixed width, so string order is time order and one range query finds the old windows.
    return f"m:{index:012d}"


def rate_retry_after(rate: float, previous: int, before: int, elapsed: float) -> int:
    """Seconds until one more request fits, given the previous minute's count, this minute's count before
    the refused request, and the fraction of this minute gone."""
    if previous > 0 and before + 1 <= rate:
        # Within this minute, once enough of the previous one has slid out of the window.
        return max(1, math.ceil(60 * (1 - elapsed) - 60 * (rate - before - 1) / previous))
    into_next = max(0.0, 1 - (rate - 1) / before) if before else 0.0
    return max(1, math.ceil(60 * (1 - elapsed) + 60 * into_next))


class UsageMeter:
    def __init__(
        self, database: Database, default_rate_per_minute: float, clock: Callable[[], float] = time.time
    ) -> None:
        self.database = database
        self.default_rate = default_rate_per_minute
        self.clock = clock

    def charge(self, key: ApiKey) -> Refusal | None:
        """Counts one request against the key; returns why it is refused instead, if it is."""
        now = self.clock()
        try:
            with self.database.transaction() as db:
                self._count_and_judge(db, key, now)
        except _Refused as refused:
            return refused.refusal
        return None

    def _count_and_judge(self, db: Connection, key: ApiKey, now: float) -> None:
        rate = key.rate_per_minute or self.default_rate
        minute, elapsed = int(now // 60), (now % 60) / 60
        current = int(db.execute(_BUMP, (key.id, _minute(minute))).fetchone()[0])
        row = db.execute(
            "SELECT count FROM api_key_usage WHERE key_id = ? AND period = ?", (key.id, _minute(minute - 1))
        ).fetchone()
        previous = 0 if row is None else int(row[0])
        if previous * (1 - elapsed) + current > rate:
            wait = rate_retry_after(rate, previous, current - 1, elapsed)
            raise _Refused(Refusal("rate", f"rate limit of {rate:g} requests per minute exceeded", wait))
        used = int(db.execute(_BUMP, (key.id, f"d:{utc_day(now)}")).fetchone()[0])
        if key.daily_quota is not None and used > key.daily_quota:
            until_midnight = max(1, math.ceil(DAY_S - now % DAY_S))
            raise _Refused(
                Refusal("quota", f"daily quota of {key.daily_quota} requests used up", until_midnight)
            )
        db.execute(
            "DELETE FROM api_key_usage WHERE key_id = ? AND period >= 'm:' AND period < ?",
            (key.id, _minute(minute - 1)),
        )
